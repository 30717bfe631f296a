/**
 * A Bulwark policy where cockatiel expects one (`IPolicy`): in cockatiel's `wrap(...)`, in code
 * typed against cockatiel.
 *
 * The caller's signal reaches the Bulwark call; the Bulwark context's signal reaches the function as
 * cockatiel's `context.signal`. `onSuccess` and `onFailure` fire with the call's duration, as
 * cockatiel's own policies do.
 *
 * @module
 */

import { definePolicy, PASS, pipeline, type Policy, type PolicyEvent } from '@bulwark/core';
import {
  EventEmitter,
  type IDefaultPolicyContext,
  type IFailureEvent,
  type IPolicy,
  type ISuccessEvent,
} from 'cockatiel';

/**
 * A cockatiel `IPolicy` backed by a Bulwark policy, which it keeps as `bulwark`.
 *
 * @category models
 * @since 0.1.0
 */
export interface CockatielPolicy<E extends PolicyEvent> extends IPolicy<IDefaultPolicyContext, never> {
  /** The Bulwark policy this one runs calls through. */
  readonly bulwark: Policy<E>;
}

/**
 * Makes a cockatiel policy from a Bulwark policy.
 *
 * @param now - A clock in milliseconds for the events' durations.
 * @default now performance.now
 * @example
 * ```ts
 * import { noop } from '@bulwark/core';
 * import { wrap, handleAll, retry, ConstantBackoff } from 'cockatiel';
 * const both = wrap(retry(handleAll, { maxAttempts: 1, backoff: new ConstantBackoff(0) }), toCockatiel(noop));
 * assert.equal(await both.execute(async ({ signal }) => (signal.aborted ? 'aborted' : 'ran')), 'ran');
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function toCockatiel<E extends PolicyEvent>(
  policy: Policy<E>,
  now: () => number = () => performance.now(),
): CockatielPolicy<E> {
  const successes = new EventEmitter<ISuccessEvent>();
  const failures = new EventEmitter<IFailureEvent>();
  // Times each call only while someone listens to cockatiel's events.
  const timing = definePolicy('cockatiel-events', [
    {
      gate: {
        enter: () => (successes.size + failures.size > 0 ? now() : undefined),
        exit: (startedAt: number | undefined, outcome) => {
          if (startedAt === undefined) return PASS;
          const duration = now() - startedAt;
          if (outcome.ok) successes.emit({ duration });
          else
            failures.emit({
              duration,
              handled: true,
              reason: outcome.value instanceof Error ? { error: outcome.value } : { value: outcome.value },
            });
          return PASS;
        },
      },
    },
  ]);
  const timed = pipeline(timing, policy);
  return {
    bulwark: policy,
    _altReturn: undefined as never,
    onSuccess: successes.addListener,
    onFailure: failures.addListener,
    execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
      return timed.execute((ctx) => Promise.resolve(fn({ signal: ctx.signal })), signal);
    },
  };
}
