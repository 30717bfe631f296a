/**
 * fp-ts interop, on its own entry point (`@bulwark/core/fp`) so that users who do not use fp-ts
 * never load it.
 *
 * Laws: `monoidPolicy` is a lawful `Monoid` (associative `concat`, `empty` as identity), checked by
 * the test kit's `policyMonoidLaws`; a lifted `TaskEither` never rejects for a `Left` or a policy error
 * (Bulwark's or another's), only for its caller's abort.
 *
 * @module
 */

import * as E from 'fp-ts/lib/Either.js';
import type { Monoid } from 'fp-ts/lib/Monoid.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';

import type { BulwarkError } from './errors.js';
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
 * holding the policy's error. Only a caller's abort rejects (a cancellation, not a result).
 *
 * @typeParam PolicyError - What the policy fails with: Bulwark's policies fail with a
 * {@link BulwarkError}; name another type for a policy of your own or one from elsewhere (a cockatiel
 * policy through `fromCockatiel`), whose errors come back as `Left`s too.
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
export function liftTaskEither<PolicyError = BulwarkError>(
  policy: Policy<PolicyEvent>,
): <Err, A>(task: TaskEither<Err, A>, signal?: AbortSignal) => TaskEither<Err | PolicyError, A> {
  return <Err, A>(task: TaskEither<Err, A>, signal?: AbortSignal): TaskEither<Err | PolicyError, A> =>
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
          (value): E.Either<Err | PolicyError, A> => E.right(value),
          (error: unknown): E.Either<Err | PolicyError, A> => {
            if (lastLeft !== undefined && lastLeft.left === error) return lastLeft;
            // A call its caller cancelled is over, whatever it failed with (the policies' own rule).
            if (signal?.aborted === true) throw error;
            // Anything else is a policy's failure (a TaskEither never rejects): Bulwark's, or one of a
            // policy from elsewhere, typed by the caller as `PolicyError`.
            return E.left(error as PolicyError);
          },
        );
    };
}
