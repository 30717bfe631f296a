/**
 * The one error the cache produces: an entry too old to stand in for a failed origin call.
 *
 * @module
 */

import { BulwarkError, isBulwarkError, tagGuard } from '@bulwark/core';

/**
 * The origin failed and the only entry at hand is older than `maxStaleAgeMs`: serving it would pass
 * off data that old as current. The origin's error is the `cause`.
 *
 * @example
 * ```ts
 * const error = new CacheExpiredError('WTI', 3_700_000, 3_600_000, new Error('502'));
 * assert.equal(error._tag, 'CacheExpired');
 * assert.equal(error.ageMs, 3_700_000);
 * assert.ok(isCacheExpiredError(error));
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class CacheExpiredError extends BulwarkError<'CacheExpired'> {
  /** Whether calling again may help: as much as retrying the origin's own error would. */
  readonly retryable: boolean;

  /**
   * @param key - The entry's key (as the policy's `key` made it).
   * @param ageMs - How old the entry was when the origin failed, in milliseconds.
   * @param maxStaleAgeMs - The oldest entry the policy serves in place of an error, in milliseconds.
   * @param cause - The origin's error.
   */
  constructor(
    readonly key: string,
    readonly ageMs: number,
    readonly maxStaleAgeMs: number,
    cause: unknown,
  ) {
    super(
      'CacheExpired',
      `the origin failed and the cached entry is ${ageMs} ms old, older than the ${maxStaleAgeMs} ms allowed in its place`,
      { cause },
    );
    this.retryable = isBulwarkError(cause) ? cause.retryable : true;
  }
}

/**
 * Whether `value` is a {@link CacheExpiredError} (of any copy of this package).
 *
 * @example
 * ```ts
 * assert.ok(isCacheExpiredError(new CacheExpiredError('WTI', 2, 1, new Error('502'))));
 * assert.ok(!isCacheExpiredError(new Error('CacheExpired')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isCacheExpiredError = tagGuard<CacheExpiredError>('CacheExpired');
