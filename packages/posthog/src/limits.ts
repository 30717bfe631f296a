/**
 * PostHog's published private-API rate limits as client-side limiters, one per throttle bucket, that
 * queue requests (never fail them) so that PostHog's own throttles never have to answer 429; and the
 * query endpoint's concurrency limit (3 queries per project at once) as a bulkhead.
 *
 * The limiters are exact sliding windows (`@bulwark/ratelimit`), the same arithmetic as DRF's throttle
 * log, each window lengthened by a small margin for the time a request spends on the wire: a request
 * admitted here at `t` arrives at PostHog a little later, and the margin keeps "240 in any minute"
 * true at PostHog's end too. With a Redis store (`redisStore`) every process using the same store,
 * host and project draws from one budget.
 *
 * @module
 */

import { bulkhead, type Bulkhead } from '@bulwark/bulkhead';
import type { Clock } from '@bulwark/core';
import { rateLimit, slidingWindow, type RateLimiter, type RateLimitStoreFactory } from '@bulwark/ratelimit';

import type { ApiBucket } from './kinds.js';

/**
 * One published rate: at most `limit` requests in any `windowMs`.
 *
 * @category models
 * @since 0.1.0
 */
export interface PostHogRate {
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * PostHog's published private-API limits per bucket (docs and `posthog/rate_limit.py`).
 *
 * @example
 * ```ts
 * assert.deepEqual(POSTHOG_API_LIMITS.analytics, [
 *   { limit: 240, windowMs: 60_000 },
 *   { limit: 1200, windowMs: 3_600_000 },
 * ]);
 * ```
 *
 * @category constants
 * @since 0.1.0
 */
export const POSTHOG_API_LIMITS: Readonly<Record<ApiBucket, readonly PostHogRate[]>> = Object.freeze({
  analytics: [
    { limit: 240, windowMs: 60_000 },
    { limit: 1200, windowMs: 3_600_000 },
  ],
  query: [
    { limit: 240, windowMs: 60_000 },
    { limit: 2400, windowMs: 3_600_000 },
  ],
  crud: [
    { limit: 480, windowMs: 60_000 },
    { limit: 4800, windowMs: 3_600_000 },
  ],
});

/** What the limiters need from the driver. */
export interface LimitSettings {
  readonly name: string;
  readonly clock: Clock;
  readonly rates: Readonly<Record<ApiBucket, readonly PostHogRate[]>>;
  readonly marginMs: number;
  readonly maxWaitMs: number;
  readonly store: RateLimitStoreFactory | undefined;
  readonly queryConcurrency: number;
}

/** The limiters of one driver: one per bucket, and the query bulkhead. */
export interface ApiLimits {
  readonly limiters: Readonly<Record<ApiBucket, RateLimiter>>;
  readonly queries: Bulkhead;
}

/** Makes the limiters of one driver. */
export function apiLimits(settings: LimitSettings): ApiLimits {
  const limiter = (bucket: ApiBucket): RateLimiter =>
    rateLimit({
      limits: settings.rates[bucket].map((rate) =>
        slidingWindow({ limit: rate.limit, windowMs: rate.windowMs + settings.marginMs }),
      ),
      mode: 'wait',
      maxWaitMs: settings.maxWaitMs,
      name: `${settings.name}.${bucket}`,
      clock: settings.clock,
      ...(settings.store === undefined ? {} : { store: settings.store }),
    });
  return {
    limiters: { analytics: limiter('analytics'), query: limiter('query'), crud: limiter('crud') },
    queries: bulkhead({
      capacity: settings.queryConcurrency,
      queueSize: Number.POSITIVE_INFINITY,
      name: `${settings.name}.queries`,
      clock: settings.clock,
    }),
  };
}
