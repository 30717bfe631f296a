/**
 * What the cache needs to know about a call that core's public `Context` does not say: the wrapped
 * function and its arguments (to make the key), and a way to run the rest of the call detached from
 * the caller's signal (a single-flight origin call is shared: one caller's abort must not end it).
 *
 * Both come from the call data core keeps on each call's root `Scope` (`scope.root.task`, `.args`,
 * `.withContext`, documented as internal to core). This module is the only place the cache touches
 * them, so if core gains a public accessor, only these functions change. Whether a waiter can abort at
 * all is public (`Scope.mayAbort`). `test/call.test.ts` pins the behaviour through `wrap`,
 * `wrapWithContext`, `execute` and `decorate`.
 *
 * @module
 */

import { Scope, type Context } from '@bulwark/core';

/** The arguments of a call made through `wrap` or `wrapWithContext`; `undefined` under `execute`. */
export function argumentsOf(ctx: Context): readonly unknown[] | undefined {
  return ctx instanceof Scope ? ctx.root.args : undefined;
}

/** The function a `wrap`ped call runs (the same value on every call of one wrapped function). */
export function calleeOf(ctx: Context): unknown {
  return ctx instanceof Scope ? ctx.root.task : undefined;
}

/** Whether the call's signal can ever abort: if not, a waiter needs no abort listener (nor a signal). */
export function mayAbort(ctx: Context): boolean {
  return !(ctx instanceof Scope) || ctx.mayAbort;
}

/**
 * A root scope for the same call (same function, arguments and correlation id) whose only signal is
 * `signal`: the rest of the call runs in it, untouched by the aborts of the caller who started it.
 */
export function detach(ctx: Context, signal: AbortSignal | undefined): Context {
  if (!(ctx instanceof Scope)) {
    // Not a call core made: the innermost task will refuse it, as it refuses any hand-made context.
    return { signal: signal ?? new AbortController().signal, attempt: 1, correlationId: ctx.correlationId };
  }
  const root = ctx.root;
  const task = root.task as NonNullable<Scope['task']>;
  const id = ctx.correlationId;
  return root.args === undefined
    ? Scope.root(task, signal, id)
    : Scope.forArgs(task, root.withContext, root.args, signal, id);
}
