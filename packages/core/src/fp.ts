/**
 * fp-ts interop, on its own entry point (`@bulwark/core/fp`) so that users who do not use fp-ts
 * never load it.
 *
 * Laws: `monoidPolicy` is a lawful `Monoid` (associative `concat`, `empty` as identity), checked by
 * the test kit's `policyMonoidLaws`; a lifted `TaskEither` never rejects for a `Left` or a policy error.
 *
 * @module
 */

import * as E from 'fp-ts/lib/Either.js';
import type { Monoid } from 'fp-ts/lib/Monoid.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';

import { isBulwarkError, type BulwarkError } from './errors.js';
import type { PolicyEvent } from './events.js';
import { noop, pipeline, type Policy } from './policy.js';

/**
 * Policies under {@link pipeline}, with {@link noop} as the identity.
 *
 * @example
 * ```ts
 * import { concatAll } from 'fp-ts/lib/Monoid.js';
 * const all = concatAll(monoidPolicy)([noop, noop]);
 * assert.equal(await all.execute(async () => 1), 1);
 * ```
 *
 * @category instances
 * @since 0.1.0
 */
export const monoidPolicy: Monoid<Policy<PolicyEvent>> = {
  concat: (first, second) => pipeline(first, second),
  empty: noop,
};

/**
 * Runs a `TaskEither` under a policy: a `Left` counts as a failure (so a retry retries it, a breaker
 * counts it) and comes back as the same `Left`; a failure of the policy itself comes back as a `Left`
 * holding the policy's error.
 *
 * @example
 * ```ts
 * import * as TE from 'fp-ts/lib/TaskEither.js';
 * const run = liftTaskEither(noop);
 * assert.deepEqual(await run(TE.right(1))(), { _tag: 'Right', right: 1 });
 * assert.deepEqual(await run(TE.left('no'))(), { _tag: 'Left', left: 'no' });
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export function liftTaskEither(
  policy: Policy<PolicyEvent>,
): <Err, A>(task: TaskEither<Err, A>, signal?: AbortSignal) => TaskEither<Err | BulwarkError, A> {
  return <Err, A>(task: TaskEither<Err, A>, signal?: AbortSignal): TaskEither<Err | BulwarkError, A> =>
    () => {
      // The Left's own value is thrown so that policies' predicates see the caller's error;
      // remembering it tells it apart from the policy's errors on the way out.
      let lastLeft: E.Left<Err> | undefined;
      return policy
        .execute(async () => {
          const result = await task();
          if (E.isLeft(result)) {
            lastLeft = result;
            throw result.left;
          }
          lastLeft = undefined;
          return result.right;
        }, signal)
        .then(
          (value): E.Either<Err | BulwarkError, A> => E.right(value),
          (error: unknown): E.Either<Err | BulwarkError, A> => {
            if (lastLeft !== undefined && lastLeft.left === error) return lastLeft;
            if (isBulwarkError(error)) return E.left(error);
            // Only a caller's abort reason can get here: a TaskEither never rejects, so neither does this.
            throw error;
          },
        );
    };
}
