/**
 * Instructions per call, counted under valgrind, and bytes allocated per call, counted from the
 * collector's own trace: `pnpm bench:instructions [--json FILE] [--only CASE]`; or where one case's
 * time goes: `pnpm bench:instructions --profile CASE`.
 *
 * The wall-clock suites move by ±0.2x from one run to the next on these shared machines, which hides
 * the 5-10 % a change to core's runner makes. An instruction count depends far less on the load: each
 * case runs in a child process under `valgrind --tool=cachegrind --cache-sim=no`, once with
 * {@link SHORT} calls and once with {@link LONG}, and the difference of the two totals over the
 * difference of the calls is the cost of one call, start-up and warm-up cancelled out. Node runs with
 * `--single-threaded` (no concurrent compiler or collector threads), which makes a count repeat within
 * about ±2 % (±50 instructions on the larger cases) on a quiet machine; the collections a call's
 * garbage causes are part of its count. Run it alone: with a wall-clock suite running beside it, the
 * same build counted up to 10 % fewer or more (time leaks in, presumably through timers and the
 * collector's time-based heuristics).
 *
 * Instructions are not time (a cache miss costs more than an add), so this complements the suites'
 * ratios, it does not replace them; it shows where a design's cost goes (see BENCHMARKS.md,
 * "Instructions per call"). Before the measured calls, the child runs every case, so that shared code (core's
 * runner, which every gate passes through) has seen every shape, as it has in a service that uses
 * several policies.
 *
 * Bytes allocated per call come from a third child, without valgrind, run with `--trace-gc`: every
 * collection prints the heap's size before and after it, so what the calls allocated between the two
 * full collections around the measured calls is the sum, over the collections between them, of each
 * one's size before less the previous one's size after. Unlike the suites' heap-growth figure (the
 * heap's growth over a batch with no collection, median of several), it counts every call and does not
 * depend on where a batch's collections fall.
 *
 * With `--profile CASE`, one case runs under `perf` instead, and the report says where its time goes
 * by function (see {@link profile}).
 *
 * Needs `valgrind` (Debian package `valgrind`), or `perf` for `--profile`; not part of CI.
 *
 * @module
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import { breaker, consecutiveFailures } from '@bulwark/breaker';
import { bulkhead } from '@bulwark/bulkhead';
import { definePolicy, noop, PASS, pipeline } from '@bulwark/core';
import { retry } from '@bulwark/retry';
import { timeout } from '@bulwark/timeout';
import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import { build } from 'esbuild';
import CircuitBreaker from 'opossum';

import { allocatedPerCall } from './gc-trace.js';
import { collectGarbage, relativeTo, table, type Figure, type Measured } from './harness.js';
import { handWrittenBreaker } from './tasks.js';

/** Calls measured in the short and the long run of each case (after the same warm-up). */
const SHORT = 100_000;
const LONG = 300_000;
/** Calls whose allocations are counted (a few hundred megabytes: dozens of collections). */
const ALLOCATING = 300_000;
/** Calls profiled with `--profile`: enough that the warm-up's samples are a small part. */
const PROFILED = 5_000_000;

const bare = async (): Promise<number> => 1;
const identity = (value: number): number => value;
const inAsyncWrapper =
  <A>(inner: () => Promise<A>) =>
  async (): Promise<A> =>
    await inner();

/** One case: its call, and how to stop the timers it holds, if it holds any. */
interface Case {
  readonly run: () => Promise<unknown>;
  readonly stop?: () => void;
}

/** The cases, by name (the first is the baseline). */
function cases(): ReadonlyMap<string, Case> {
  const emptyGate = definePolicy('empty gate', [{ gate: { enter: () => 0, exit: () => PASS } }]);
  const consecutive = breaker({ strategy: consecutiveFailures(5) });
  const retries = retry();
  const cooperative = timeout({ timeoutMs: 1000, strategy: 'cooperative' });
  const aggressive = timeout({ timeoutMs: 1000, strategy: 'aggressive' });
  const slots = bulkhead({ capacity: 100 });
  const wrapped = noop.wrap(bare);
  const stack = pipeline(
    retry(),
    breaker({ strategy: consecutiveFailures(5) }),
    bulkhead({ capacity: 100 }),
    timeout(1000),
  );
  const cockatielBreaker = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) });
  const opossum = new CircuitBreaker(bare, { timeout: false, resetTimeout: 60_000 });
  const byHand = handWrittenBreaker(5);
  const calls = new Map<string, () => Promise<unknown>>([
    ['bare async call', bare],
    ['one `.then` on the call (calibration)', () => bare().then(identity)],
    ['one async wrapper (calibration)', inAsyncWrapper(bare)],
    ['four nested async wrappers (calibration)', inAsyncWrapper(inAsyncWrapper(inAsyncWrapper(inAsyncWrapper(bare))))],
    ['a breaker written by hand, one `then` (calibration)', () => byHand(bare)],
    ['noop.execute', () => noop.execute(bare)],
    ['noop.wrap(fn)(…)', wrapped],
    ['an empty gate (core’s floor for a gate)', () => emptyGate.execute(bare)],
    ['breaker consecutiveFailures(5)', () => consecutive.execute(bare)],
    ['retry (defaults)', () => retries.execute(bare)],
    ['bulkhead (capacity 100)', () => slots.execute(bare)],
    ['timeout, cooperative', () => cooperative.execute(bare)],
    ['timeout, aggressive', () => aggressive.execute(bare)],
    ['stack retry → breaker → bulkhead → timeout', () => stack.execute(bare)],
    ['cockatiel ConsecutiveBreaker(5)', () => cockatielBreaker.execute(bare)],
  ]);
  const made = new Map<string, Case>([...calls].map(([name, run]) => [name, { run }]));
  made.set('opossum fire() (timeout off)', { run: () => opossum.fire(), stop: () => opossum.shutdown() });
  return made;
}

/** In the child: warm every case, then make `calls` calls of one. */
async function child(name: string, calls: number): Promise<void> {
  const all = cases();
  const measured = all.get(name);
  if (measured === undefined) throw new RangeError(`unknown case "${name}"`);
  const { run } = measured;
  for (const each of all.values()) for (let i = 0; i < 20_000; i++) await each.run();
  // A timer a case holds (opossum's rolling window ticks on an interval) would fire often enough under
  // valgrind (about fifty times slower) to count in every case: it runs only while its case is measured.
  for (const each of all.values()) if (each !== measured) each.stop?.();
  for (let i = 0; i < 100_000; i++) await run();
  // Both runs of a case start the measured calls from the same heap: a full collection that falls in
  // one run and not the other would otherwise add hundreds of instructions per call. The allocation
  // count reads what was allocated between this collection and the next.
  collectGarbage();
  for (let i = 0; i < calls; i++) await run();
  collectGarbage();
  measured.stop?.();
}

const run = promisify(execFile);

/**
 * This file and what it imports as one module, for the children: a child that loaded TypeScript
 * through tsx's hooks counted a bare call anywhere from 330 to 970 instructions from one run to the
 * next, a bundled one within about ±50.
 */
async function bundleSelf(): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'bulwark-instructions-')), 'instructions.mjs');
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@bulwark/source'],
    outfile: file,
    logLevel: 'warning',
    // mitata (the harness's timer) imports it only when it runs on Bun.
    external: ['bun:jsc'],
    // opossum and cockatiel are CommonJS and `require` Node's modules.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return file;
}

/** The instructions valgrind counted in a child that made `calls` calls of `name`. */
async function count(bundle: string, name: string, calls: number): Promise<number> {
  const { stderr } = await run(
    'valgrind',
    [
      '--tool=cachegrind',
      '--cache-sim=no',
      '--cachegrind-out-file=/dev/null',
      process.execPath,
      '--single-threaded',
      '--expose-gc',
      bundle,
      '--child',
      name,
      '--calls',
      String(calls),
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const refs = /I\s+refs:\s+([\d,]+)/.exec(stderr)?.[1];
  if (refs === undefined) throw new Error(`valgrind printed no instruction count for "${name}":\n${stderr}`);
  return Number(refs.replaceAll(',', ''));
}

async function perCall(bundle: string, name: string): Promise<Measured> {
  const [short, long] = await Promise.all([count(bundle, name, SHORT), count(bundle, name, LONG)]);
  return { name, value: Math.round((long - short) / (LONG - SHORT)) };
}

async function allocated(bundle: string, name: string): Promise<Measured> {
  const { stdout } = await run(
    process.execPath,
    ['--single-threaded', '--expose-gc', '--trace-gc', bundle, '--child', name, '--calls', String(ALLOCATING)],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return { name, value: Math.round(allocatedPerCall(stdout, ALLOCATING)) };
}

/**
 * Where one case's time goes, by function, V8's builtins and collector included (what `--cpu-prof`
 * cannot show: it folds them into "(program)"): the case's child, warmed as for a count, making
 * {@link PROFILED} calls under `perf record`, sampling user CPU time on the software clock (VMs here
 * have no hardware counters), with Node writing a map of its compiled code (`--perf-basic-prof`).
 * Returns `perf report`'s samples per symbol. Needs `perf` (Debian package `linux-perf`).
 */
async function profile(bundle: string, name: string): Promise<string> {
  const data = join(dirname(bundle), 'perf.data');
  const maps = (): Set<string> => new Set(readdirSync('/tmp').filter((file) => /^perf-\d+\.map$/.test(file)));
  const before = maps();
  try {
    await run(
      'perf',
      [
        'record',
        '--quiet',
        '--freq=5000',
        '--event=cpu-clock:u',
        `--output=${data}`,
        process.execPath,
        '--perf-basic-prof',
        '--expose-gc',
        bundle,
        '--child',
        name,
        '--calls',
        String(PROFILED),
        // V8 writes a log beside its code map: in the bundle's directory, removed with it.
      ],
      { cwd: dirname(bundle) },
    );
    const { stdout } = await run(
      'perf',
      ['report', `--input=${data}`, '--stdio', '--show-nr-samples', '--sort=symbol'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const rows = stdout
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) =>
        line
          .replace(/\s+-\s+-\s*$/, '')
          .replace(/ {2,}/g, ' ')
          .replaceAll(`file://${bundle}`, 'bundle'),
      );
    const total = rows.reduce((sum, row) => sum + Number(/^\s*[\d.]+%\s+(\d+)/.exec(row)?.[1] ?? 0), 0);
    // Symbols under half a percent are summed in the total, not listed.
    const listed = rows.filter((row) => Number(/^\s*([\d.]+)%/.exec(row)?.[1] ?? 0) >= 0.5);
    return `${listed.join('\n')}\n\n${total.toLocaleString('en')} samples in all`;
  } finally {
    // The code maps Node wrote for this run (perf needed them until its report).
    for (const file of maps()) if (!before.has(file)) rmSync(join('/tmp', file), { force: true });
  }
}

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    calls: { type: 'string' },
    json: { type: 'string' },
    only: { type: 'string', multiple: true },
    profile: { type: 'string' },
  },
});

if (values.child !== undefined) {
  await child(values.child, Number(values.calls));
} else if (values.profile !== undefined) {
  const wanted = values.profile;
  const name = [...cases().keys()].find((each) => each.includes(wanted));
  if (name === undefined) throw new RangeError(`no case's name contains "${wanted}"`);
  const bundle = await bundleSelf();
  try {
    console.log(
      `${name}: ${PROFILED.toLocaleString('en')} calls after the warm-up, samples per symbol (perf, 5 kHz)\n`,
    );
    console.log(await profile(bundle, name));
  } finally {
    rmSync(dirname(bundle), { recursive: true });
  }
} else {
  const made = cases();
  const names = [...made.keys()];
  for (const each of made.values()) each.stop?.();
  const [baseline, ...rest] = names;
  const chosen = rest.filter((name) => values.only === undefined || values.only.some((part) => name.includes(part)));
  console.log(
    `Instructions (under valgrind) and bytes allocated per call, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}\n`,
  );
  const bundle = await bundleSelf();
  const instructions: Measured[] = [];
  const bytes: Measured[] = [];
  // One case at a time, its two children side by side (valgrind keeps each to one core), then the
  // allocation count alone.
  for (const name of [baseline as string, ...chosen]) {
    process.stdout.write(`counting ${name}…`);
    instructions.push(await perCall(bundle, name));
    bytes.push(await allocated(bundle, name));
    process.stdout.write(` ${instructions.at(-1)?.value} instructions, ${bytes.at(-1)?.value} bytes\n`);
  }
  const [base, ...others] = instructions;
  const [baseBytes, ...otherBytes] = bytes;
  const figures: Figure[] = [
    ...relativeTo('instructions', base as Measured, others, 'instructions/call'),
    ...relativeTo('allocated', baseBytes as Measured, otherBytes, 'bytes/call'),
  ];
  rmSync(dirname(bundle), { recursive: true });
  console.log(`\n${table(figures)}`);
  if (values.json !== undefined) {
    const file = resolve(process.env['INIT_CWD'] ?? process.cwd(), values.json);
    writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), figures }, null, 2)}\n`);
    console.log(`\nwrote ${file}`);
  }
}
