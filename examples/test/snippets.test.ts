// Every fenced TypeScript block in the READMEs and docs, and every `@example` in the packages' TSDoc,
// is type-checked and run here, so the documentation cannot rot.
//
// A block fenced as ```ts typecheck-only is checked but not run (e.g. it registers Jest tests);
// ```ts ignore is neither (pseudo-code). TSDoc examples get `assert` and their package's exports
// in scope, as docs-ts does.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { tsdocExamples } from './tsdoc-examples.js';

interface Snippet {
  /** Where it comes from, for messages: `packages/core/README.md#2`. */
  readonly origin: string;
  readonly file: string;
  readonly code: string;
  readonly run: boolean;
}

const repo = join(__dirname, '..', '..');
const outDir = join(__dirname, '..', '.snippets');

function markdownFiles(): string[] {
  const files = [join(repo, 'README.md')];
  for (const pkg of readdirSync(join(repo, 'packages'))) {
    const readme = join(repo, 'packages', pkg, 'README.md');
    if (exists(readme)) files.push(readme);
  }
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.md')) files.push(path);
    }
  };
  walk(join(repo, 'docs'));
  return files;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

const slug = (path: string): string => relative(repo, path).replace(/[^a-zA-Z0-9]+/g, '-');

function fromMarkdown(path: string): Snippet[] {
  const text = readFileSync(path, 'utf8');
  const snippets: Snippet[] = [];
  const fence = /^```(ts|typescript)([^\n]*)\n([\s\S]*?)^```/gm;
  for (let match = fence.exec(text), n = 1; match !== null; match = fence.exec(text), n++) {
    const flags = (match[2] ?? '').trim();
    if (flags.includes('ignore')) continue;
    snippets.push({
      origin: `${relative(repo, path)}#${n}`,
      file: `${slug(path)}-${n}.ts`,
      code: match[3] ?? '',
      run: !flags.includes('typecheck-only'),
    });
  }
  return snippets;
}

function fromTsdoc(): Snippet[] {
  return tsdocExamples(repo).map((example) => ({
    origin: example.origin,
    file: example.file,
    code: [...example.imports, 'void assert;', example.body, 'export {};'].join('\n'),
    run: example.run,
  }));
}

const snippets = [...markdownFiles().flatMap(fromMarkdown), ...fromTsdoc()];

function exec(
  command: string,
  args: string[],
  cwd: string,
  timeout = 120_000,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout, env: { ...process.env, NODE_NO_WARNINGS: '1' } }, (error, stdout, stderr) =>
      resolve({
        code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
        output: `${stdout}${stderr}`,
      }),
    );
  });
}

describe('documentation snippets', () => {
  beforeAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'package.json'), '{ "type": "module", "private": true }\n');
    writeFileSync(
      join(outDir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.base.json',
        compilerOptions: {
          composite: false,
          noEmit: true,
          emitDeclarationOnly: false,
          declaration: false,
          declarationMap: false,
          noUnusedLocals: false,
        },
        include: ['*.ts'],
      }),
    );
    for (const snippet of snippets) {
      const code = /^\s*(import|export)\s/m.test(snippet.code) ? snippet.code : `${snippet.code}\nexport {};\n`;
      writeFileSync(join(outDir, snippet.file), `// From ${snippet.origin}\n${code}`);
    }
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('finds snippets', () => {
    expect(snippets.length).toBeGreaterThan(5);
  });

  it('type-checks every snippet', async () => {
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const { code, output } = await exec(process.execPath, [tsc, '-p', join(outDir, 'tsconfig.json')], outDir);
    if (code !== 0) throw new Error(`snippets do not type-check:\n${output}`);
  }, 180_000);

  // Several at once: each is a separate Node process, mostly waiting on its own start-up.
  it.concurrent.each(snippets.filter((s) => s.run).map((s) => [s.origin, s.file] as const))(
    'runs %s',
    async (_origin, file) => {
      const { code, output } = await exec(
        process.execPath,
        ['--import', 'tsx', '--conditions=@bulwark/source', file],
        outDir,
        60_000,
      );
      if (code !== 0) throw new Error(`${file} exited with ${code}:\n${output}`);
    },
    60_000,
  );
});
