/**
 * What the cache needs to know about a call that core's public `Context` does not say: the wrapped
 * function and its arguments (to make the key), and a way to run the rest of the call detached from
 * the caller's signal (a single-flight origin call is shared: one caller's abort must not end it).
 *
 * Both come from the call data core keeps on every `Scope` (`scope.call`, documented as internal to
 * core), as does whether a caller's signal exists at all (a waiter that cannot abort needs no listener). This module is the only place the cache touches it, so if core gains a public accessor, only
 * these functions change. `test/call.test.ts` pins the behaviour through `wrap`, `wrapWithContext`,
 * `execute` and `decorate`.
 *
 * @module
 */

import { Scope, type Context } from '@bulwark/core';

/** The arguments of a call made through `wrap` or `wrapWithContext`; `undefined` under `execute`. */
export function argumentsOf(ctx: Context): readonly unknown[] | undefined {
  return ctx instanceof Scope ? ctx.call.args : undefined;
}

/** The function a `wrap`ped call runs (the same value on every call of one wrapped function). */
export function calleeOf(ctx: Context): unknown {
  return ctx instanceof Scope ? ctx.call.task : undefined;
}

/**
 * Whether the call's signal can ever abort. A call's root scope made without a caller's signal cannot
 * abort (only scopes a policy makes abortable can): a waiter then needs no abort listener.
 */
export function mayAbort(ctx: Context): boolean {
  return !(ctx instanceof Scope) || ctx.parent !== undefined || ctx.call.callerSignal !== undefined;
}

/**
 * A root scope for the same call (same function, arguments and correlation id) whose only signal is
 * `signal`: the rest of the call runs in it, untouched by the aborts of the caller who started it.
 */
export function detach(ctx: Context, signal: AbortSignal | undefined): Context {
  if (!(ctx instanceof Scope))
    return { signal: signal ?? new AbortController().signal, attempt: 1, correlationId: ctx.correlationId };
  const call = ctx.call;
  const id = ctx.correlationId;
  return call.mode === 'task' || call.args === undefined
    ? Scope.root(call.task, signal, id)
    : Scope.forArgs(call.task, call.mode, call.args, signal, id);
}
