// The `@example` blocks of every package's TSDoc, as programs: the docs check runs them against the
// sources (snippets.test.ts), the packaging check against the packed packages, as ESM and CommonJS
// (scripts/packaging.mts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One `@example`, ready to be written out as a module. */
export interface TsdocExample {
  /** The package whose sources hold it, e.g. `@bulwark/core`. */
  readonly packageName: string;
  /** Where it comes from, for messages: `packages/core/src/policy.ts @example 2`. */
  readonly origin: string;
  /** A file name for it, unique in the repository: `packages-core-src-policy-ts-example-2.ts`. */
  readonly file: string;
  /**
   * Its import declarations, one a line: `assert`, the package's exports it uses without importing
   * them (as docs-ts does), then its own imports, hoisted above the rest.
   */
  readonly imports: readonly string[];
  /** The rest of the example. */
  readonly body: string;
  /** False when the example says `// typecheck-only`. */
  readonly run: boolean;
}

const exists = (path: string): boolean => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

/** The value names a module exports, re-exported (`export { a } from`) or declared (`export const a`). */
export function valueExports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const names: string[] = [];
  for (const match of source.matchAll(/^export \{([^}]*)\} from/gm)) {
    for (const name of (match[1] ?? '').split(',')) {
      const clean = name
        .trim()
        .split(/\s+as\s+/)
        .pop();
      if (clean !== undefined && clean !== '' && !clean.startsWith('type ')) names.push(clean);
    }
  }
  for (const match of source.matchAll(/^export (?:const|function|class|abstract class) ([A-Za-z_$][\w$]*)/gm)) {
    if (match[1] !== undefined) names.push(match[1]);
  }
  return names;
}

/** Every `@example` in the sources of the packages under `repo/packages` (not in `src/internal`). */
export function tsdocExamples(repo: string): TsdocExample[] {
  const examples: TsdocExample[] = [];
  const slug = (path: string): string => relative(repo, path).replace(/[^a-zA-Z0-9]+/g, '-');
  for (const pkg of readdirSync(join(repo, 'packages'))) {
    const pkgDir = join(repo, 'packages', pkg);
    if (!exists(join(pkgDir, 'src', 'index.ts'))) continue;
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
      name: string;
      exports?: Record<string, string | { '@bulwark/source'?: string }>;
    };
    // Source file -> the subpath entry it is (`src/fp.ts` -> `@bulwark/core/fp`).
    const subpaths = new Map<string, string>();
    for (const [key, target] of Object.entries(manifest.exports ?? {})) {
      const source = typeof target === 'object' ? target['@bulwark/source'] : undefined;
      if (key !== '.' && source !== undefined) subpaths.set(join(pkgDir, source), `${manifest.name}${key.slice(1)}`);
    }
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) {
          if (entry !== 'internal') walk(path);
          continue;
        }
        if (!entry.endsWith('.ts')) continue;
        const source = readFileSync(path, 'utf8');
        // Examples see the package's main exports and, in another entry point (fp.ts), that entry's own.
        const scope: [string, string[]][] = [[manifest.name, valueExports(join(pkgDir, 'src', 'index.ts'))]];
        const subpath = subpaths.get(path);
        if (subpath !== undefined) scope.push([subpath, valueExports(path)]);
        const pattern = /@example\s*\n\s*\*\s*```ts\n([\s\S]*?)\n\s*\*\s*```/g;
        for (let match = pattern.exec(source), n = 1; match !== null; match = pattern.exec(source), n++) {
          const body = (match[1] ?? '')
            .split('\n')
            .map((line) => line.replace(/^\s*\* ?/, ''))
            .join('\n');
          const imported = new Set(
            [...body.matchAll(/import\s*\{([^}]*)\}/g)].flatMap((m) => (m[1] ?? '').split(',').map((s) => s.trim())),
          );
          const header = ["import assert from 'node:assert/strict';"];
          for (const [from, names] of scope) {
            const used = names.filter((name) => !imported.has(name) && new RegExp(`\\b${name}\\b`).test(body));
            if (used.length > 0) header.push(`import { ${used.join(', ')} } from '${from}';`);
          }
          // Imports written in the example must come first: hoist them above the rest of its body.
          const lines = body.split('\n');
          examples.push({
            packageName: manifest.name,
            origin: `${relative(repo, path)} @example ${n}`,
            file: `${slug(path)}-example-${n}.ts`,
            imports: [...header, ...lines.filter((line) => /^import\s/.test(line))],
            body: lines.filter((line) => !/^import\s/.test(line)).join('\n'),
            run: !/^\s*\/\/ typecheck-only/m.test(body),
          });
        }
      }
    };
    walk(join(pkgDir, 'src'));
  }
  return examples;
}
