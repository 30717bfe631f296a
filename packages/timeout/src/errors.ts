/**
 * The error a timeout rejects a call with.
 *
 * @module
 */

import { BulwarkError, tagGuard } from '@bulwark/core';

/**
 * A call did not settle within its time limit.
 *
 * It is retryable: the next attempt may be faster. It is also the abort reason of the task's signal
 * when the deadline passes, so a task that rejects with `signal.reason` (as `fetch` and
 * `node:timers/promises` do) rejects with this very error. When a cooperative timeout's task rejects
 * with some other error after the deadline, the call rejects with a new `TimeoutError` whose `cause`
 * is that error.
 *
 * @example
 * ```ts
 * const error = new TimeoutError(1500);
 * assert.equal(error._tag, 'Timeout');
 * assert.equal(error.timeoutMs, 1500);
 * assert.equal(error.retryable, true);
 * assert.ok(isTimeoutError(error));
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class TimeoutError extends BulwarkError<'Timeout'> {
  readonly retryable = true;

  /**
   * @param timeoutMs - The limit that passed, in milliseconds.
   * @param options - `cause`: what the task failed with after the deadline, if anything.
   */
  constructor(
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super('Timeout', `timed out after ${timeoutMs} ms`, options);
  }
}

/**
 * Whether `value` is a {@link TimeoutError} (from any copy of this package).
 *
 * @example
 * ```ts
 * assert.ok(isTimeoutError(new TimeoutError(10)));
 * assert.ok(!isTimeoutError(new Error('Timeout')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isTimeoutError = tagGuard<TimeoutError>('Timeout');
