/**
 * The error a full bulkhead rejects a call with.
 *
 * @module
 */

import { BulwarkError, tagGuard } from '@bulwark/core';

/**
 * A call was refused because every slot was busy and the queue was full.
 *
 * It is retryable: the bulkhead sheds load now, and a later attempt (after a backoff) may find a free
 * slot. The fields say how full the bulkhead was when it refused.
 *
 * @example
 * ```ts
 * const error = new BulkheadRejectedError(10, 100, 10, 100);
 * assert.equal(error._tag, 'BulkheadRejected');
 * assert.ok(isBulkheadRejectedError(error));
 * assert.equal(error.capacity, 10);
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class BulkheadRejectedError extends BulwarkError<'BulkheadRejected'> {
  readonly retryable = true;

  /**
   * @param capacity - How many calls may run at once.
   * @param queueSize - How many more may wait (`Infinity` when unbounded).
   * @param running - How many were running when the call was refused.
   * @param queued - How many were waiting when the call was refused.
   */
  constructor(
    readonly capacity: number,
    readonly queueSize: number,
    readonly running: number,
    readonly queued: number,
  ) {
    super(
      'BulkheadRejected',
      `bulkhead full: ${running} of ${capacity} slots running and ${queued} of ${queueSize} queue places taken`,
    );
  }
}

/**
 * Whether `value` is a {@link BulkheadRejectedError} (from any copy of this package).
 *
 * @example
 * ```ts
 * assert.ok(isBulkheadRejectedError(new BulkheadRejectedError(1, 0, 1, 0)));
 * assert.ok(!isBulkheadRejectedError(new Error('BulkheadRejected')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isBulkheadRejectedError = tagGuard<BulkheadRejectedError>('BulkheadRejected');
