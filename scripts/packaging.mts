/**
 * What users install, checked: every package under packages/ is built, packed with `pnpm pack`,
 * linted (our manifest rules, publint --strict, are-the-types-wrong), installed from its tarball into
 * a temporary project without the network, and loaded there by plain ESM and CommonJS programs that
 * run its TSDoc examples. Bundle sizes are measured here too. See docs/adr/0002-packaging.md.
 *
 *   tsx scripts/packaging.mts check [--no-build] [--report FILE] [--keep]
 *   tsx scripts/packaging.mts size [--no-build] [--markdown]
 *
 * `check` exits 1 when anything is wrong; `--report` writes the findings as JSON (the Jest test
 * reads them), `--keep` leaves the temporary project for a look. `size` prints each entry point's
 * minified and gzipped size and exits 1 when one is over its budget (SIZE_BUDGETS).
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { problemKindInfo } from '@arethetypeswrong/core/problems';
import { build, transform, type Plugin } from 'esbuild';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

import { tsdocExamples, type TsdocExample } from '../examples/test/tsdoc-examples.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pnpm = join(repo, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');

/**
 * Size budgets in bytes, minified and gzipped, per package and entry point: CI fails above them.
 * Core's main entry (what every call runs) must stay under 3 KB (issue 13; docs/adr/0002-packaging.md
 * says where the bytes go and why the option checks live in an entry of their own).
 */
export const SIZE_BUDGETS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  '@bulwark/core': { '.': 3000 },
};

type Conditions = { readonly [condition: string]: string | Conditions };

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly main?: string;
  readonly module?: string;
  readonly types?: string;
  readonly exports?: { readonly [subpath: string]: string | Conditions };
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

interface WorkspacePackage {
  readonly dir: string;
  readonly manifest: Manifest;
}

/** How one entry point looked from one module system. */
interface EntryView {
  /** The file the specifier resolved to. */
  readonly file?: string;
  /** Export names with `typeof` each, sorted. */
  readonly exports?: readonly string[];
  readonly error?: string;
}

interface ExampleRun {
  readonly origin: string;
  readonly ok: boolean;
  readonly error?: string;
}

/** The findings for one package; every list empty means all is well. */
export interface PackageReport {
  readonly name: string;
  readonly tarball: string;
  readonly files: readonly string[];
  /** Our rules on the packed package.json and files. */
  readonly manifest: readonly string[];
  readonly publint: readonly string[];
  readonly attw: readonly string[];
  /** Entry points whose exports differ between `import` and `require`, or fail to load. */
  readonly entries: readonly string[];
  readonly examples: { readonly esm: readonly ExampleRun[]; readonly cjs: readonly ExampleRun[] };
}

export interface SizeRow {
  readonly name: string;
  readonly entry: string;
  readonly minified: number;
  /** Minified and gzipped, its @bulwark dependencies included: what it adds to an application. */
  readonly gzipped: number;
  /** The same without its @bulwark dependencies: its own code. */
  readonly ownGzipped: number;
  readonly budget?: number;
}

export interface Report {
  readonly packages: readonly PackageReport[];
  readonly sizes: readonly SizeRow[];
  /** Failures outside any one package (the build, the install). */
  readonly errors: readonly string[];
}

// ---------------------------------------------------------------------------------------------------
// Processes

interface Exit {
  readonly code: number;
  readonly output: string;
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs = 600_000): Promise<Exit> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      // No inherited NODE_OPTIONS: a `--conditions=@bulwark/source` there would load the sources.
      { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0' } },
      (error, stdout, stderr) =>
        done({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          output: `${stdout}${stderr}`,
        }),
    );
  });
}

/** Runs `tasks` with at most `limit` at once, keeping their order in the results. */
async function pool<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------------------
// The workspace

/** Every package under packages/ that is published (not `"private": true`). */
export function workspacePackages(): WorkspacePackage[] {
  const root = join(repo, 'packages');
  return readdirSync(root)
    .map((name) => join(root, name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }))
    .filter((pkg) => pkg.manifest.private !== true)
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

/** `pnpm build`: every package, dependencies first. */
async function buildAll(): Promise<Exit> {
  return run(process.execPath, [pnpm, 'run', 'build'], repo);
}

/** The ESM file (`import` → `default`) an export of a manifest names, if it is the usual shape. */
function importTarget(value: string | Conditions | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  const imported = value['import'];
  if (typeof imported === 'string') return imported;
  if (imported !== undefined && typeof imported['default'] === 'string') return imported['default'];
  return undefined;
}

/** The export subpaths that are modules (`.`, `./fp`), not `./package.json`. */
const moduleSubpaths = (manifest: Manifest): string[] =>
  Object.keys(manifest.exports ?? {}).filter((subpath) => !subpath.endsWith('.json'));

const specifier = (name: string, subpath: string): string => (subpath === '.' ? name : `${name}/${subpath.slice(2)}`);

// ---------------------------------------------------------------------------------------------------
// Bundle sizes

/**
 * Third-party imports stay out of the bundle (an application has them once, shared); @bulwark ones
 * go in, unless `own` (the entry point's own code only).
 */
const externals = (own: boolean): Plugin => ({
  name: 'externals',
  setup(context) {
    context.onResolve({ filter: /^[^./]/ }, (args) =>
      !own && args.path.startsWith('@bulwark/') ? undefined : { path: args.path, external: true },
    );
  },
});

async function minifiedBundle(entry: string, own: boolean): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [externals(own)],
  });
  return result.outputFiles[0]?.contents ?? new Uint8Array();
}

/**
 * Minified and gzipped size of each entry point's ESM build (dist/, so build first), bundled the way
 * an application bundler would: its @bulwark dependencies inside, third-party dependencies outside.
 */
export async function bundleSizes(packages: readonly WorkspacePackage[]): Promise<SizeRow[]> {
  const rows: SizeRow[] = [];
  for (const { dir, manifest } of packages) {
    for (const subpath of moduleSubpaths(manifest)) {
      const target = importTarget(manifest.exports?.[subpath]);
      if (target === undefined || !existsSync(join(dir, target))) {
        throw new Error(`${manifest.name}: no ESM build for "${subpath}" (${String(target)}); build first`);
      }
      const code = await minifiedBundle(join(dir, target), false);
      const own = await minifiedBundle(join(dir, target), true);
      const budget = SIZE_BUDGETS[manifest.name]?.[subpath];
      rows.push({
        name: manifest.name,
        entry: subpath,
        minified: code.byteLength,
        gzipped: gzipSync(code, { level: 9 }).byteLength,
        ownGzipped: gzipSync(own, { level: 9 }).byteLength,
        ...(budget !== undefined ? { budget } : {}),
      });
    }
  }
  return rows;
}

const overBudget = (rows: readonly SizeRow[]): string[] =>
  rows
    .filter((row) => row.budget !== undefined && row.gzipped > row.budget)
    .map(
      (row) =>
        `${specifier(row.name, row.entry)} is ${row.gzipped} bytes minified and gzipped, over its budget of ${String(row.budget)}`,
    );

function sizeTable(rows: readonly SizeRow[]): string {
  const lines = [
    '| entry point | minified | min+gzip | own code, min+gzip | budget |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    const budget = row.budget === undefined ? '' : `${row.budget} B`;
    lines.push(
      `| \`${specifier(row.name, row.entry)}\` | ${row.minified} B | ${row.gzipped} B | ${row.ownGzipped} B | ${budget} |`,
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Packing and linting the tarballs

async function packAll(destination: string): Promise<Map<string, string>> {
  const { code, output } = await run(
    process.execPath,
    [pnpm, '-r', '--filter', './packages/**', 'pack', '--pack-destination', destination, '--json'],
    repo,
  );
  if (code !== 0) throw new Error(`pnpm pack failed:\n${output}`);
  const tarballs = new Map<string, string>();
  for (const file of readdirSync(destination)) {
    if (!file.endsWith('.tgz')) continue;
    const files = createPackageFromTarballData(new Uint8Array(readFileSync(join(destination, file))));
    tarballs.set(files.packageName, join(destination, file));
  }
  return tarballs;
}

const ALLOWED_FILES = /^(dist\/.+|package\.json|README\.md|LICENSE(\.md|\.txt)?)$/;

/** Our rules for a packed manifest, beyond what publint checks. */
function manifestProblems(manifest: Manifest, files: ReadonlySet<string>, versions: ReadonlyMap<string, string>) {
  const problems: string[] = [];
  const text = JSON.stringify(manifest);
  if (text.includes('@bulwark/source')) problems.push('the "@bulwark/source" condition is still in package.json');
  for (const field of ['dependencies', 'peerDependencies'] as const) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (range.startsWith('workspace:')) problems.push(`${field}.${dep} is still "${range}"`);
      const version = versions.get(dep);
      if (version !== undefined && range !== `^${version}`) {
        problems.push(`${field}.${dep} is "${range}", expected "^${version}" (the workspace's version)`);
      }
    }
  }
  if (manifest.devDependencies !== undefined) problems.push('devDependencies are packed');
  const targets: [string, string][] = [];
  for (const field of ['main', 'module', 'types'] as const) {
    const value = manifest[field];
    if (value !== undefined) targets.push([field, value]);
  }
  const walk = (value: string | Conditions, where: string): void => {
    if (typeof value === 'string') targets.push([where, value]);
    else for (const [key, inner] of Object.entries(value)) walk(inner, `${where}.${key}`);
  };
  for (const [subpath, value] of Object.entries(manifest.exports ?? {})) walk(value, `exports["${subpath}"]`);
  for (const [where, target] of targets) {
    if (!target.startsWith('./dist/') && target !== './package.json')
      problems.push(`${where} points outside dist/: ${target}`);
    else if (!files.has(target.slice(2))) problems.push(`${where} names ${target}, which is not in the tarball`);
  }
  // Each module entry: import → .d.ts + .js, require → .d.cts + .cjs (docs/adr/0002-packaging.md).
  for (const subpath of moduleSubpaths(manifest)) {
    const value = manifest.exports?.[subpath];
    const shape = (condition: string, types: RegExp, code: RegExp): boolean => {
      const branch = typeof value === 'object' ? value[condition] : undefined;
      if (branch === undefined || typeof branch === 'string') return false;
      const keys = Object.keys(branch);
      const [typesFile, codeFile] = [branch['types'], branch['default']];
      return (
        keys[0] === 'types' &&
        typeof typesFile === 'string' &&
        types.test(typesFile) &&
        keys[keys.length - 1] === 'default' &&
        typeof codeFile === 'string' &&
        code.test(codeFile)
      );
    };
    if (!shape('import', /\.d\.ts$/, /\.js$/) || !shape('require', /\.d\.cts$/, /\.cjs$/)) {
      problems.push(
        `exports["${subpath}"] should be { import: { types: *.d.ts, default: *.js }, require: { types: *.d.cts, default: *.cjs } }`,
      );
    }
  }
  for (const file of files) if (!ALLOWED_FILES.test(file)) problems.push(`${file} is packed (only dist/ should be)`);
  return problems;
}

async function publintProblems(tarball: Uint8Array): Promise<string[]> {
  const buffer = tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) as ArrayBuffer;
  const { messages, pkg } = await publint({ pack: { tarball: buffer }, strict: true, level: 'suggestion' });
  return messages.map((message) => `${message.type}: ${formatMessage(message, pkg, { color: false }) ?? message.code}`);
}

/**
 * are-the-types-wrong's problems, every resolution mode (node10, node16 from CommonJS and from ESM,
 * bundler) but one case: under node10 (TypeScript's legacy `moduleResolution: "node"`, which ignores
 * "exports") a subpath such as `@bulwark/core/fp` cannot resolve. That is the node16 profile of
 * `attw --profile node16` for subpaths; the root entry must still resolve under node10.
 */
async function attwProblems(files: ReturnType<typeof createPackageFromTarballData>): Promise<string[]> {
  const result = await checkPackage(files);
  if (result.types === false) return ['no types found'];
  const legacySubpath = (problem: (typeof result.problems)[number]): boolean =>
    problem.kind === 'NoResolution' && problem.resolutionKind === 'node10' && problem.entrypoint !== '.';
  return result.problems
    .filter((problem) => !legacySubpath(problem))
    .map((problem) => {
      const where =
        'entrypoint' in problem
          ? ` (${problem.entrypoint}, ${problem.resolutionKind})`
          : 'fileName' in problem
            ? ` (${problem.fileName})`
            : '';
      return `${problem.kind}: ${problemKindInfo[problem.kind].title}${where}`;
    });
}

// ---------------------------------------------------------------------------------------------------
// The temporary project

/**
 * Third-party packages the tarballs and their examples need, from this workspace's node_modules:
 * each package's dependencies, peer dependencies and dev dependencies (examples may use those).
 */
function thirdPartyModules(packages: readonly WorkspacePackage[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const { dir, manifest } of packages) {
    const names = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.devDependencies });
    for (const name of names) {
      if (name.startsWith('@bulwark/') || found.has(name)) continue;
      const path = join(dir, 'node_modules', name);
      if (existsSync(path)) found.set(name, realpathSync(path));
    }
  }
  return found;
}

/**
 * A project that depends on every tarball, installed by pnpm with `--offline`: @bulwark packages
 * from their tarballs, third-party ones linked to the copies this workspace installed. pnpm lays
 * it out as for any user (isolated node_modules), so a package can only import what it declares.
 */
async function installProject(
  dir: string,
  tarballs: ReadonlyMap<string, string>,
  thirdParty: ReadonlyMap<string, string>,
) {
  const specs: Record<string, string> = {};
  for (const [name, tarball] of tarballs) specs[name] = `file:${tarball}`;
  for (const [name, path] of thirdParty) specs[name] = `link:${path}`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      { name: 'bulwark-packaging-check', private: true, dependencies: specs, pnpm: { overrides: specs } },
      null,
      2,
    ),
  );
  return run(
    process.execPath,
    [
      pnpm,
      'install',
      '--offline',
      '--ignore-scripts',
      '--config.node-linker=isolated',
      '--config.strict-peer-dependencies=false',
    ],
    dir,
  );
}

/** A program that loads each specifier and writes what it found (see {@link EntryView}) to a JSON file. */
const ENTRIES_ESM = `import { writeFileSync } from 'node:fs';
const [out, ...specifiers] = process.argv.slice(2);
const views = {};
for (const specifier of specifiers) {
  try {
    const ns = await import(specifier);
    const names = Object.keys(ns).filter((k) => k !== 'default' && k !== 'module.exports');
    views[specifier] = { file: import.meta.resolve(specifier), exports: names.map((k) => k + ': ' + typeof ns[k]).sort() };
  } catch (error) {
    views[specifier] = { error: String(error?.stack ?? error) };
  }
}
// Core's own real calls: a policy runs, and the fp entry shares core's modules (one \`noop\`).
const core = await import('@bulwark/core');
const fp = await import('@bulwark/core/fp');
views.calls = { noop: await core.noop.execute(async () => 42), shared: fp.monoidPolicy.empty === core.noop };
writeFileSync(out, JSON.stringify(views));
`;
const ENTRIES_CJS = `const { writeFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const [out, ...specifiers] = process.argv.slice(2);
const views = {};
for (const specifier of specifiers) {
  try {
    const ns = require(specifier);
    const names = Object.keys(ns).filter((k) => k !== 'default' && k !== '__esModule');
    views[specifier] = { file: pathToFileURL(require.resolve(specifier)).href, exports: names.map((k) => k + ': ' + typeof ns[k]).sort() };
  } catch (error) {
    views[specifier] = { error: String(error?.stack ?? error) };
  }
}
const core = require('@bulwark/core');
const fp = require('@bulwark/core/fp');
core.noop.execute(async () => 42).then((noop) => {
  views.calls = { noop, shared: fp.monoidPolicy.empty === core.noop };
  writeFileSync(out, JSON.stringify(views));
});
`;

/**
 * Runs example modules one after another in one process and writes `[{ origin, ok, error }]`.
 * An ESM example runs as it is imported; a CommonJS one exports the promise of its run.
 */
const EXAMPLES_ESM = `import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [out, list] = process.argv.slice(2);
const results = [];
for (const { origin, file } of JSON.parse(readFileSync(list, 'utf8'))) {
  try {
    await import(pathToFileURL(file).href);
    results.push({ origin, ok: true });
  } catch (error) {
    results.push({ origin, ok: false, error: String(error?.stack ?? error) });
  }
}
writeFileSync(out, JSON.stringify(results));
process.exit(0);
`;
const EXAMPLES_CJS = `const { readFileSync, writeFileSync } = require('node:fs');
const [out, list] = process.argv.slice(2);
(async () => {
  const results = [];
  for (const { origin, file } of JSON.parse(readFileSync(list, 'utf8'))) {
    try {
      await require(file);
      results.push({ origin, ok: true });
    } catch (error) {
      results.push({ origin, ok: false, error: String(error?.stack ?? error) });
    }
  }
  writeFileSync(out, JSON.stringify(results));
  process.exit(0);
})();
`;

/** An example as a plain ESM module and as a plain CommonJS module (its body in an async function). */
async function compileExample(example: TsdocExample): Promise<{ esm: string; cjs: string }> {
  const options = { loader: 'ts', target: 'node20', logLevel: 'silent' } as const;
  const esm = await transform(`${example.imports.join('\n')}\n${example.body}\nexport {};\n`, {
    ...options,
    format: 'esm',
  });
  const cjs = await transform(
    `${example.imports.join('\n')}\nmodule.exports = (async () => {\n${example.body}\n})();\n`,
    { ...options, format: 'cjs' },
  );
  return { esm: esm.code, cjs: cjs.code };
}

type Format = 'esm' | 'cjs';

/** Runs a list of example files in one process; any that fail (or all, if it dies) again one per process. */
async function runExamples(
  dir: string,
  format: Format,
  tag: string,
  list: readonly { origin: string; file: string }[],
) {
  const runner = join(dir, format === 'esm' ? 'examples-runner.mjs' : 'examples-runner.cjs');
  const once = async (items: readonly { origin: string; file: string }[], tag: string): Promise<ExampleRun[]> => {
    const listFile = join(dir, `examples-${tag}.json`);
    const out = join(dir, `results-${tag}.json`);
    writeFileSync(listFile, JSON.stringify(items));
    const { output } = await run(process.execPath, [runner, out, listFile], dir, 180_000);
    if (!existsSync(out))
      return items.map(({ origin }) => ({ origin, ok: false, error: `the runner died:\n${output}` }));
    return JSON.parse(readFileSync(out, 'utf8')) as ExampleRun[];
  };
  const first = await once(list, `${format}-${tag}`);
  // Examples share the process above to save start-ups; one that fails there gets a process of its
  // own, so only a failure that is its own counts (not, say, global state another example left).
  return pool(first, 2, async (result) => {
    if (result.ok) return result;
    const item = list.find((i) => i.origin === result.origin);
    if (item === undefined) return result;
    const [alone] = await once([item], `${format}-${basename(item.file)}`);
    return alone ?? result;
  });
}

// ---------------------------------------------------------------------------------------------------
// check

export async function check(options: { build: boolean; keep: boolean; log: (line: string) => void }): Promise<Report> {
  const { log } = options;
  const errors: string[] = [];
  const packages = workspacePackages();
  if (options.build) {
    log(`building ${packages.length} packages`);
    const built = await buildAll();
    if (built.code !== 0) return { packages: [], sizes: [], errors: [`pnpm build failed:\n${built.output}`] };
  }
  const work = mkdtempSync(join(tmpdir(), 'bulwark-packaging-'));
  try {
    log('packing');
    const tarballDir = join(work, 'tarballs');
    mkdirSync(tarballDir);
    const tarballs = await packAll(tarballDir);
    const versions = new Map(packages.map(({ manifest }) => [manifest.name, manifest.version]));

    log('linting the tarballs (manifest rules, publint --strict, are-the-types-wrong)');
    const linted = new Map<
      string,
      { files: string[]; manifest: Manifest; problems: string[]; publint: string[]; attw: string[] }
    >();
    for (const { manifest: source } of packages) {
      const tarball = tarballs.get(source.name);
      if (tarball === undefined) {
        errors.push(`${source.name}: pnpm pack made no tarball`);
        continue;
      }
      const data = new Uint8Array(readFileSync(tarball));
      const contents = createPackageFromTarballData(data);
      const prefix = `/node_modules/${source.name}/`;
      const files = contents
        .listFiles()
        .map((file) => file.slice(prefix.length))
        .sort();
      const manifest = JSON.parse(contents.readFile(`${prefix}package.json`)) as Manifest;
      linted.set(source.name, {
        files,
        manifest,
        problems: manifestProblems(manifest, new Set(files), versions),
        publint: await publintProblems(data),
        attw: await attwProblems(contents),
      });
    }

    log('installing the tarballs into a temporary project (offline)');
    const project = join(work, 'project');
    const installed = await installProject(project, tarballs, thirdPartyModules(packages));
    if (installed.code !== 0)
      errors.push(`pnpm install --offline in the temporary project failed:\n${installed.output}`);

    log('loading every entry point with import and require, and running the TSDoc examples both ways');
    writeFileSync(join(project, 'entries.mjs'), ENTRIES_ESM);
    writeFileSync(join(project, 'entries.cjs'), ENTRIES_CJS);
    writeFileSync(join(project, 'examples-runner.mjs'), EXAMPLES_ESM);
    writeFileSync(join(project, 'examples-runner.cjs'), EXAMPLES_CJS);
    const specifiers = packages.flatMap(({ manifest }) =>
      moduleSubpaths(manifest).map((s) => specifier(manifest.name, s)),
    );
    const views = async (format: Format): Promise<Record<string, EntryView>> => {
      const out = join(project, `entries-${format}.json`);
      const { output } = await run(
        process.execPath,
        [join(project, `entries.${format === 'esm' ? 'mjs' : 'cjs'}`), out, ...specifiers],
        project,
      );
      if (!existsSync(out)) throw new Error(`the ${format} entry program died:\n${output}`);
      return JSON.parse(readFileSync(out, 'utf8')) as Record<string, EntryView>;
    };
    const [esmViews, cjsViews] = await Promise.all([views('esm'), views('cjs')]);
    for (const [format, found] of [
      ['import', esmViews],
      ['require', cjsViews],
    ] as const) {
      const calls = found['calls'] as unknown as { noop?: unknown; shared?: unknown } | undefined;
      if (calls?.noop !== 42)
        errors.push(`${format}: @bulwark/core noop.execute(async () => 42) gave ${String(calls?.noop)}`);
      if (calls?.shared !== true)
        errors.push(`${format}: @bulwark/core/fp has its own copy of core (monoidPolicy.empty !== noop)`);
    }

    const examples = tsdocExamples(repo).filter((example) => example.run);
    const examplesDir = join(project, 'examples');
    mkdirSync(examplesDir);
    const compiled = await Promise.all(
      examples.map(async (example) => {
        const code = await compileExample(example);
        const stem = join(examplesDir, example.file.replace(/\.ts$/, ''));
        writeFileSync(`${stem}.mjs`, code.esm);
        writeFileSync(`${stem}.cjs`, code.cjs);
        return { example, esm: `${stem}.mjs`, cjs: `${stem}.cjs` };
      }),
    );
    const runs = await pool(
      packages.flatMap(({ manifest }) => (['esm', 'cjs'] as const).map((format) => ({ name: manifest.name, format }))),
      2,
      async ({ name, format }) => {
        const list = compiled
          .filter((c) => c.example.packageName === name)
          .map((c) => ({ origin: c.example.origin, file: c[format] }));
        return {
          name,
          format,
          results: list.length === 0 ? [] : await runExamples(project, format, name.replace(/\W+/g, '-'), list),
        };
      },
    );

    const reports: PackageReport[] = [];
    for (const { manifest: source } of packages) {
      const lint = linted.get(source.name);
      if (lint === undefined) continue;
      const entries: string[] = [];
      for (const subpath of moduleSubpaths(lint.manifest)) {
        const spec = specifier(source.name, subpath);
        const esm = esmViews[spec];
        const cjs = cjsViews[spec];
        if (esm?.error !== undefined) entries.push(`import('${spec}') failed: ${esm.error}`);
        if (cjs?.error !== undefined) entries.push(`require('${spec}') failed: ${cjs.error}`);
        if (esm?.exports === undefined || cjs?.exports === undefined) continue;
        // Entry points may sit in folders of dist/ (testkit's fake-oilprice/index.js), never outside it.
        if (!/\/dist\/(?:[\w-]+\/)*[\w-]+\.js$/.test(esm.file ?? ''))
          entries.push(`import('${spec}') loaded ${String(esm.file)}, not dist/**/*.js`);
        if (!/\/dist\/(?:[\w-]+\/)*[\w-]+\.cjs$/.test(cjs.file ?? ''))
          entries.push(`require('${spec}') loaded ${String(cjs.file)}, not dist/**/*.cjs`);
        if (esm.exports.length === 0) entries.push(`${spec} exports nothing`);
        if (esm.exports.join() !== cjs.exports.join()) {
          entries.push(
            `${spec} exports differ: import gives [${esm.exports.join(', ')}], require gives [${cjs.exports.join(', ')}]`,
          );
        }
        const undefinedExports = esm.exports.filter((e) => e.endsWith(': undefined'));
        if (undefinedExports.length > 0)
          entries.push(`${spec} exports undefined values: ${undefinedExports.join(', ')}`);
      }
      const results = (format: Format): ExampleRun[] =>
        runs.find((r) => r.name === source.name && r.format === format)?.results ?? [];
      reports.push({
        name: source.name,
        tarball: relative(work, tarballs.get(source.name) ?? ''),
        files: lint.files,
        manifest: lint.problems,
        publint: lint.publint,
        attw: lint.attw,
        entries,
        examples: { esm: results('esm'), cjs: results('cjs') },
      });
    }

    log('measuring bundle sizes');
    const sizes = await bundleSizes(packages);
    errors.push(...overBudget(sizes));
    return { packages: reports, sizes, errors };
  } finally {
    if (options.keep) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

/** Every problem in a report, one line each (empty when all is well). */
export function failures(report: Report): string[] {
  const lines = [...report.errors];
  for (const pkg of report.packages) {
    for (const [kind, list] of [
      ['package.json', pkg.manifest],
      ['publint', pkg.publint],
      ['attw', pkg.attw],
      ['entry', pkg.entries],
    ] as const) {
      for (const line of list) lines.push(`${pkg.name} ${kind}: ${line}`);
    }
    for (const format of ['esm', 'cjs'] as const) {
      for (const run of pkg.examples[format]) {
        if (!run.ok) lines.push(`${pkg.name} ${format} example ${run.origin}: ${String(run.error)}`);
      }
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------
// Command line

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...flags] = argv;
  const flag = (name: string): boolean => flags.includes(name);
  const started = Date.now();
  const log = (line: string): void =>
    console.error(`[packaging ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);
  if (command === 'size') {
    if (!flag('--no-build')) {
      log('building');
      const built = await buildAll();
      if (built.code !== 0) {
        console.error(built.output);
        return 1;
      }
    }
    const rows = await bundleSizes(workspacePackages());
    console.log(
      flag('--markdown')
        ? sizeTable(rows)
        : rows
            .map(
              (r) =>
                `${specifier(r.name, r.entry).padEnd(32)} ${String(r.minified).padStart(7)} B min ${String(r.gzipped).padStart(7)} B min+gzip${r.budget === undefined ? '' : ` (budget ${r.budget} B)`}`,
            )
            .join('\n'),
    );
    const over = overBudget(rows);
    for (const line of over) console.error(line);
    return over.length === 0 ? 0 : 1;
  }
  if (command === 'check') {
    const reportAt = flags[flags.indexOf('--report') + 1];
    const report = await check({ build: !flag('--no-build'), keep: flag('--keep'), log });
    if (flag('--report') && reportAt !== undefined) writeFileSync(reportAt, JSON.stringify(report, null, 2));
    const examples = report.packages.reduce((n, p) => n + p.examples.esm.length + p.examples.cjs.length, 0);
    log(`${report.packages.length} packages, ${examples} example runs`);
    console.log(sizeTable(report.sizes));
    const lines = failures(report);
    for (const line of lines) console.error(line);
    return lines.length === 0 ? 0 : 1;
  }
  console.error(
    'usage: tsx scripts/packaging.mts check [--no-build] [--report FILE] [--keep] | size [--no-build] [--markdown]',
  );
  return 2;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
