import { describe, expect, it, jest } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { runInNewContext } from 'node:vm';
import { definePolicy, PASS, pipeline, type Context } from '@bulwark/core';
import { policyLaws } from '@bulwark/testkit';
import {
  ConstantBackoff,
  handleAll,
  handleType,
  retry,
  wrap,
  bulkhead as cockatielBulkhead,
  type IDefaultPolicyContext,
} from 'cockatiel';

import { fromCockatiel, toCockatiel } from '../src/index.js';

const noDelay = (maxAttempts: number) => retry(handleAll, { maxAttempts, backoff: new ConstantBackoff(0) });

/** A task that waits until its signal aborts, then rejects with the reason. */
const waitForAbort = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

describe('fromCockatiel: a cockatiel policy inside a Bulwark pipeline', () => {
  it('runs the inner part through the cockatiel policy (a retry retries it), with attempt numbers', async () => {
    const attempts: number[] = [];
    const policy = pipeline(fromCockatiel(noDelay(2)));
    const value = await policy.execute(async (ctx) => {
      attempts.push(ctx.attempt);
      if (attempts.length < 3) throw new Error('flaky');
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it("passes the Bulwark caller's abort to cockatiel and to the task", async () => {
    const controller = new AbortController();
    let taskSignal: AbortSignal | undefined;
    const call = pipeline(fromCockatiel(noDelay(0))).execute((ctx) => {
      taskSignal = ctx.signal;
      return waitForAbort(ctx.signal);
    }, controller.signal);
    const reason = new Error('caller left');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(taskSignal?.aborted).toBe(true);
  });

  it("settles at once with the caller's reason when the caller aborts during a cockatiel retry's backoff", async () => {
    // Cockatiel 3 sleeps between attempts on a timer that ignores its signal; that timer is fake and
    // not advanced until the call has settled. `setImmediate` stays real, to see whether it has.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'clearImmediate'] });
    try {
      const controller = new AbortController();
      const reason = new Error('caller left');
      const slowRetry = retry(handleAll, { maxAttempts: 2, backoff: new ConstantBackoff(60_000) });
      slowRetry.onRetry(() => controller.abort(reason));
      let attempts = 0;
      const call = pipeline(fromCockatiel(slowRetry)).execute(() => {
        attempts++;
        return Promise.reject(new Error('dependency down'));
      }, controller.signal);
      const pending = new Error('still waiting for the backoff');
      const nextTurn = new Promise<Error>((resolve) => setImmediate(resolve, pending));
      await expect(Promise.race([call, nextTurn])).rejects.toBe(reason);
      expect(attempts).toBe(1);
      // Cockatiel's own promise settles later, in the background, and its rejection is handled; its
      // retry after the backoff does not run the task, nor leave a listener on the caller's signal.
      await jest.runAllTimersAsync();
      expect(attempts).toBe(1);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it("leaves no listener on the caller's signal when the task throws synchronously", async () => {
    const shutdown = new AbortController(); // a long-lived signal, shared by every call
    const policy = pipeline(fromCockatiel(noDelay(0)));
    const parse = (text: string): Promise<unknown> => policy.execute(() => JSON.parse(text) as never, shutdown.signal);
    for (let i = 0; i < 3; i++) await expect(parse('{not json')).rejects.toThrow(SyntaxError);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });

  it("aborts the Bulwark task when cockatiel's signal for the attempt aborts", async () => {
    // An outer cockatiel policy whose signal aborts: its abort must reach the task's Bulwark context.
    const controller = new AbortController();
    const reason = new Error('cockatiel gave up');
    const aborting = {
      ...noDelay(0),
      execute: <T>(fn: (ctx: IDefaultPolicyContext) => PromiseLike<T> | T): Promise<T> => {
        const result = Promise.resolve(fn({ signal: controller.signal }));
        controller.abort(reason);
        return result;
      },
    };
    const call = pipeline(fromCockatiel(aborting)).execute((ctx: Context) => waitForAbort(ctx.signal));
    await expect(call).rejects.toBe(reason);
  });

  it('leaves Bulwark gates around it working (one pipeline, both libraries)', async () => {
    const log: string[] = [];
    const tracing = definePolicy('trace', [
      {
        gate: {
          enter: () => void log.push('enter'),
          exit: (_t: unknown, outcome) => {
            log.push(outcome.ok ? 'exit ok' : 'exit fail');
            return PASS;
          },
        },
      },
    ]);
    let calls = 0;
    const policy = pipeline(tracing, fromCockatiel(noDelay(1)));
    await policy.execute(async () => {
      if (++calls === 1) throw new Error('once');
      return calls;
    });
    expect(log).toEqual(['enter', 'exit ok']);
  });

  policyLaws(it, 'fromCockatiel(bulkhead)', () => fromCockatiel(cockatielBulkhead(100, 100)), { numRuns: 30 });
});

describe('toCockatiel: a Bulwark policy where cockatiel expects one', () => {
  it("composes in cockatiel's wrap with cockatiel's own policies", async () => {
    let calls = 0;
    const bulwarkCounting = definePolicy('count', [{ gate: { enter: () => void calls++, exit: () => PASS } }]);
    const both = wrap(noDelay(2), toCockatiel(bulwarkCounting));
    let failures = 0;
    const value = await both.execute(async () => {
      if (++failures < 3) throw new Error('flaky');
      return 'done';
    });
    expect(value).toBe('done');
    // Cockatiel's retry goes through the Bulwark policy on every attempt.
    expect(calls).toBe(3);
  });

  it("passes cockatiel's signal to the Bulwark call and the Bulwark signal to the function", async () => {
    const controller = new AbortController();
    const policy = toCockatiel(definePolicy('plain', []));
    let seen: AbortSignal | undefined;
    const call = policy.execute(({ signal }) => {
      seen = signal;
      return waitForAbort(signal);
    }, controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(seen?.aborted).toBe(true);
  });

  describe("holds nothing on cockatiel's signal, which outlives the call", () => {
    // A Bulwark policy with a part that aborts on its own (as a timeout's attempt does): a task that
    // reads its signal makes one combined with the caller's, with `AbortSignal.any` when the caller
    // can abort. On Node 20 that leaves a reference on the caller's signal for as long as it lives.
    const abortable = definePolicy('abortable', [
      { gate: { scoped: true, enter: (ctx) => ctx.child(true), exit: () => PASS } },
    ]);
    const readSignal = ({ signal }: IDefaultPolicyContext): Promise<boolean> => Promise.resolve(signal.aborted);

    it("gives the Bulwark call no signal when cockatiel's cannot abort (a retry given none)", async () => {
      const any = jest.spyOn(AbortSignal, 'any');
      try {
        const both = wrap(noDelay(0), toCockatiel(abortable));
        await expect(both.execute(readSignal)).resolves.toBe(false);
        expect(any).not.toHaveBeenCalled();
      } finally {
        any.mockRestore();
      }
    });

    it('links the Bulwark call to a long-lived signal only while it runs, and still aborts with it', async () => {
      const any = jest.spyOn(AbortSignal, 'any');
      try {
        const shutdown = new AbortController();
        const both = wrap(noDelay(0), toCockatiel(abortable));
        await expect(both.execute(readSignal, shutdown.signal)).resolves.toBe(false);
        const sources = any.mock.calls.flatMap(([signals]) => [...signals]);
        expect(sources).not.toContain(shutdown.signal);
        expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
        const reason = new Error('shutting down');
        const call = both.execute(({ signal }) => waitForAbort(signal), shutdown.signal);
        shutdown.abort(reason);
        await expect(call).rejects.toBe(reason);
      } finally {
        any.mockRestore();
      }
    });
  });

  it('fires onSuccess and onFailure with durations, and only times calls while someone listens', async () => {
    let now = 0;
    const policy = toCockatiel(definePolicy('plain', []), () => now);
    await policy.execute(() => 'untimed');
    const successes: number[] = [];
    const failures: unknown[] = [];
    const a = policy.onSuccess(({ duration }) => successes.push(duration));
    const b = policy.onFailure(({ reason }) => failures.push('error' in reason ? reason.error.message : reason.value));
    await policy.execute(() => {
      now += 25;
      return 'ok';
    });
    await expect(
      policy.execute(() => {
        throw new Error('broken');
      }),
    ).rejects.toThrow('broken');
    a.dispose();
    b.dispose();
    expect(successes).toEqual([25]);
    expect(failures).toEqual(['broken']);
  });

  it('reports every failure as `{ error }`, as cockatiel does: a thrown string, an Error of another realm', async () => {
    const policy = toCockatiel(definePolicy('plain', []));
    const reasons: unknown[] = [];
    const listening = policy.onFailure(({ reason }) => reasons.push(reason));
    const foreign: unknown = runInNewContext('new TypeError("from another realm")');
    for (const thrown of ['rate limited', foreign]) {
      await expect(
        policy.execute(() => {
          throw thrown;
        }),
      ).rejects.toBe(thrown);
    }
    listening.dispose();
    expect(reasons).toEqual([{ error: 'rate limited' }, { error: foreign }]);
  });

  it('keeps error filtering to cockatiel: a retry that handles only one type passes others through once', async () => {
    class Transient extends Error {}
    let calls = 0;
    const both = wrap(
      retry(handleType(Transient), { maxAttempts: 3, backoff: new ConstantBackoff(0) }),
      toCockatiel(definePolicy('plain', [])),
    );
    await expect(
      both.execute(() => {
        calls++;
        throw new TypeError('permanent');
      }),
    ).rejects.toThrow(TypeError);
    expect(calls).toBe(1);
  });
});
