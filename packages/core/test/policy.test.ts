import { describe, expect, it } from '@jest/globals';
import {
  definePolicy,
  Emitter,
  noop,
  PASS,
  pipeline,
  type Context,
  type ExecuteOptions,
  type PolicyEvent,
} from '@bulwark/core';

describe('execute', () => {
  it("passes the caller's signal to the task, so the caller's abort reaches it", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const call = pipeline(noop, noop).execute(
      (ctx) =>
        new Promise((_, reject) => {
          seen = ctx.signal;
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
        }),
      controller.signal,
    );
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(seen?.aborted).toBe(true);
  });

  it('gives each call a correlation id, the same for every read, or the caller’s own', async () => {
    const ids = await noop.execute(async (ctx) => [ctx.correlationId, ctx.correlationId]);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[1]).toBe(ids[0]);
    const other = await noop.execute(async (ctx) => ctx.correlationId);
    expect(other).not.toBe(ids[0]);
    await expect(noop.execute(async (ctx) => ctx.correlationId, { correlationId: 'req-42' })).resolves.toBe('req-42');
  });

  it('reads an id that untyped code passed as a number or a header array as text, and ignores any other', async () => {
    const idOf = (correlationId: unknown): Promise<string> =>
      noop.execute(async (ctx) => ctx.correlationId, { correlationId } as ExecuteOptions);
    await expect(idOf(42)).resolves.toBe('42');
    await expect(idOf(['req-1', 'req-2'])).resolves.toBe('req-1,req-2');
    await expect(idOf({ toString: null })).resolves.toMatch(/^[0-9a-f-]{36}$/);
  });

  it('does not start the task of a call whose signal has already aborted: it rejects with the reason, as fetch does', async () => {
    const reason = new Error('caller gone');
    const signal = AbortSignal.abort(reason);
    let runs = 0;
    const task = async (): Promise<string> => {
      runs++;
      return 'ran';
    };
    await expect(noop.execute(task, signal)).rejects.toBe(reason);
    await expect(pipeline(noop, noop).execute(task, { signal })).rejects.toBe(reason);
    await expect(noop.wrap(task, { signal: () => signal })()).rejects.toBe(reason);
    const log: string[] = [];
    const gate = definePolicy('gate', [
      { gate: { enter: () => void log.push('enter'), exit: (_t, o) => (log.push(o.ok ? 'ok' : 'failed'), PASS) } },
    ]);
    await expect(gate.execute(task, signal)).rejects.toBe(reason);
    expect(log).toEqual(['enter', 'failed']); // the gates see the call end with the reason
    expect(runs).toBe(0);
  });

  it('numbers the first attempt 1', async () => {
    await expect(noop.execute(async (ctx) => ctx.attempt)).resolves.toBe(1);
  });
});

describe('wrap', () => {
  it('calls the function with exactly its arguments and keeps its this-free result', async () => {
    const calls: unknown[][] = [];
    const add = async (a: number, b: number): Promise<number> => {
      calls.push([a, b]);
      return a + b;
    };
    const wrapped = pipeline(noop, noop).wrap(add);
    await expect(wrapped(2, 3)).resolves.toBe(5);
    expect(calls).toEqual([[2, 3]]);
  });

  it('takes the caller’s signal and correlation id from the arguments when told where they are', async () => {
    const fetchLike = async (url: string, _init?: { signal?: AbortSignal; requestId?: string }): Promise<string> => url;
    let seen: Context | undefined;
    const spy = definePolicy('spy', [
      {
        decorate: (next) => (ctx) => {
          seen = ctx;
          return next(ctx);
        },
      },
    ]);
    const wrapped = spy.wrap(fetchLike, {
      signal: (_url, init) => init?.signal,
      correlationId: (_url, init) => init?.requestId,
    });
    const controller = new AbortController();
    await wrapped('/a', { signal: controller.signal, requestId: 'r-1' });
    expect(seen?.correlationId).toBe('r-1');
    controller.abort();
    expect(seen?.signal.aborted).toBe(true);
  });

  it('rejects, as an async function would, when a signal or id picker throws', async () => {
    const get = async (url: string): Promise<string> => url;
    const picky = noop.wrap(get, {
      correlationId: () => {
        throw new TypeError('no headers');
      },
    });
    let result: Promise<string> | undefined;
    expect(() => (result = picky('/a'))).not.toThrow();
    await expect(result).rejects.toThrow('no headers');
  });

  it('wrapWithContext hands the context first and the arguments after', async () => {
    const wrapped = noop.wrapWithContext(async (ctx: Context, name: string) => `${name}#${ctx.attempt}`);
    await expect(wrapped('call')).resolves.toBe('call#1');
  });
});

describe('events', () => {
  type Tick = PolicyEvent & { readonly type: 'tick'; readonly n: number };

  it('reach listeners of the policy and of any pipeline it is part of, until disposed', async () => {
    const emitter = new Emitter<Tick>();
    let n = 0;
    const ticking = definePolicy<Tick>(
      'ticking',
      [
        {
          gate: {
            enter: () => undefined,
            exit: () => {
              if (emitter.active) emitter.emit({ type: 'tick', policy: 'ticking', n: ++n });
              return PASS;
            },
          },
        },
      ],
      emitter,
    );
    const seen: number[] = [];
    const both = pipeline(noop, ticking);
    const stop = both.onEvent((event) => seen.push(event.n));
    await both.execute(async () => 1);
    stop();
    stop();
    await both.execute(async () => 1);
    expect(seen).toEqual([1]);
    expect(emitter.active).toBe(false);
  });

  it('a listener that throws does not fail the call', async () => {
    const emitter = new Emitter<Tick>();
    emitter.on(() => {
      throw new Error('listener bug');
    });
    const reported: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (job) => {
      try {
        job();
      } catch (error) {
        reported.push(error);
      }
    };
    try {
      expect(() => emitter.emit({ type: 'tick', policy: 'p', n: 1 })).not.toThrow();
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(reported).toHaveLength(1);
  });
});
