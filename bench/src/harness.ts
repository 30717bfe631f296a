/**
 * The benchmark harness: every figure is a ratio to a baseline measured in the same run, because
 * these machines are shared and absolute times move from one minute to the next.
 *
 * Each comparison measures its cases in alternating rounds (baseline, a, b, baseline, a, b, ...) and
 * keeps the median per case, so a burst of noise hits every case alike instead of one.
 */

import { PerformanceObserver } from 'node:perf_hooks';

import { measure } from 'mitata';

/** One figure in the report. */
export interface Figure {
  /** What was measured, e.g. `core: noop`. */
  readonly name: string;
  readonly value: number;
  /** The unit of `value`, e.g. `ns/call`, `bytes/call`, `ms`. */
  readonly unit: string;
  /** The name of the figure this one is compared with, if any. */
  readonly baseline?: string;
  /** `value / baseline value`: what this costs relative to the baseline. */
  readonly ratio?: number;
  /** A target the issue sets for the ratio, if any, e.g. `< 1.3`. */
  readonly target?: string;
}

/** What a suite receives. */
export interface BenchContext {
  /** A short run for CI: the benchmarks must work, their speed is not judged. */
  readonly quick: boolean;
}

/** A group of figures. */
export interface Suite {
  readonly name: string;
  run(ctx: BenchContext): Promise<Figure[]>;
}

/** A thing to time: one call of `run` is one operation. */
export interface Case {
  readonly name: string;
  readonly run: () => unknown;
  /** A target for this case's ratio to the baseline, shown in the report. */
  readonly target?: string;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

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
  const base = median(samples[0] as number[]);
  const baseName = `${group}: ${baseline.name}`;
  return [
    { name: baseName, value: base, unit: 'ns/call' },
    ...cases.map((c, i): Figure => {
      const value = median(samples[i + 1] as number[]);
      return {
        name: `${group}: ${c.name}`,
        value,
        unit: 'ns/call',
        baseline: baseName,
        ratio: value / base,
        ...(c.target !== undefined ? { target: c.target } : {}),
      };
    }),
  ];
}

/** Renders figures as a Markdown table. */
export function table(figures: readonly Figure[]): string {
  const rows = figures.map((f) => {
    const value = f.value >= 100 ? f.value.toFixed(0) : f.value.toFixed(1);
    const ratio = f.ratio !== undefined ? `${f.ratio.toFixed(2)}x` : '';
    return `| ${f.name} | ${value} ${f.unit} | ${ratio} | ${f.target ?? ''} |`;
  });
  return ['| benchmark | value | ratio to baseline | target |', '| --- | ---: | ---: | --- |', ...rows].join('\n');
}

async function callAsMitataDoes(run: () => unknown): Promise<void> {
  await run();
}

/** Collects garbage if the process runs with --expose-gc (the bench script sets it). */
function collectGarbage(): void {
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
  for (let attempt = 0; results.length < 5 && attempt < 50; attempt++) {
    collectGarbage();
    // The observer hears of that collection a little later: let it, before counting.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const before = collections;
    const start = process.memoryUsage().heapUsed;
    for (let i = 0; i < calls; i++) await callAsMitataDoes(run);
    const end = process.memoryUsage().heapUsed;
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (collections === before) results.push((end - start) / calls);
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
  const baseName = `${group}: ${baseline.name}`;
  const figures: Figure[] = [{ name: baseName, value: base, unit: 'bytes/call' }];
  for (const c of cases) {
    const value = await bytesPerCall(c.run, calls);
    figures.push({
      name: `${group}: ${c.name}`,
      value,
      unit: 'bytes/call',
      baseline: baseName,
      ratio: value / base,
      ...(c.target !== undefined ? { target: c.target } : {}),
    });
  }
  return figures;
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
  const base = median(samples[0] as number[]);
  const baseName = `${group}: ${baseline.name}`;
  return [
    { name: baseName, value: base, unit: 'cpu ns/call' },
    ...cases.map((c, i): Figure => ({
      name: `${group}: ${c.name}`,
      value: median(samples[i + 1] as number[]),
      unit: 'cpu ns/call',
      baseline: baseName,
      ratio: median(samples[i + 1] as number[]) / base,
    })),
  ];
}
