/**
 * The error a rate limiter refuses a call with.
 *
 * @module
 */

import { BulwarkError, tagGuard } from '@bulwark/core';

/**
 * Why a call was refused: a limit is reached (`limit`), the wait for a slot would be longer than
 * `maxWaitMs` (`max-wait`), or the shared store is unreachable and the limiter fails closed
 * (`store-unavailable`).
 *
 * @category models
 * @since 0.1.0
 */
export type RateLimitedReason = 'limit' | 'max-wait' | 'store-unavailable';

/**
 * A call was refused by a rate limiter.
 *
 * `retryAfterMs` is never an underestimate: for `limit` and `max-wait`, a call for the same key made
 * sooner would be refused too (it is the exact time until a slot frees, rounded up to a whole
 * millisecond). For `store-unavailable` it is the store's `closedRetryAfterMs` hint.
 *
 * @example
 * ```ts
 * const error = new RateLimitedError('client-7', 1500, 'limit');
 * assert.equal(error._tag, 'RateLimited');
 * assert.ok(isRateLimitedError(error));
 * assert.equal(error.retryAfterMs, 1500);
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class RateLimitedError extends BulwarkError<'RateLimited'> {
  readonly retryable = true;

  /**
   * @param key - The key whose limit refused the call.
   * @param retryAfterMs - How long to wait before a call for `key` can be admitted, in milliseconds.
   * @param reason - Why the call was refused.
   * @param options - `cause`: the store's error when `reason` is `store-unavailable`.
   */
  constructor(
    readonly key: string,
    readonly retryAfterMs: number,
    readonly reason: RateLimitedReason,
    options?: { cause?: unknown },
  ) {
    super(
      'RateLimited',
      reason === 'store-unavailable'
        ? `rate limit store unavailable; failing closed, retry after ${retryAfterMs} ms`
        : `rate limited${reason === 'max-wait' ? ' (the wait would exceed maxWaitMs)' : ''}; retry after ${retryAfterMs} ms`,
      options,
    );
  }
}

/**
 * Whether `value` is a {@link RateLimitedError} (from any copy of this package).
 *
 * @example
 * ```ts
 * assert.ok(isRateLimitedError(new RateLimitedError('k', 10, 'limit')));
 * assert.ok(!isRateLimitedError(new Error('RateLimited')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isRateLimitedError = tagGuard<RateLimitedError>('RateLimited');
