/**
 * The benchmark harness: every figure is a ratio to a baseline measured in the same run, because
 * these machines are shared and absolute times move from one minute to the next.
 *
 * Each comparison measures its cases in alternating rounds (baseline, a, b, baseline, a, b, ...) and
 * keeps the median per case, so a burst of noise hits every case alike instead of one.
 */

import { PerformanceObserver } from 'node:perf_hooks';

import { measure } from 'mitata';

import { median, relativeTo, type Figure, type Measured } from './figures.js';

export { formatValue, median, relativeTo, table, type Figure, type Measured } from './figures.js';

/** What a suite receives. */
export interface BenchContext {
  /** A short run for CI: the benchmarks must work, their speed is not judged. */
  readonly quick: boolean;
}

/** A group of figures. */
export interface Suite {
  readonly name: string;
  run(ctx: BenchContext): Promise<Figure[]>;
  /** A table of its own, printed after the main one, for figures that read better side by side. */
  summarize?(figures: readonly Figure[]): string;
}

/** A thing to time: one call of `run` is one operation. */
export interface Case {
  readonly name: string;
  readonly run: () => unknown;
  /** A target for this case's ratio to the baseline, shown in the report. */
  readonly target?: string;
}

/**
 * Nanoseconds per awaited call of `run`, as mitata times an async benchmark (`async () => { await run() }`).
 *
 * mitata's own per-sample work is part of every figure, baseline included; that is the harness in
 * which the targets were set (in it a plain `async` wrapper costs about 1.6x a bare call, four
 * nested ones about 3.5x). `docs/adr/0001-policy-shape.md` has the figures of a tighter loop too.
 */
async function timePerCall(run: () => unknown, quick: boolean): Promise<number> {
  const stats = await measure(
    async () => {
      await run();
    },
    { min_cpu_time: (quick ? 20 : 300) * 1e6, warmup_samples: quick ? 2 : 8, min_samples: quick ? 4 : 24 },
  );
  return stats.p50;
}

/**
 * Times `baseline` and each case in alternating rounds; returns the baseline's figure and each case's
 * figure with its ratio to the baseline.
 */
export async function compare(
  group: string,
  baseline: Case,
  cases: readonly Case[],
  ctx: BenchContext,
): Promise<Figure[]> {
  const rounds = ctx.quick ? 1 : 7;
  const all = [baseline, ...cases];
  const samples = all.map((): number[] => []);
  // One uncounted round first: the JIT settles on the code paths before anything is kept.
  if (!ctx.quick) for (const c of all) await timePerCall(c.run, true);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < all.length; i++) {
      (samples[i] as number[]).push(await timePerCall((all[i] as Case).run, ctx.quick));
    }
  }
  return relativeTo(
    group,
    measured(baseline, samples[0]),
    cases.map((c, i) => measured(c, samples[i + 1])),
    'ns/call',
  );
}

const measured = (c: Case, samples: readonly number[] | undefined): Measured => ({
  name: c.name,
  value: median(samples ?? []),
  ...(c.target !== undefined ? { target: c.target } : {}),
});

/** A thing to time as a whole: one call of `run` is one measured run. */
export interface Run {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

/**
 * Times whole runs (milliseconds each, garbage collected before each) in alternating rounds, baseline
 * first; returns the median per case, as milliseconds or as `value(ms)` in `unit` (a rate, say, with
 * `better: 'higher'`), and its ratio to the baseline's.
 */
export async function compareRuns(
  group: string,
  baseline: Run,
  cases: readonly Run[],
  rounds: number,
  as: { readonly unit: string; readonly value: (ms: number) => number; readonly better: Figure['better'] } = {
    unit: 'ms',
    value: (ms) => ms,
    better: 'lower',
  },
): Promise<Figure[]> {
  const all = [baseline, ...cases];
  const samples = all.map((): number[] => []);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < all.length; i++) {
      collectGarbage();
      const started = performance.now();
      await (all[i] as Run).run();
      (samples[i] as number[]).push(performance.now() - started);
    }
  }
  const of = (r: Run, i: number): Measured => ({ name: r.name, value: as.value(median(samples[i] as number[])) });
  return relativeTo(
    group,
    of(baseline, 0),
    cases.map((c, i) => of(c, i + 1)),
    as.unit,
    as.better,
  );
}

/**
 * CPU time per awaited call in a tight loop (`for (…) await run()`), alternating rounds, median of
 * each case. CPU time leaves out the time the process waits for a core, so on a busy machine it holds
 * still where wall time does not; a tight loop weighs promise hops more than mitata's harness does
 * (ADR 0001: one async wrapper costs about 2.4x there), hence the calibration case beside it.
 */
export async function compareCpuTime(
  group: string,
  baseline: Case,
  cases: readonly Case[],
  quick: boolean,
): Promise<Figure[]> {
  const all = [baseline, ...cases];
  const calls = quick ? 2_000 : 50_000;
  const rounds = quick ? 1 : 9;
  const samples = all.map((): number[] => []);
  for (let round = -1; round < rounds; round++) {
    for (let i = 0; i < all.length; i++) {
      const run = (all[i] as Case).run;
      // Untimed calls first: the collections owed for the case before (cockatiel's garbage: several kB
      // a call) happen now, not on this case's time. (Forcing a full collection instead shrinks the
      // young generation, which then slows every allocating case for a while: worse.)
      for (let call = 0; call < calls / 10; call++) await run();
      const start = process.cpuUsage();
      for (let call = 0; call < calls; call++) await run();
      const used = process.cpuUsage(start);
      // Round -1 warms up the JIT and is not kept.
      if (round >= 0) (samples[i] as number[]).push(((used.user + used.system) * 1000) / calls);
    }
  }
  return relativeTo(
    group,
    measured(baseline, samples[0]),
    cases.map((c, i) => measured(c, samples[i + 1])),
    'cpu ns/call',
  );
}

async function callAsMitataDoes(run: () => unknown): Promise<void> {
  await run();
}

/** Collects garbage if the process runs with --expose-gc (the bench script sets it). */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Counts garbage collections while a batch runs, so a batch that saw one can be thrown away. */
let collections = 0;
new PerformanceObserver((list) => {
  collections += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

/**
 * Bytes allocated per awaited call of `run`: the heap's growth over a batch during which no garbage
 * collection ran (batches that saw one are measured again), median of several batches. Each call is
 * made as the timing harness makes it (`await (async () => { await run() })()`), so the two kinds of
 * figure share their baseline.
 */
async function bytesPerCall(run: () => unknown, calls: number): Promise<number> {
  const results: number[] = [];
  let batch = calls;
  for (let attempt = 0; results.length < 5 && attempt < 50; attempt++) {
    // A case that allocates kilobytes a call (cockatiel's) sees a collection in every batch of
    // thousands: after ten such batches, make them smaller (down to 100 calls) rather than give up.
    if (results.length === 0 && attempt > 0 && attempt % 10 === 0) batch = Math.max(100, batch >> 1);
    collectGarbage();
    // The observer hears of that collection a little later: let it, before counting.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const before = collections;
    const start = process.memoryUsage().heapUsed;
    for (let i = 0; i < batch; i++) await callAsMitataDoes(run);
    const end = process.memoryUsage().heapUsed;
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (collections === before) results.push((end - start) / batch);
  }
  return results.length > 0 ? median(results) : Number.NaN;
}

/**
 * Bytes allocated per call for `baseline` and each case, with each case's ratio to the baseline.
 */
export async function compareAllocation(
  group: string,
  baseline: Case,
  cases: readonly Case[],
  ctx: BenchContext,
): Promise<Figure[]> {
  const calls = ctx.quick ? 500 : 5000;
  for (const c of [baseline, ...cases]) for (let i = 0; i < calls; i++) await c.run();
  const base = await bytesPerCall(baseline.run, calls);
  const others: Measured[] = [];
  for (const c of cases) {
    others.push({
      name: c.name,
      value: await bytesPerCall(c.run, calls),
      ...(c.target !== undefined ? { target: c.target } : {}),
    });
  }
  return relativeTo(group, { name: baseline.name, value: base }, others, 'bytes/call');
}
