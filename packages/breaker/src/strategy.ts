/**
 * Strategies: when a closed breaker trips. Each is plain data (so it can be logged, compared and
 * stored) made by a constructor that checks it: {@link consecutiveFailures}, {@link countWindow},
 * {@link timeWindow}. The windows themselves live in `window.ts`.
 *
 * @module
 */

import { optionChecker } from '@bulwark/core/options';

const check = optionChecker('@bulwark/breaker');

/**
 * Trips after `failures` counted failures in a row; any counted success starts the count again.
 * A slow call (see `slowCallMs`) counts as a failure.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConsecutiveFailures {
  readonly kind: 'consecutive';
  /** Failures in a row that trip the breaker. */
  readonly failures: number;
}

/** What the two sliding windows share: the rates that trip them and the calls they need first. */
export interface RateThresholds {
  /** Trips when failed calls / calls in the window reaches this, in (0, 1]. */
  readonly failureRate: number;
  /** Trips when slow calls / calls in the window reaches this, in (0, 1]; only with `slowCallMs`. */
  readonly slowCallRate: number;
  /** Neither rate is judged before the window holds this many calls. */
  readonly minimumCalls: number;
}

/**
 * Judges the last `size` calls by their failure rate and slow-call rate (resilience4j's
 * count-based sliding window).
 *
 * @category models
 * @since 0.1.0
 */
export interface CountWindow extends RateThresholds {
  readonly kind: 'count-window';
  /** How many of the latest calls the window holds. */
  readonly size: number;
}

/**
 * Judges the calls of the last `windowMs` by their failure rate and slow-call rate (resilience4j's
 * time-based sliding window). Calls are counted in `buckets` buckets of `windowMs / buckets` ms; a
 * bucket leaves the window whole, so the window covers between `windowMs - windowMs / buckets` and
 * `windowMs` of history.
 *
 * @category models
 * @since 0.1.0
 */
export interface TimeWindow extends RateThresholds {
  readonly kind: 'time-window';
  /** How far back the window reaches, in milliseconds. */
  readonly windowMs: number;
  /** How many buckets the window is cut into. */
  readonly buckets: number;
}

/**
 * When a closed breaker trips.
 *
 * @category models
 * @since 0.1.0
 */
export type Strategy = ConsecutiveFailures | CountWindow | TimeWindow;

/**
 * Trips after `failures` counted failures in a row: the seeds' "5 failures, 60 s recovery".
 *
 * @param failures - Failures in a row that trip the breaker, an integer >= 1.
 * @throws RangeError or TypeError when `failures` is not an integer >= 1.
 * @example
 * ```ts
 * const strategy = consecutiveFailures(5);
 * assert.deepEqual(strategy, { kind: 'consecutive', failures: 5 });
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function consecutiveFailures(failures: number): ConsecutiveFailures {
  return Object.freeze({ kind: 'consecutive', failures: check.integer('failures', failures, 5, { min: 1 }) });
}

/**
 * Options of {@link countWindow}.
 *
 * @category models
 * @since 0.1.0
 */
export interface CountWindowOptions {
  /** How many of the latest calls the window holds. @default 100 */
  readonly size?: number;
  /** The failure rate that trips the breaker, in (0, 1]. @default 0.5 */
  readonly failureRate?: number;
  /** The slow-call rate that trips the breaker, in (0, 1]; needs the breaker's `slowCallMs`. @default 1 */
  readonly slowCallRate?: number;
  /** Calls the window must hold before either rate is judged, at most `size`. @default min(20, size) */
  readonly minimumCalls?: number;
}

/**
 * Judges the last `size` calls: trips when their failure rate or slow-call rate reaches its threshold,
 * once the window holds `minimumCalls` calls.
 *
 * @throws RangeError or TypeError naming the option, for a value out of range.
 * @example
 * ```ts
 * const strategy = countWindow({ size: 50, failureRate: 0.25 });
 * assert.equal(strategy.kind, 'count-window');
 * assert.equal(strategy.minimumCalls, 20);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function countWindow(options: CountWindowOptions = {}): CountWindow {
  check.object('countWindow options', options);
  const size = check.integer('size', options.size, 100, { min: 1, max: 1_000_000 });
  return Object.freeze({ kind: 'count-window', size, ...rates(options, size, size) });
}

/**
 * Options of {@link timeWindow}.
 *
 * @category models
 * @since 0.1.0
 */
export interface TimeWindowOptions {
  /** How far back the window reaches, in milliseconds. @default 60000 */
  readonly windowMs?: number;
  /** How many buckets the window is cut into (a bucket leaves the window whole). @default 10 */
  readonly buckets?: number;
  /** The failure rate that trips the breaker, in (0, 1]. @default 0.5 */
  readonly failureRate?: number;
  /** The slow-call rate that trips the breaker, in (0, 1]; needs the breaker's `slowCallMs`. @default 1 */
  readonly slowCallRate?: number;
  /** Calls the window must hold before either rate is judged. @default 20 */
  readonly minimumCalls?: number;
}

/**
 * Judges the calls of the last `windowMs` milliseconds: trips when their failure rate or slow-call
 * rate reaches its threshold, once the window holds `minimumCalls` calls.
 *
 * @throws RangeError or TypeError naming the option, for a value out of range.
 * @example
 * ```ts
 * const strategy = timeWindow({ windowMs: 30_000, buckets: 6, failureRate: 0.5, minimumCalls: 10 });
 * assert.equal(strategy.windowMs / strategy.buckets, 5000); // 5 s buckets
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function timeWindow(options: TimeWindowOptions = {}): TimeWindow {
  check.object('timeWindow options', options);
  const windowMs = check.integer('windowMs', options.windowMs, 60_000, { min: 1 });
  const buckets = check.integer('buckets', options.buckets, 10, { min: 1, max: 10_000 });
  if (windowMs % buckets !== 0) check.fail('windowMs', `a multiple of \`buckets\` (${buckets})`, windowMs);
  return Object.freeze({ kind: 'time-window', windowMs, buckets, ...rates(options, Number.MAX_SAFE_INTEGER, 20) });
}

function rates(
  options: { failureRate?: number; slowCallRate?: number; minimumCalls?: number },
  maxCalls: number,
  defaultMinimum: number,
): RateThresholds {
  const ratio = { min: Number.MIN_VALUE, max: 1 };
  return {
    failureRate: check.number('failureRate', options.failureRate, 0.5, ratio),
    slowCallRate: check.number('slowCallRate', options.slowCallRate, 1, ratio),
    minimumCalls: check.integer('minimumCalls', options.minimumCalls, Math.min(20, defaultMinimum), {
      min: 1,
      max: maxCalls,
    }),
  };
}

/**
 * Checks a strategy given as data (not made by a constructor), returning a frozen copy.
 *
 * @internal
 */
export function checkStrategy(value: unknown): Strategy {
  if (typeof value !== 'object' || value === null) return check.fail('strategy', 'a breaker strategy', value);
  const s = value as Record<string, unknown>;
  switch (s['kind']) {
    case 'consecutive':
      return consecutiveFailures(s['failures'] as number);
    case 'count-window':
      return countWindow(s);
    case 'time-window':
      return timeWindow(s);
    default:
      return check.fail('strategy', 'consecutiveFailures(…), countWindow(…) or timeWindow(…)', value);
  }
}
