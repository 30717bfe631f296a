/**
 * The retry's decision after a failed attempt, as a pure function: wait this long and go again, or
 * give up and say why.
 *
 * Laws (test/laws.test.ts): never more than `maxAttempts` attempts; a non-retryable error never gets
 * a second attempt; a delay is the schedule's, or the failure's `retryAfterMs` when that is longer
 * (bounded by `maxRetryAfterMs`); no attempt is scheduled past the schedule's `maxElapsed`. What needs
 * state beyond the call (the retry budget, the caller's abort) is the runner's.
 *
 * @module
 */

import { isBulwarkError, MAX_TIMER_DELAY_MS, type Outcome, type Random } from '@bulwark/core';

import { elapsedLimit, nextDelay, STOP, type Backoff, type BackoffState } from './backoff.js';

/**
 * Why a call stopped retrying: its attempts or its schedule ran out (`attempts`), the next attempt
 * would start after the schedule's `maxElapsed` (`elapsed`), the shared retry budget was spent
 * (`budget`), the failure is not one to retry (`non-retryable`), or the caller aborted (`aborted`).
 *
 * @category models
 * @since 0.1.0
 */
export type GiveUpReason = 'attempts' | 'elapsed' | 'budget' | 'non-retryable' | 'aborted';

/**
 * What {@link retryDecision} decides with: the checked options of a retry.
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryRules {
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  /** Whether to retry an error (already guarded: it never throws). */
  readonly handle: (error: unknown) => boolean;
  readonly retryNonRetryable: boolean;
  readonly maxRetryAfterMs: number;
}

/** The failure's own delay hint: a positive numeric `retryAfterMs` on the error (a 429's `Retry-After`). */
function retryAfterOf(error: unknown): number {
  if (typeof error !== 'object' || error === null) return 0;
  const hint = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof hint === 'number' && hint > 0 ? hint : 0;
}

/**
 * Decides what follows a failed attempt: the delay in milliseconds before the next one, or why not.
 *
 * @param rules - The retry's options.
 * @param state - Attempts made so far (this one included), time since the first began, the last delay.
 * @param failure - The attempt's outcome: `ok: false` with the error, or `ok: true` with a result the
 *   retry's `handleResult` refused (results are retried by the schedule alone: no hint, no filter).
 * @param random - Where the schedule's jitter comes from.
 * @example
 * ```ts
 * import { systemRandom } from '@bulwark/core';
 * const rules = {
 *   maxAttempts: 3,
 *   backoff: constant(100),
 *   handle: () => true,
 *   retryNonRetryable: false,
 *   maxRetryAfterMs: 60_000,
 * };
 * const failed = { ok: false, value: new Error('boom') };
 * assert.equal(retryDecision(rules, { attempt: 1, elapsedMs: 0, previousDelayMs: 0 }, failed, systemRandom), 100);
 * assert.equal(retryDecision(rules, { attempt: 3, elapsedMs: 0, previousDelayMs: 0 }, failed, systemRandom), 'attempts');
 * const throttled = { ok: false, value: Object.assign(new Error('429'), { retryAfterMs: 2_000 }) };
 * assert.equal(retryDecision(rules, { attempt: 1, elapsedMs: 0, previousDelayMs: 0 }, throttled, systemRandom), 2_000);
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export function retryDecision(
  rules: RetryRules,
  state: BackoffState,
  failure: Outcome,
  random: Random,
): number | GiveUpReason {
  let hint = 0;
  if (!failure.ok) {
    const error = failure.value;
    if (!rules.retryNonRetryable && isBulwarkError(error) && error.retryable === false) return 'non-retryable';
    if (!rules.handle(error)) return 'non-retryable';
    hint = Math.min(retryAfterOf(error), rules.maxRetryAfterMs);
  }
  if (state.attempt >= rules.maxAttempts) return 'attempts';
  const delay = nextDelay(rules.backoff, state, random);
  if (delay < 0) return delay === STOP ? 'attempts' : 'elapsed';
  if (hint <= delay) return delay;
  const hinted = Math.min(hint, MAX_TIMER_DELAY_MS);
  return state.elapsedMs + hinted > elapsedLimit(rules.backoff) ? 'elapsed' : hinted;
}
