/**
 * The driver's default retry: what PostHog's own SDKs do (a few attempts with growing waits), plus
 * jitter so that many drivers failing together do not come back together, and `Retry-After` honoured.
 *
 * @module
 */

import { isBulwarkError, type Clock, type Policy, type PolicyEvent, type Random } from '@bulwark/core';
import { exponential, jitter, retry } from '@bulwark/retry';

import { isPostHogHttpError, isPostHogNetworkError } from './errors.js';

/**
 * Whether another attempt of a PostHog request may succeed: no answer, an attempt that timed out, or a
 * 408, 429 or 5xx. Never another 4xx, a body that could not be decoded, the driver's own rate limiter
 * giving up (it already waited its longest), or an error of the caller's code.
 *
 * @example
 * ```ts
 * assert.equal(isRetryablePostHogFailure(new PostHogNetworkError('api', '/api/projects/1/insights/', new Error('ECONNRESET'))), true);
 * assert.equal(isRetryablePostHogFailure(new TypeError('a bug')), false);
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export function isRetryablePostHogFailure(error: unknown): boolean {
  if (isPostHogNetworkError(error) || isPostHogHttpError(error)) return error.retryable;
  return isBulwarkError(error) && error._tag === 'Timeout';
}

/** @internal 3 attempts, waits of 1 s then 2 s, each + 0–30 %; a longer Retry-After (up to 60 s) wins. */
export function defaultRetry(clock: Clock, random: Random | undefined): Policy<PolicyEvent> {
  return retry({
    name: 'posthog-retry',
    maxAttempts: 3,
    backoff: jitter(exponential({ baseMs: 1_000, capMs: 30_000 }), 0.3),
    handle: isRetryablePostHogFailure,
    maxRetryAfterMs: 60_000,
    clock,
    ...(random !== undefined ? { random } : {}),
  });
}
