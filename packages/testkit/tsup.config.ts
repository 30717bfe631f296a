import { defineConfig } from 'tsup';

import { packageBuild } from '../../tsup.base';

// Named entries: fake-posthog lands flat in dist/ (dist/fake-posthog.js), fake-oilprice in dist/fake-oilprice/.
const entry = {
  index: 'src/index.ts',
  'fake-posthog': 'src/fake-posthog/index.ts',
  'fake-oilprice/index': 'src/fake-oilprice/index.ts',
};

export default defineConfig({
  ...packageBuild(['src/index.ts']),
  entry,
  dts: { entry },
});
