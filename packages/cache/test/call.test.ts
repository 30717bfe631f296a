// The cache reads core's per-call data through src/internal/call.ts: these tests pin what it relies on.
import { describe, expect, it } from '@jest/globals';
import { definePolicy, type Context, type Task } from '@bulwark/core';

import { argumentsOf, calleeOf, detach, mayAbort } from '../src/internal/call.js';

/** A policy whose one decorator records the context it is given. */
function probe(seen: Context[]) {
  return definePolicy('probe', [
    {
      decorate:
        <A>(next: Task<A>): Task<A> =>
        (ctx) => {
          seen.push(ctx);
          return next(ctx);
        },
    },
  ]);
}

describe('the call data the cache reads', () => {
  it('gives the arguments and the function of a wrapped call', async () => {
    const seen: Context[] = [];
    const fn = async (a: string, b: number): Promise<string> => a + b;
    await probe(seen).wrap(fn)('x', 1);
    expect(argumentsOf(seen[0] as Context)).toEqual(['x', 1]);
    expect(calleeOf(seen[0] as Context)).toBe(fn);
  });

  it('gives the arguments without the context under wrapWithContext', async () => {
    const seen: Context[] = [];
    await probe(seen).wrapWithContext(async (_ctx: Context, a: string) => a)('y');
    expect(argumentsOf(seen[0] as Context)).toEqual(['y']);
  });

  it('gives no arguments under execute, and for a hand-made context', async () => {
    const seen: Context[] = [];
    await probe(seen).execute(async () => 1);
    expect(argumentsOf(seen[0] as Context)).toBeUndefined();
    expect(argumentsOf({ signal: new AbortController().signal, attempt: 1, correlationId: 'x' })).toBeUndefined();
  });

  it('knows a call without a caller signal can never abort, and one with a signal can', async () => {
    const seen: Context[] = [];
    const fn = async (_signal?: AbortSignal): Promise<number> => 1;
    await probe(seen).wrap(fn)();
    await probe(seen).wrap(fn, { signal: (signal) => signal })(new AbortController().signal);
    expect(seen.map(mayAbort)).toEqual([false, true]);
  });

  it('detaches the rest of a call from the caller: same function, arguments and id, its own signal', async () => {
    const own = new AbortController();
    let detached: Context | undefined;
    const detaching = definePolicy('detaching', [
      {
        decorate:
          <A>(next: Task<A>): Task<A> =>
          (ctx) =>
            next((detached = detach(ctx, own.signal))),
      },
    ]);
    const caller = new AbortController();
    const got: unknown[] = [];
    const fn = detaching.wrapWithContext(
      async (ctx: Context, a: string, b: number) => {
        got.push(ctx, a, b);
        return a + b;
      },
      { signal: () => caller.signal, correlationId: () => 'req-1' },
    );
    expect(await fn('a', 2)).toBe('a2');
    expect(got).toEqual([detached, 'a', 2]);
    const ctx = detached as Context;
    expect(ctx.correlationId).toBe('req-1');
    caller.abort(new Error('caller left'));
    expect(ctx.signal.aborted).toBe(false);
    own.abort(new Error('flight ended'));
    expect(ctx.signal.aborted).toBe(true);
  });

  it('detaches a call made through execute, and one made through wrap', async () => {
    const detaching = definePolicy('detaching', [
      {
        decorate:
          <A>(next: Task<A>): Task<A> =>
          (ctx) =>
            next(detach(ctx, undefined)),
      },
    ]);
    expect(await detaching.execute(async (ctx) => ctx.attempt)).toBe(1);
    expect(await detaching.wrap(async (a: number, b: number) => a * b)(6, 7)).toBe(42);
  });
});
