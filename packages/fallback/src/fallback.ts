/**
 * The fallback policy: when the task fails with an error it handles (or resolves a result it
 * rejects), the call resolves with a fallback value instead, or with what a fallback function makes
 * of the failure.
 *
 * A decorator (it must own the call's outcome): one `then` on the task's promise.
 *
 * Laws (test/laws.test.ts): the call resolves with the fallback exactly when the task fails with a
 * handled error or resolves a handled result; otherwise it settles as the task did. A caller's abort
 * is never handled.
 *
 * @module
 */

import {
  definePolicy,
  Emitter,
  type Context,
  type ErrorFilter,
  type Policy,
  type PolicyEvent,
  type Scope,
  type Task,
} from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';

/**
 * What started a fallback: an error the task failed with, or a result `handleResult` rejected.
 *
 * @category models
 * @since 0.1.0
 */
export type FallbackTrigger = 'error' | 'result';

/**
 * Makes the value to resolve with instead of the failed call's outcome.
 *
 * @param reason - The error the task failed with, or the result `handleResult` rejected.
 * @param context - The call's context (its signal, attempt and correlation id).
 * @param trigger - Whether `reason` is an error or a result.
 * @category models
 * @since 0.1.0
 */
export type FallbackFn<B> = (reason: unknown, context: Context, trigger: FallbackTrigger) => B | PromiseLike<B>;

/**
 * Options of {@link fallback}.
 *
 * @category models
 * @since 0.1.0
 */
export interface FallbackOptions {
  /**
   * Which errors fall back: a predicate, or error classes (`instanceof` any of them). A caller's abort
   * never does.
   *
   * @default every error except a caller's abort
   */
  readonly handle?: ErrorFilter;
  /**
   * Which results fall back although the task resolved them (an HTTP response with status 503).
   *
   * @default none
   */
  // A method, not a property: its parameter is then checked bivariantly, so a predicate typed for
  // the caller's results (`(r: Response) => r.status === 503`) is accepted where `unknown` is given.
  handleResult?(this: void, value: unknown): boolean;
  /**
   * The policy's name in events.
   *
   * @default 'fallback'
   */
  readonly name?: string;
}

/**
 * A call fell back.
 *
 * @category events
 * @since 0.1.0
 */
export type FallbackEvent = PolicyEvent & {
  readonly type: 'fallback';
  readonly context: Context;
} & (
    | { readonly trigger: 'error'; /** What the task failed with. */ readonly error: unknown }
    | { readonly trigger: 'result'; /** The result `handleResult` rejected. */ readonly result: unknown }
  );

const check = optionChecker('@bulwark/fallback');

/**
 * Makes a fallback: a call whose task fails with a handled error (by default, any error but the
 * caller's abort) resolves with `valueOrFn` instead, or with what `valueOrFn(reason, context, trigger)`
 * returns when it is a function. To fall back to a function value, return it from a function.
 *
 * The fallback is returned in place of the task's value, so it must be of the type the tasks resolve
 * to: the `Policy` type cannot check that across a pipeline. An error thrown by the fallback function
 * rejects the call.
 *
 * @param valueOrFn - The fallback value, or a function making it from the failure.
 * @param options - Which errors and results fall back, and the policy's name.
 * @throws TypeError - when an option is invalid, naming it and the value.
 *
 * @example
 * ```ts
 * class ServiceDown extends Error {}
 * const lastKnownPrice = fallback(71.2, { handle: [ServiceDown] });
 *
 * const price = await lastKnownPrice.execute(async () => {
 *   throw new ServiceDown('503');
 * });
 * assert.equal(price, 71.2);
 * // An error it does not handle passes through.
 * await assert.rejects(lastKnownPrice.execute(async () => { throw new TypeError('bug'); }), TypeError);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function fallback<B>(valueOrFn: B | FallbackFn<B>, options: FallbackOptions = {}): Policy<FallbackEvent> {
  const opts = check.object('options', options) as Partial<FallbackOptions>;
  const handle = check.errorFilter('handle', opts.handle);
  const handleResult = check.func<(value: unknown) => boolean, undefined>('handleResult', opts.handleResult, undefined);
  const name = check.string('name', opts.name, 'fallback');
  const make: FallbackFn<B> = typeof valueOrFn === 'function' ? (valueOrFn as FallbackFn<B>) : () => valueOrFn;
  const events = new Emitter<FallbackEvent>();

  const onError = (error: unknown, ctx: Context): unknown => {
    const scope = ctx as Scope;
    // A call its caller (or a policy outside) cancelled is over, whatever the task rejected with: its
    // own reason, or an error of the task's making (`node:timers/promises` rejects with an
    // `AbortError` whose `cause` is the reason).
    if (scope.aborted) throw error;
    if (handle !== undefined && !handle(error)) throw error;
    if (events.active) events.emit({ type: 'fallback', policy: name, context: ctx, trigger: 'error', error });
    return make(error, ctx, 'error');
  };
  const onValue = (value: unknown, ctx: Context): unknown => {
    // As for an error: the caller has gone, so nothing stands in for what the task brought back.
    if ((ctx as Scope).aborted) return value;
    if (!(handleResult as (value: unknown) => boolean)(value)) return value;
    if (events.active) events.emit({ type: 'fallback', policy: name, context: ctx, trigger: 'result', result: value });
    return make(value, ctx, 'result');
  };

  const decorate = <A>(next: Task<A>): Task<A> => {
    const run = (ctx: Context): Promise<unknown> => {
      let pending: PromiseLike<A>;
      try {
        pending = next(ctx);
      } catch (error) {
        return Promise.resolve().then(() => onError(error, ctx));
      }
      return Promise.resolve(pending).then(
        handleResult === undefined ? undefined : (value) => onValue(value, ctx),
        (error: unknown) => onError(error, ctx),
      );
    };
    // The fallback stands in for the task's value: its type is the caller's to keep (see above).
    return run as Task<A>;
  };
  return definePolicy(name, [{ decorate }], events);
}
