/**
 * The error a hedge aborts its losing attempts with.
 *
 * @module
 */

import { BulwarkError, tagGuard } from '@bulwark/core';

/**
 * Another attempt of the same hedged call succeeded first: this attempt's signal aborts with this
 * error so that its work stops. Callers never see it (the call resolves with the winner's value); a
 * losing attempt's task may, as `ctx.signal.reason`.
 *
 * Not retryable: the call it belonged to has already succeeded.
 *
 * @example
 * ```ts
 * const error = new HedgeLostError(2);
 * assert.equal(error._tag, 'HedgeLost');
 * assert.equal(error.winner, 2);
 * assert.ok(isHedgeLostError(error));
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class HedgeLostError extends BulwarkError<'HedgeLost'> {
  readonly retryable = false;

  /** @param winner - The attempt that succeeded first (1 for the original call). */
  constructor(readonly winner: number) {
    super('HedgeLost', `another attempt (${winner}) of the hedged call succeeded first`);
  }
}

/**
 * Whether `value` is a {@link HedgeLostError} (from any copy of this package).
 *
 * @example
 * ```ts
 * assert.ok(isHedgeLostError(new HedgeLostError(1)));
 * assert.ok(!isHedgeLostError(new Error('HedgeLost')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isHedgeLostError = tagGuard<HedgeLostError>('HedgeLost');
