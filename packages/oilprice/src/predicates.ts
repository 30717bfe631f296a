/**
 * What the default pipeline decides about a failure, as plain predicates: which failures are worth
 * another attempt, and which say the API is unwell (and so count towards opening a breaker). They
 * work with any resilience library (cockatiel's `handleWhen`, p-retry's `shouldRetry`).
 *
 * @module
 */

import { isBulwarkError } from '@bulwark/core';

import { isOilPriceApiError, isOilPriceNetworkError, isOilPriceResponseError } from './errors.js';

/**
 * Whether another attempt of the same request may succeed: a 429 that is not an exhausted quota, a
 * 5xx, no answer, a cut-off body, or an attempt that timed out. Never another 4xx, an exhausted quota,
 * a body of the wrong shape, a caller's abort, or an error of your own code.
 *
 * @example
 * ```ts
 * assert.equal(isRetryableFailure(new OilPriceNetworkError('GET /v1/prices/latest', 'ECONNRESET', undefined)), true);
 * assert.equal(isRetryableFailure(new TypeError('a bug')), false);
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export function isRetryableFailure(error: unknown): boolean {
  if (isOilPriceApiError(error) || isOilPriceNetworkError(error) || isOilPriceResponseError(error)) {
    return error.retryable;
  }
  return isBulwarkError(error) && error._tag === 'Timeout';
}

/**
 * Whether a failure says the API itself is unwell: no answer, a 5xx, a 429 burst, a body that cannot be
 * used, or a timeout. A refusal of the request (a bad code, a bad key, a plan or a quota limit) is an
 * answer from a healthy API and does not count.
 *
 * @example
 * ```ts
 * assert.equal(isDependencyFailure(new OilPriceResponseError('GET /v1/commodities', 'malformed-json')), true);
 * assert.equal(isDependencyFailure(new Error('mine')), false);
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export function isDependencyFailure(error: unknown): boolean {
  if (isOilPriceApiError(error)) return error.kind === 'server' || error.kind === 'rate-limited';
  if (isOilPriceNetworkError(error) || isOilPriceResponseError(error)) return true;
  return isBulwarkError(error) && error._tag === 'Timeout';
}
