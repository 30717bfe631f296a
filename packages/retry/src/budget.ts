/**
 * A retry budget shared across calls and policies, as Finagle's `RetryBudget` and gRPC's retry
 * throttling have: retries are allowed only up to a fraction of the recent calls plus a small floor,
 * so a fleet whose dependency is down adds at most that fraction to its load instead of multiplying
 * it by `maxAttempts`.
 *
 * Every call's first attempt deposits; every retry withdraws. The window is a ring of ten buckets,
 * so each operation is O(1) and the memory is fixed; the decision is the pure {@link retryAllowed}.
 *
 * Laws (test/budget.test.ts): a withdrawal succeeds exactly when the retries of the window, it
 * included, stay within `minPerSecond × windowMs / 1000 + ratio × calls of the window`; what leaves
 * the window no longer counts.
 *
 * @module
 */

import { systemClock, type Clock } from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';

const check = optionChecker('@bulwark/retry');

/** Buckets per window: an event counts for between 90 % and 100 % of `windowMs` after it happens. */
const BUCKETS = 10;
/** Absorbs floating-point error in `ratio × calls` (0.29 × 100 is 28.999999999999996). */
const EPSILON = 1e-9;

/**
 * Options of {@link retryBudget}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryBudgetOptions {
  /** Retries allowed per call of the window, in `[0, 1]`: 0.1 lets retries add 10 % to the load. @default 0.1 */
  readonly ratio?: number;
  /** Retries allowed per second whatever the traffic, so a quiet client can still retry. @default 10 */
  readonly minPerSecond?: number;
  /** How far back calls and retries count, in milliseconds. @default 10000 */
  readonly windowMs?: number;
  /** Time source. @default systemClock */
  readonly clock?: Clock;
}

/**
 * A budget of retries, shared by every retry policy given it.
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryBudget {
  /** Counts a call (its first attempt); the retry policy calls it. */
  deposit(): void;
  /** Takes one retry from the budget: `false`, taking nothing, when it is spent. */
  tryWithdraw(): boolean;
  /** How many retries the budget would allow now. */
  readonly balance: number;
  /** Calls counted in the window now. */
  readonly calls: number;
  /** Retries taken in the window now. */
  readonly retries: number;
}

/**
 * Whether one more retry fits: the pure decision of a {@link RetryBudget}.
 *
 * @param calls - Calls in the window.
 * @param retries - Retries already taken in the window.
 * @param ratio - Retries allowed per call.
 * @param floor - Retries allowed in the window whatever the traffic.
 * @example
 * ```ts
 * assert.equal(retryAllowed(100, 10, 0.1, 0), false); // 10 % of 100 calls: 10 retries, all taken
 * assert.equal(retryAllowed(100, 10, 0.1, 5), true); // the floor adds 5
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export function retryAllowed(calls: number, retries: number, ratio: number, floor: number): boolean {
  return retries + 1 <= floor + ratio * calls + EPSILON;
}

class Budget implements RetryBudget {
  private readonly callsIn = new Float64Array(BUCKETS);
  private readonly retriesIn = new Float64Array(BUCKETS);
  private callTotal = 0;
  private retryTotal = 0;
  /** The ring index of the current bucket, and the bucket number (`floor(now / bucketMs)`) it holds. */
  private head = 0;
  private epoch: number;
  private readonly bucketMs: number;
  private readonly floor: number;

  constructor(
    private readonly ratio: number,
    minPerSecond: number,
    windowMs: number,
    private readonly clock: Clock,
  ) {
    this.bucketMs = windowMs / BUCKETS;
    this.floor = (minPerSecond * windowMs) / 1000;
    this.epoch = Math.floor(clock.now() / this.bucketMs);
  }

  /** Moves the ring to the bucket of now, emptying the buckets that left the window. */
  private advance(): void {
    const epoch = Math.floor(this.clock.now() / this.bucketMs);
    const gap = epoch - this.epoch;
    // A clock that went back keeps the current bucket: counts never leave early.
    if (gap <= 0) return;
    this.epoch = epoch;
    if (gap >= BUCKETS) {
      this.callsIn.fill(0);
      this.retriesIn.fill(0);
      this.callTotal = this.retryTotal = 0;
      return;
    }
    for (let i = 0; i < gap; i++) {
      this.head = (this.head + 1) % BUCKETS;
      this.callTotal -= this.callsIn[this.head]!;
      this.retryTotal -= this.retriesIn[this.head]!;
      this.callsIn[this.head] = this.retriesIn[this.head] = 0;
    }
  }

  deposit(): void {
    this.advance();
    this.callsIn[this.head]! += 1;
    this.callTotal++;
  }

  tryWithdraw(): boolean {
    this.advance();
    if (!retryAllowed(this.callTotal, this.retryTotal, this.ratio, this.floor)) return false;
    this.retriesIn[this.head]! += 1;
    this.retryTotal++;
    return true;
  }

  get balance(): number {
    this.advance();
    return Math.max(0, Math.floor(this.floor + this.ratio * this.callTotal + EPSILON - this.retryTotal));
  }

  get calls(): number {
    this.advance();
    return this.callTotal;
  }

  get retries(): number {
    this.advance();
    return this.retryTotal;
  }
}

/**
 * Makes a retry budget to share between retry policies (`retry({ budget })`): in any window of
 * `windowMs`, retries stay within `ratio` × the calls made plus `minPerSecond` per second. A retry the
 * budget refuses ends the call with its last error (a `give-up` event with reason `budget`).
 *
 * @throws TypeError or RangeError - when an option is invalid, naming it.
 * @example
 * ```ts
 * import { VirtualClock } from '@bulwark/testkit';
 * const clock = new VirtualClock();
 * const budget = retryBudget({ ratio: 0.5, minPerSecond: 0, windowMs: 1_000, clock });
 * budget.deposit();
 * budget.deposit();
 * assert.equal(budget.tryWithdraw(), true); // 50 % of 2 calls: one retry
 * assert.equal(budget.tryWithdraw(), false);
 * await clock.advance(1_000);
 * assert.equal(budget.calls, 0); // the window moved on
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function retryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  const opts = check.object('options', options) as Partial<RetryBudgetOptions>;
  const ratio = check.number('ratio', opts.ratio, 0.1, { min: 0, max: 1 });
  const minPerSecond = check.number('minPerSecond', opts.minPerSecond, 10, { min: 0 });
  const windowMs = check.number('windowMs', opts.windowMs, 10_000, { min: 1 });
  const clock = check.clock('clock', opts.clock, systemClock, ['now']);
  return new Budget(ratio, minPerSecond, windowMs, clock);
}
