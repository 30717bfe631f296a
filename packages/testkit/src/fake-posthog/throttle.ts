/**
 * PostHog's private-API throttles as DRF runs them: a sliding log of request times per bucket and
 * identity, checked against every rate of the bucket (burst and sustained).
 *
 * Semantics kept from Django REST framework's `SimpleRateThrottle`: a request is allowed by a rate when
 * fewer than `limit` requests of that rate's log fall within the last `periodMs`; an allowed rate logs
 * the request even when another rate of the same bucket refuses it (DRF checks each throttle on its
 * own); the wait of a refusal is `(periodMs - age of the oldest logged request) / (limit - logged + 1)`,
 * and the response's `Retry-After` is that wait rounded up to whole seconds, the largest over the
 * refusing rates.
 *
 * @module
 */

/**
 * One rate: at most `limit` requests in any `periodMs`.
 *
 * @category testing
 * @since 0.1.0
 */
export interface ThrottleRate {
  readonly limit: number;
  readonly periodMs: number;
}

/**
 * PostHog's throttle buckets for the private API: ClickHouse-backed analytics endpoints, the query
 * endpoint, and everything else.
 *
 * @category testing
 * @since 0.1.0
 */
export type ThrottleBucket = 'analytics' | 'query' | 'crud';

const MINUTE = 60_000;
const HOUR = 3_600_000;

/**
 * The published limits (PostHog docs and `posthog/rate_limit.py`): 240/min and 1,200/hour for
 * analytics, 240/min and 2,400/hour for queries, 480/min and 4,800/hour for the rest.
 *
 * @example
 * ```ts
 * import { POSTHOG_RATE_LIMITS } from '@bulwark/testkit/fake-posthog';
 * assert.deepEqual(
 *   POSTHOG_RATE_LIMITS.analytics.map((rate) => rate.limit),
 *   [240, 1200],
 * );
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export const POSTHOG_RATE_LIMITS: Readonly<Record<ThrottleBucket, readonly ThrottleRate[]>> = Object.freeze({
  analytics: [
    { limit: 240, periodMs: MINUTE },
    { limit: 1200, periodMs: HOUR },
  ],
  query: [
    { limit: 240, periodMs: MINUTE },
    { limit: 2400, periodMs: HOUR },
  ],
  crud: [
    { limit: 480, periodMs: MINUTE },
    { limit: 4800, periodMs: HOUR },
  ],
});

/** A log of request times, oldest first, trimmed from the front without shifting the array. */
class TimeLog {
  private times: number[] = [];
  private head = 0;

  get size(): number {
    return this.times.length - this.head;
  }

  oldest(): number | undefined {
    return this.times[this.head];
  }

  trim(before: number): void {
    while (this.head < this.times.length && (this.times[this.head] as number) <= before) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  push(at: number): void {
    this.times.push(at);
  }
}

/**
 * The decision on one request: allowed, or refused with how long to wait.
 *
 * @category testing
 * @since 0.1.0
 */
export type ThrottleDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly waitMs: number; readonly retryAfterS: number };

/**
 * The throttles of one fake server: a log per bucket, rate and identity.
 *
 * @example
 * ```ts
 * import { Throttle } from '@bulwark/testkit/fake-posthog';
 *
 * const throttle = new Throttle({ analytics: [{ limit: 2, periodMs: 60_000 }], query: [], crud: [] });
 * assert.ok(throttle.check('analytics', 'key', 0).allowed);
 * assert.ok(throttle.check('analytics', 'key', 1).allowed);
 * const third = throttle.check('analytics', 'key', 2);
 * assert.ok(!third.allowed && third.retryAfterS === 60);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export class Throttle {
  private readonly logs = new Map<string, TimeLog[]>();

  constructor(private readonly rates: Readonly<Record<ThrottleBucket, readonly ThrottleRate[]>>) {}

  /** Checks (and, where allowed, logs) one request of `identity` against `bucket` at time `now` (ms). */
  check(bucket: ThrottleBucket, identity: string, now: number): ThrottleDecision {
    const rates = this.rates[bucket];
    if (rates.length === 0) return { allowed: true };
    const key = `${bucket}\u0000${identity}`;
    let logs = this.logs.get(key);
    if (logs === undefined) {
      logs = rates.map(() => new TimeLog());
      this.logs.set(key, logs);
    }
    let waitMs = -1;
    for (let i = 0; i < rates.length; i++) {
      const rate = rates[i] as ThrottleRate;
      const log = logs[i] as TimeLog;
      log.trim(now - rate.periodMs);
      if (log.size < rate.limit) {
        log.push(now);
        continue;
      }
      const oldest = log.oldest() ?? now;
      const remaining = rate.periodMs - (now - oldest);
      const wait = remaining / (rate.limit - log.size + 1);
      if (wait > waitMs) waitMs = wait;
    }
    if (waitMs < 0) return { allowed: true };
    return { allowed: false, waitMs, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Forgets every logged request. */
  reset(): void {
    this.logs.clear();
  }
}
