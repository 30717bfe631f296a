/**
 * The error a promise rejects with, for tests that assert on a failure's fields.
 *
 * @module
 */

/**
 * Resolves with the reason `promise` rejects with; rejects if it fulfils instead, so a call that was
 * expected to fail and did not fails the test.
 *
 * @example
 * ```ts
 * const error = await rejectionOf(Promise.reject(new RangeError('too far')));
 * assert.ok(error instanceof RangeError);
 * await assert.rejects(rejectionOf(Promise.resolve(1)), /expected the promise to reject/);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value: unknown) => {
      throw new Error(`expected the promise to reject, but it fulfilled with ${String(value)}`);
    },
    (error: unknown) => error,
  );
}
