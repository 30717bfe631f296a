/**
 * A cockatiel policy as a layer of a Bulwark pipeline.
 *
 * Signals flow both ways: the Bulwark call's signal goes to cockatiel's `execute`, and each attempt
 * cockatiel makes runs in a Bulwark child scope that aborts when cockatiel's signal for that attempt
 * does (a cockatiel timeout, say). The listener that links them lives only as long as the attempt.
 * A Bulwark abort settles the call at once, even while cockatiel waits on something deaf to it.
 *
 * @module
 */

import { definePolicy, type Context, type Policy, type Scope, type Task } from '@bulwark/core';
import type { IDefaultPolicyContext, IPolicy } from 'cockatiel';

/**
 * Options of {@link fromCockatiel}.
 *
 * @category models
 * @since 0.1.0
 */
export interface FromCockatielOptions {
  /**
   * The layer's name in Bulwark's events and reports.
   *
   * @default 'cockatiel'
   */
  readonly name?: string;
}

/**
 * Makes a Bulwark policy that runs its inner part through a cockatiel policy.
 *
 * Cockatiel policies that replace the result (a `FallbackPolicy`, whose `AltReturn` is not `never`)
 * are refused by the types: a Bulwark layer must return what its inner part returns. Use
 * `@bulwark/fallback` instead.
 *
 * @example
 * ```ts
 * import { handleAll, retry, ConstantBackoff } from 'cockatiel';
 * import { pipeline } from '@bulwark/core';
 * let calls = 0;
 * const policy = pipeline(fromCockatiel(retry(handleAll, { maxAttempts: 2, backoff: new ConstantBackoff(0) })));
 * const value = await policy.execute(async () => {
 *   if (++calls < 3) throw new Error('flaky');
 *   return calls;
 * });
 * assert.equal(value, 3);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function fromCockatiel<C extends IDefaultPolicyContext>(
  policy: IPolicy<C, never>,
  options: FromCockatielOptions = {},
): Policy<never> {
  const name = options.name ?? 'cockatiel';
  const decorate =
    <A>(next: Task<A>): Task<A> =>
    (ctx: Context) => {
      const scope = ctx as Scope;
      let attempts = 0;
      const run = (cockatielContext: IDefaultPolicyContext): Promise<A> => {
        // Each cockatiel attempt runs in a scope of its own, aborted by cockatiel's signal for it.
        const attempt = scope.child(true, scope.attempt + attempts++);
        const signal = cockatielContext.signal;
        if (signal.aborted) attempt.abort(signal.reason);
        const onAbort = (): void => attempt.abort(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        const stopListening = (): void => signal.removeEventListener('abort', onAbort);
        // Started inside the promise, so that a task that throws synchronously still stops listening.
        return new Promise<A>((resolve) => resolve(next(attempt))).finally(stopListening);
      };
      // A scope that cannot abort has no signal worth making (reading it makes an AbortController).
      if (!scope.mayAbort) return policy.execute(run);
      const signal = scope.signal;
      // A caller who has already gone gets the reason at once, and cockatiel is not started for it.
      if (signal.aborted) return Promise.reject(signal.reason);
      return settleOnAbort(policy.execute(run, signal), signal);
    };
  return definePolicy(name, [{ decorate }]);
}

/**
 * Settles with `signal`'s reason as soon as it aborts, else as `call` does.
 *
 * Cockatiel 3 does not hear its signal everywhere: its retry sleeps out a backoff on a timer that
 * ignores it. The caller who aborted is not kept waiting for that; `call` settles in the background,
 * its rejection handled here.
 */
function settleOnAbort<A>(call: Promise<A>, signal: AbortSignal): Promise<A> {
  return new Promise<A>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const stopListening = (): void => signal.removeEventListener('abort', onAbort);
    call.then(
      (value) => {
        stopListening();
        resolve(value);
      },
      (error: unknown) => {
        stopListening();
        reject(error);
      },
    );
  });
}
