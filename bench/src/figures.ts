/**
 * Figures and their arithmetic: every figure a run reports is a value set beside its baseline, and
 * the report is a Markdown table of them. Apart from the harness (which needs mitata, an ES module)
 * so that tests can load it.
 *
 * @module
 */

/** One figure in the report. */
export interface Figure {
  /** What was measured, e.g. `core: noop`. Unique in a run. */
  readonly name: string;
  readonly value: number;
  /** The unit of `value`, e.g. `ns/call`, `bytes/call`, `ms`, `req/s`. */
  readonly unit: string;
  /** The name of the figure this one was measured beside; a baseline names itself. */
  readonly baseline: string;
  /** `value / baseline's value` (1 for a baseline itself); read it with `better`. */
  readonly ratio: number;
  /**
   * Which way is better for `value` (and so for `ratio`): `lower` for times and bytes, `higher` for
   * rates and success.
   */
  readonly better: 'lower' | 'higher';
  /** A target the issue sets for the ratio, if any, e.g. `< 1.3`. */
  readonly target?: string;
}

/** A measured value before it is set beside its baseline. */
export interface Measured {
  readonly name: string;
  readonly value: number;
  readonly target?: string;
}

/**
 * The figures of a group: the baseline's and each case's with its ratio to the baseline. Every
 * figure in a report is made here, so that each carries its unit, its baseline and its ratio.
 */
export function relativeTo(
  group: string,
  baseline: Measured,
  cases: readonly Measured[],
  unit: string,
  better: Figure['better'] = 'lower',
): Figure[] {
  const baseName = `${group}: ${baseline.name}`;
  const figure = (m: Measured, ratio: number): Figure => ({
    name: `${group}: ${m.name}`,
    value: m.value,
    unit,
    baseline: baseName,
    ratio,
    better,
    ...(m.target !== undefined ? { target: m.target } : {}),
  });
  return [figure(baseline, 1), ...cases.map((c) => figure(c, c.value / baseline.value))];
}

/** The median of `values` (the mean of the middle two for an even count). */
export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** A value with three significant digits (whole numbers from 100 up). */
export const formatValue = (value: number): string =>
  !Number.isFinite(value) ? String(value) : Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);

/** Renders figures as a Markdown table. */
export function table(figures: readonly Figure[]): string {
  const rows = figures.map((f) => {
    const ratio = f.baseline === f.name ? 'baseline' : `${f.ratio.toFixed(2)}x`;
    return `| ${f.name} | ${formatValue(f.value)} ${f.unit} | ${ratio} | ${f.better} | ${f.target ?? ''} |`;
  });
  return [
    '| benchmark | value | ratio to baseline | better | target |',
    '| --- | ---: | ---: | --- | --- |',
    ...rows,
  ].join('\n');
}
