/**
 * A Bulwark policy where cockatiel expects one (`IPolicy`): in cockatiel's `wrap(...)`, in code
 * typed against cockatiel.
 *
 * The caller's signal reaches the Bulwark call, through a signal of the call's own linked to it while
 * the call runs; the Bulwark context's signal reaches the function as cockatiel's `context.signal`.
 * `onSuccess` and `onFailure` fire with the call's duration, as cockatiel's own policies do.
 *
 * @module
 */

import { definePolicy, PASS, pipeline, type Context, type Policy, type PolicyEvent, type Task } from '@bulwark/core';
import {
  EventEmitter,
  NoopPolicy,
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
          // Cockatiel reports every rejection as `error`, whatever was thrown (a string, another realm's
          // Error, though it types it `Error`); its `value` is for results it refused.
          if (outcome.ok) successes.emit({ duration });
          else failures.emit({ duration, handled: true, reason: { error: outcome.value as Error } });
          return PASS;
        },
      },
    },
  ]);
  const timed = pipeline(timing, policy);
  const neverAborted = cockatielsSignalForNone();
  return {
    bulwark: policy,
    _altReturn: undefined as never,
    onSuccess: successes.addListener,
    onFailure: failures.addListener,
    execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
      const task = (ctx: Context): Promise<T> => Promise.resolve(fn({ signal: ctx.signal }));
      if (signal === undefined || signal === neverAborted) return timed.execute(task);
      return executeLinked(timed, task, signal);
    },
  };
}

/**
 * Runs `task` under `policy` with a signal of the call's own, which `outer` aborts while the call runs.
 *
 * Not `outer` itself: the signals cockatiel passes outlive the call (its retry passes the same one to
 * every attempt), and a Bulwark policy inside that combines the caller's signal with its own
 * (`AbortSignal.any`, a timeout) leaves on Node 20 a reference on it that is never freed. A listener is
 * removed when the call settles.
 */
function executeLinked<T>(policy: Policy, task: Task<T>, outer: AbortSignal): Promise<T> {
  // `AbortSignal.any` keeps no reference on a source that has already aborted: nothing to unlink.
  if (outer.aborted) return policy.execute(task, outer);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(outer.reason);
  outer.addEventListener('abort', onAbort, { once: true });
  const stopListening = (): void => outer.removeEventListener('abort', onAbort);
  return policy.execute(task, controller.signal).finally(stopListening);
}

/**
 * The signal cockatiel's policies pass on when given none (its `neverAbortedSignal`, not exported),
 * or `undefined` if this version has no such signal. It never aborts, so a call given it needs none.
 */
function cockatielsSignalForNone(): AbortSignal | undefined {
  let found: AbortSignal | undefined;
  // Cockatiel calls the function synchronously, with the signal it defaults to.
  void new NoopPolicy().execute(({ signal }) => {
    found = signal;
  });
  return found;
}
