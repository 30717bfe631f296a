import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';

import type { Options } from 'tsup';
import ts from 'typescript';

/**
 * The build every package shares (see docs/adr/0002-packaging.md): ESM and CommonJS for Node 20, each
 * with its own bundled declarations (`.d.ts` beside the ESM files, `.d.cts` beside the CommonJS ones).
 * Run from the package's directory, as `pnpm run build` does.
 *
 * The declarations are those `tsc -b` emits for the package's project (the same, incremental build
 * that `pnpm typecheck` runs), bundled per entry point by tsup. Bundling `.d.ts` files is a parse;
 * letting tsup emit declarations from the sources instead type-checks every package a second time,
 * which made a full build several times slower.
 *
 * @param entry - The package's entry points, e.g. `['src/index.ts', 'src/fp.ts']`: `dist/index.js`,
 *   `dist/index.cjs`, `dist/index.d.ts`, `dist/index.d.cts`, and the same for `fp`.
 */
export function packageBuild(entry: string[]): Options {
  const packageDir = process.cwd();
  const names = entryNames(entry);
  const declarations = emitDeclarations(packageDir, names);
  return {
    entry: names,
    format: ['esm', 'cjs'],
    dts: { entry: declarations },
    // CommonJS too: entries of one package share one copy of their common modules (one `Scope` class),
    // as the ESM build does; without it each .cjs entry would carry its own.
    splitting: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    tsconfig: '../../tsconfig.build.json',
  };
}

/** Output names as tsup gives them: each entry's path from the entries' common folder, without extension. */
function entryNames(entry: string[]): Record<string, string> {
  const dirs = entry.map((file) => dirname(resolve(file)).split(/[\\/]/));
  const common = (dirs[0] ?? []).filter((part, i) => dirs.every((d) => d[i] === part)).join('/');
  return Object.fromEntries(
    entry.map((file) => [relative(common, resolve(file)).replace(/\.[cm]?tsx?$/, ''), file] as const),
  );
}

/** Runs `tsc -b` on the package's tsconfig.json and returns, per entry name, the declaration file it emitted. */
function emitDeclarations(packageDir: string, names: Record<string, string>): Record<string, string> {
  const configPath = join(packageDir, 'tsconfig.json');
  const tsc = createRequire(configPath).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-b', configPath], { cwd: packageDir, stdio: 'inherit' });
  } catch {
    throw new Error(`tsc -b ${relative(process.cwd(), configPath)} failed: the package does not type-check`);
  }
  const config = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  const outDir = config?.options.outDir;
  const rootDir = config?.options.rootDir ?? join(packageDir, 'src');
  if (outDir === undefined) throw new Error(`${configPath}: compilerOptions.outDir is required for declarations`);
  return Object.fromEntries(
    Object.entries(names).map(([name, file]) => {
      const source = relative(rootDir, resolve(packageDir, file));
      const declaration = join(outDir, dirname(source), `${basename(source).replace(/\.[cm]?tsx?$/, '')}.d.ts`);
      if (!existsSync(declaration)) {
        throw new Error(`tsc -b emitted no ${relative(packageDir, declaration)} for the entry ${file}`);
      }
      return [name, declaration];
    }),
  );
}
