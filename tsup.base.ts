import type { Options } from 'tsup';

/** The build every package shares: ESM and CommonJS with types, for Node 20. */
export function packageBuild(entry: string[]): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    tsconfig: '../../tsconfig.build.json',
  };
}
