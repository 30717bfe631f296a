/**
 * The benchmark harness: every figure is a ratio to a baseline measured in the same run, because
 * these machines are shared and absolute times move from one minute to the next.
 *
 * Each comparison measures its cases in alternating rounds (baseline, a, b, baseline, a, b, ...) and
 * keeps the median per case, so a burst of noise hits every case alike instead of one.
 */

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
