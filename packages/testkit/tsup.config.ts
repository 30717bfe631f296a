import { defineConfig } from 'tsup';

import { packageBuild } from '../../tsup.base';

// Named entries so every entry point lands flat in dist/ (dist/fake-posthog.js), as the packaging check expects.
const entry = { index: 'src/index.ts', 'fake-posthog': 'src/fake-posthog/index.ts' };

export default defineConfig({
  ...packageBuild(['src/index.ts']),
  entry,
  dts: { entry },
});
