/**
 * Limits as data, and the pure model that decides admissions under them.
 *
 * A limiter enforces any number of limits at once (10 per minute AND 100 per hour): a call is
 * admitted when every limit allows it. Each decision is a *reservation*: the earliest time at or
 * after `now` at which the call fits every limit (and no earlier than the key's last reservation, so
 * admissions are FIFO). Admitted now when that time is `now`; in wait mode, admitted after waiting
 * until it when the wait is within `maxWaitMs`; refused otherwise, with that wait as `retryAfterMs`.
 *
 * State per key is one `Float64Array`:
 * - slot 0: the key's last reservation;
 * - a token bucket, as GCRA: its theoretical arrival time `tat` (one slot);
 * - a sliding window: the times of its last `limit` reservations, as a ring (`limit + 1` slots).
 *
 * Laws (test/laws.test.ts): in every window `[t, t + windowMs)` at most `limit` reservations
 * fall; a token bucket admits at most `burst + rate * elapsed / intervalMs` calls in any span; a refused
 * call's `retryAfterMs` is never an underestimate (a call sooner is refused too) and, with nobody
 * else calling, exact (a call then is admitted).
 *
 * @module
 */

import { optionChecker } from '@bulwark/core/options';

/**
 * A token bucket: `rate` tokens per `intervalMs`, holding at most `burst`; a call takes one.
 *
 * @category models
 * @since 0.1.0
 */
export interface TokenBucket {
  readonly kind: 'token-bucket';
  /** Tokens added per `intervalMs`. */
  readonly rate: number;
  /** The interval `rate` is counted over, in milliseconds. */
  readonly intervalMs: number;
  /** The most tokens the bucket holds: how many calls may go at once after a quiet spell. */
  readonly burst: number;
}

/**
 * A sliding window: at most `limit` calls in any `windowMs` milliseconds (exact: a log of the last
 * `limit` admissions per key, not an approximation from counters).
 *
 * @category models
 * @since 0.1.0
 */
export interface SlidingWindow {
  readonly kind: 'sliding-window';
  /** Calls allowed per window. */
  readonly limit: number;
  /** The window's length in milliseconds. */
  readonly windowMs: number;
}

/**
 * One limit a rate limiter enforces.
 *
 * @category models
 * @since 0.1.0
 */
export type Limit = TokenBucket | SlidingWindow;

/**
 * A token bucket limit: `rate` calls per `intervalMs` on average, bursts of up to `burst`.
 *
 * @param options.rate - Tokens added per interval: a positive number.
 * @param options.intervalMs - The interval in milliseconds. @default 1000
 * @param options.burst - The bucket's size: a positive integer. @default Math.max(1, Math.floor(rate))
 * @throws TypeError or RangeError - when an option is invalid, or the time per token (`intervalMs / rate`)
 *   or `burst` times it is not a finite number above 0.
 *
 * @example
 * ```ts
 * const perSecond = tokenBucket({ rate: 5, burst: 10 });
 * assert.deepEqual(perSecond, { kind: 'token-bucket', rate: 5, intervalMs: 1000, burst: 10 });
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function tokenBucket(options: { rate: number; intervalMs?: number; burst?: number }): TokenBucket {
  const opts = check.object('tokenBucket options', options) as Partial<TokenBucket>;
  const rate = check.number('rate', required('rate', opts.rate), 1, { min: Number.MIN_VALUE });
  const intervalMs = check.number('intervalMs', opts.intervalMs, 1000, { min: Number.MIN_VALUE });
  // The default burst is one interval's worth, kept a safe integer however large the rate.
  const burst = check.integer('burst', opts.burst, Math.max(1, Math.min(Math.floor(rate), Number.MAX_SAFE_INTEGER)), {
    min: 1,
  });
  // The model spaces calls `intervalMs / rate` apart and lets `burst` of them through at once: an
  // infinite spacing made the tolerance NaN (a bucket that never refused), a zero one admits every call.
  const perToken = intervalMs / rate;
  if (perToken === Infinity) check.fail('rate', 'large enough that `intervalMs / rate` is finite', rate);
  if (perToken === 0) check.fail('rate', 'small enough that `intervalMs / rate` is above 0', rate);
  if (!Number.isFinite(burst * perToken))
    check.fail('burst', 'small enough that `burst * intervalMs / rate` is finite', burst);
  return { kind: 'token-bucket', rate, intervalMs, burst };
}

/**
 * A sliding window limit: at most `limit` calls in any `windowMs`.
 *
 * Memory is `limit + 1` numbers per key: for limits in the tens of thousands per window, prefer a
 * token bucket.
 *
 * @param options.limit - Calls per window: a positive integer.
 * @param options.windowMs - The window in milliseconds: a positive number.
 * @throws TypeError or RangeError - when an option is invalid.
 *
 * @example
 * ```ts
 * const tenPerMinute = slidingWindow({ limit: 10, windowMs: 60_000 });
 * assert.equal(tenPerMinute.kind, 'sliding-window');
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function slidingWindow(options: { limit: number; windowMs: number }): SlidingWindow {
  const opts = check.object('slidingWindow options', options) as Partial<SlidingWindow>;
  const limit = check.integer('limit', required('limit', opts.limit), 1, { min: 1, max: 1_000_000 });
  const windowMs = check.number('windowMs', required('windowMs', opts.windowMs), 1, { min: Number.MIN_VALUE });
  return { kind: 'sliding-window', limit, windowMs };
}

const check = optionChecker('@bulwark/ratelimit');

function required<T>(name: string, value: T | undefined): T {
  if (value === undefined)
    throw new TypeError(`@bulwark/ratelimit: expected \`${name}\` (it has no default), got undefined`);
  return value;
}

/**
 * Checks a list of limits given to a limiter or a store: at least one, each made by
 * {@link tokenBucket} or {@link slidingWindow} (or of the same shape, checked again here).
 *
 * @internal
 */
export function checkLimits(limits: unknown): readonly Limit[] {
  if (!Array.isArray(limits) || limits.length === 0) {
    return check.fail('limits', 'a non-empty array of tokenBucket(…) and slidingWindow(…) limits', limits);
  }
  return limits.map((limit: unknown, i): Limit => {
    const kind = (limit as { kind?: unknown } | null)?.kind;
    if (kind === 'token-bucket') return tokenBucket(limit as TokenBucket);
    if (kind === 'sliding-window') return slidingWindow(limit as SlidingWindow);
    return check.fail(`limits[${i}]`, 'a tokenBucket(…) or slidingWindow(…) limit', limit);
  });
}

/** The smallest whole number of milliseconds `r` with `now + r >= at` as the clock will compute it. */
export function waitUntil(at: number, now: number): number {
  let r = Math.ceil(at - now);
  // Rounding in `at - now` may lose a fraction; never let the promise be early.
  while (now + r < at) r++;
  return r;
}

/**
 * The compiled form of a list of limits: where each lives in a key's state, and the pure functions
 * over that state.
 *
 * @example
 * ```ts
 * // 2 calls per second: the pure decisions a limiter makes for one key.
 * const plan = new LimitPlan([slidingWindow({ limit: 2, windowMs: 1000 })]);
 * const key = plan.fresh();
 * assert.equal(plan.reserve(key, 0, 0), 0); // admitted at once
 * assert.equal(plan.reserve(key, 10, 0), 0);
 * assert.equal(plan.reserve(key, 20, 0), -980); // refused: retry after 980 ms
 * assert.equal(plan.reserve(key, 20, 5000), 980); // or, waiting allowed, admitted in 980 ms
 * assert.equal(plan.earliest(key, 20), 1010); // the next free slot
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export class LimitPlan {
  /** How many numbers a key's state holds. */
  readonly size: number;
  private readonly offsets: readonly number[];

  constructor(readonly limits: readonly Limit[]) {
    let size = 1;
    const offsets: number[] = [];
    for (const limit of limits) {
      offsets.push(size);
      size += limit.kind === 'token-bucket' ? 1 : limit.limit + 1;
    }
    this.size = size;
    this.offsets = offsets;
  }

  /** A fresh key's state: no reservation yet. */
  fresh(): Float64Array {
    const state = new Float64Array(this.size).fill(Number.NEGATIVE_INFINITY);
    for (let i = 0; i < this.limits.length; i++) {
      if ((this.limits[i] as Limit).kind === 'sliding-window') state[this.offsets[i] as number] = 0;
    }
    return state;
  }

  /**
   * The earliest time at or after `now` at which one more call fits every limit and follows the
   * key's last reservation. Pure: reads `state`, changes nothing.
   */
  earliest(state: Float64Array, now: number): number {
    let at = Math.max(now, state[0] as number);
    const { limits, offsets } = this;
    for (let i = 0; i < limits.length; i++) {
      const limit = limits[i] as Limit;
      const o = offsets[i] as number;
      let allowAt: number;
      if (limit.kind === 'token-bucket') {
        const interval = limit.intervalMs / limit.rate;
        allowAt = (state[o] as number) - (limit.burst - 1) * interval;
      } else {
        // The ring's next slot holds the `limit`-th most recent reservation.
        allowAt = (state[o + 1 + (state[o] as number)] as number) + limit.windowMs;
      }
      if (allowAt > at) at = allowAt;
    }
    return at;
  }

  /** Records a reservation at `at` (from {@link LimitPlan.earliest}) in `state`. */
  record(state: Float64Array, at: number): void {
    state[0] = at;
    const { limits, offsets } = this;
    for (let i = 0; i < limits.length; i++) {
      const limit = limits[i] as Limit;
      const o = offsets[i] as number;
      if (limit.kind === 'token-bucket') {
        state[o] = Math.max(state[o] as number, at) + limit.intervalMs / limit.rate;
      } else {
        const head = state[o] as number;
        state[o + 1 + head] = at;
        state[o] = head + 1 === limit.limit ? 0 : head + 1;
      }
    }
  }

  /**
   * Decides one call at `now` and records it if admitted: returns how long it must wait (0 for at
   * once; not rounded) when admitted within `maxWaitMs`, or `-retryAfterMs` (negative, rounded up to
   * whole milliseconds) when refused.
   */
  reserve(state: Float64Array, now: number, maxWaitMs: number): number {
    const at = this.earliest(state, now);
    if (at <= now) {
      this.record(state, now);
      return 0;
    }
    if (at - now > maxWaitMs) return -waitUntil(at, now);
    this.record(state, at);
    // Exact, not rounded: rounding each wait up to whole milliseconds would bunch starts that a
    // bucket with a sub-millisecond interval spaces apart.
    return at - now;
  }

  /** The longest window or bucket refill time: how long a reservation matters. */
  get longestMs(): number {
    let longest = 0;
    for (const limit of this.limits) {
      const ms = limit.kind === 'token-bucket' ? (limit.burst * limit.intervalMs) / limit.rate : limit.windowMs;
      if (ms > longest) longest = ms;
    }
    return longest;
  }
}
