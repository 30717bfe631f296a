// The pack-time hook that keeps the "@bulwark/source" condition out of published manifests
// (docs/adr/0002-packaging.md). The packaging test checks real tarballs; this checks the edges.
import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';

type Manifest = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the hook is CommonJS, as pnpm loads it
const { hooks } = require(join(__dirname, '..', '..', '.pnpmfile.cjs')) as {
  hooks: { beforePacking: (pkg: Manifest) => Manifest };
};

const entry = (name: string) => ({
  '@bulwark/source': `./src/${name}.ts`,
  import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
  require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
});

describe('.pnpmfile.cjs beforePacking', () => {
  it('drops the source condition from every entry, and the repository-only fields', () => {
    const packed = hooks.beforePacking({
      name: '@bulwark/example',
      main: './dist/index.cjs',
      exports: { '.': entry('index'), './fp': entry('fp'), './package.json': './package.json' },
      scripts: { build: 'tsup' },
      dependencies: { '@bulwark/core': '^0.1.0' },
      devDependencies: { '@bulwark/testkit': 'workspace:^' },
    });
    expect(packed).toEqual({
      name: '@bulwark/example',
      main: './dist/index.cjs',
      exports: {
        '.': { import: entry('index').import, require: entry('index').require },
        './fp': { import: entry('fp').import, require: entry('fp').require },
        './package.json': './package.json',
      },
      dependencies: { '@bulwark/core': '^0.1.0' },
    });
  });

  it('drops the condition when it is nested under another one', () => {
    const packed = hooks.beforePacking({
      name: '@bulwark/example',
      exports: { '.': { node: { '@bulwark/source': './src/index.ts', default: './dist/index.js' } } },
    });
    expect(packed['exports']).toEqual({ '.': { node: { default: './dist/index.js' } } });
  });

  it('refuses a manifest that still points outside dist/, naming where', () => {
    expect(() =>
      hooks.beforePacking({ name: '@bulwark/example', exports: { '.': { development: './src/index.ts' } } }),
    ).toThrow('@bulwark/example: a published package.json may only point into ./dist/, found exports.".".');
    expect(() => hooks.beforePacking({ name: '@bulwark/example', types: './src/index.ts' })).toThrow(
      'types -> ./src/index.ts',
    );
  });
});
