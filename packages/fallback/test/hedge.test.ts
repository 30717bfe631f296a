import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Context } from '@bulwark/core';
import { settle, VirtualClock } from '@bulwark/testkit';

import { hedge, isHedgeLostError, type HedgeEvent } from '../src/index.js';

/** A task whose attempt n waits `latencies[n - 1]` ms on the clock, then succeeds or fails as planned. */
function attempts(
  clock: VirtualClock,
  plan: readonly { readonly ms: number; readonly ok: boolean }[],
): { task: (ctx: Context) => Promise<string>; contexts: Context[]; started: number[] } {
  const contexts: Context[] = [];
  const started: number[] = [];
  return {
    contexts,
    started,
    task: async (ctx) => {
      contexts.push(ctx);
      started.push(clock.now());
      const step = plan[ctx.attempt - 1] ?? { ms: 0, ok: true };
      await clock.sleep(step.ms, ctx.signal);
      if (!step.ok) throw new Error(`attempt ${ctx.attempt} failed`);
      return `attempt ${ctx.attempt}`;
    },
  };
}

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  await settle();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('hedge options', () => {
  it.each([
    [{}, TypeError, /exactly one of `delayMs` and `percentile`, got neither/],
    [{ delayMs: 10, percentile: { p: 95 } }, TypeError, /got both/],
    [{ delayMs: -1 }, RangeError, /`delayMs` to be a finite number >= 0, got -1/],
    [{ delayMs: 10, maxAttempts: 0 }, RangeError, /`maxAttempts` to be an integer in \[1, 10\], got 0/],
    [{ delayMs: 10, maxAttempts: 11 }, RangeError, /`maxAttempts` to be an integer in \[1, 10\], got 11/],
    [{ percentile: {} }, TypeError, /`percentile.p` .*no default/],
    [{ percentile: { p: 0 } }, RangeError, /`percentile.p` to be a number in \(0, 100\], got 0/],
    [{ percentile: { p: 101 } }, RangeError, /`percentile.p`/],
    [{ percentile: { p: 95, windowSize: 0 } }, RangeError, /`percentile.windowSize`/],
    [
      { percentile: { p: 95, windowSize: 2 ** 27 } },
      RangeError,
      /`percentile.windowSize` to be an integer in \[1, 100000\]/,
    ],
    [{ percentile: { p: 95, windowSize: 10, minSamples: 11 } }, RangeError, /`percentile.minSamples`/],
    [{ percentile: { p: 95, minDelayMs: 50, maxDelayMs: 10 } }, RangeError, /`percentile.maxDelayMs`/],
    [{ delayMs: 10, clock: {} }, TypeError, /`clock.now`/],
    [{ delayMs: 10, clock: { now: () => 0, setTimer: () => 1 } }, TypeError, /`clock.clearTimer`/],
  ])('rejects %p at construction', (options, kind, message) => {
    expect(() => hedge(options as never)).toThrow(kind);
    expect(() => hedge(options as never)).toThrow(message);
  });
});

describe('hedge', () => {
  it('does not hedge a call that succeeds within the delay, and leaves no timer', async () => {
    const clock = new VirtualClock();
    const { task, started } = attempts(clock, [{ ms: 99, ok: true }]);
    const policy = hedge({ delayMs: 100, clock });
    expect(await clock.run(policy.execute(task))).toBe('attempt 1');
    expect(started).toEqual([0]);
    expect(clock.pending).toBe(0);
  });

  it('ends the call at once with a failure `handle` does not pick, aborting the attempts still running', async () => {
    const clock = new VirtualClock();
    const { task, started, contexts } = attempts(clock, [
      { ms: 1_000, ok: true },
      { ms: 20, ok: false },
    ]);
    // Attempt 2 fails with an error no further attempt could help with (a 400, an open circuit).
    const policy = hedge({ delayMs: 100, maxAttempts: 3, clock, handle: (error) => !/attempt 2/.test(String(error)) });
    await expect(clock.run(policy.execute(task))).rejects.toThrow('attempt 2 failed');
    expect(clock.now()).toBe(120);
    expect(started).toEqual([0, 100]); // no third attempt
    expect((contexts[0] as Context).signal.reason).toMatchObject({ _tag: 'HedgeLost', winner: 2 });
    await clock.advance(1_000);
    expect(clock.pending).toBe(0);
    // A failure it picks starts the next attempt at once, as without `handle`.
    const picked = attempts(clock, [
      { ms: 10, ok: false },
      { ms: 10, ok: true },
    ]);
    const started2 = clock.now();
    expect(await clock.run(hedge({ delayMs: 100, clock, handle: [Error] }).execute(picked.task))).toBe('attempt 2');
    expect(picked.started.map((t) => t - started2)).toEqual([0, 10]);
  });

  it('rejects a `handle` that is neither a predicate nor error classes', () => {
    expect(() => hedge({ delayMs: 10, handle: 'all' as never })).toThrow(/`handle`/);
  });

  it('starts a second attempt after the delay, takes the first success and aborts the loser', async () => {
    const clock = new VirtualClock();
    const { task, started, contexts } = attempts(clock, [
      { ms: 1_000, ok: true },
      { ms: 50, ok: true },
    ]);
    const events: HedgeEvent[] = [];
    const policy = hedge({ delayMs: 100, clock, name: 'replicas' });
    policy.onEvent((event) => events.push(event));
    expect(await clock.run(policy.execute(task))).toBe('attempt 2');
    expect(clock.now()).toBe(150);
    expect(started).toEqual([0, 100]);
    const loser = contexts[0] as Context;
    expect(loser.signal.aborted).toBe(true);
    expect(isHedgeLostError(loser.signal.reason)).toBe(true);
    expect(loser.signal.reason).toMatchObject({ winner: 2, retryable: false });
    expect((contexts[1] as Context).signal.aborted).toBe(false);
    expect(events.map(({ type, attempt }) => ({ type, attempt }))).toEqual([
      { type: 'hedge', attempt: 2 },
      { type: 'hedge-won', attempt: 2 },
    ]);
    expect(events[0]).toMatchObject({ policy: 'replicas', delayMs: 100, context: contexts[1] });
    expect(clock.pending).toBe(0);
  });

  it('keeps the original when it wins after all, and aborts the hedge', async () => {
    const clock = new VirtualClock();
    const { task, contexts } = attempts(clock, [
      { ms: 120, ok: true },
      { ms: 500, ok: true },
    ]);
    expect(await clock.run(hedge({ delayMs: 100, clock }).execute(task))).toBe('attempt 1');
    expect((contexts[1] as Context).signal.reason).toMatchObject({ _tag: 'HedgeLost', winner: 1 });
  });

  it('starts up to maxAttempts, each after the delay', async () => {
    const clock = new VirtualClock();
    const { task, started } = attempts(clock, [
      { ms: 1_000, ok: true },
      { ms: 1_000, ok: true },
      { ms: 1_000, ok: true },
      { ms: 10, ok: true },
    ]);
    expect(await clock.run(hedge({ delayMs: 30, maxAttempts: 4, clock }).execute(task))).toBe('attempt 4');
    expect(started).toEqual([0, 30, 60, 90]);
  });

  it('starts the next attempt at once when one fails, and rejects with the last error when all fail', async () => {
    const clock = new VirtualClock();
    const { task, started } = attempts(clock, [
      { ms: 10, ok: false },
      { ms: 200, ok: false },
      { ms: 50, ok: false },
    ]);
    const events: HedgeEvent[] = [];
    const policy = hedge({ delayMs: 100, maxAttempts: 3, clock });
    policy.onEvent((event) => events.push(event));
    await expect(clock.run(policy.execute(task))).rejects.toThrow('attempt 2 failed');
    // 2 starts when 1 fails (10), 3 after the delay (110); 3 fails at 160, 2 at 210: the last error.
    expect(started).toEqual([0, 10, 110]);
    expect(clock.now()).toBe(210);
    expect(events.filter((e) => e.type === 'hedge').map((e) => (e as { delayMs: number }).delayMs)).toEqual([0, 100]);
  });

  it('aborts every attempt when the caller aborts, starts no more, and rejects with the caller’s reason', async () => {
    const clock = new VirtualClock();
    const { task, contexts } = attempts(clock, [
      { ms: 1_000, ok: true },
      { ms: 1_000, ok: true },
      { ms: 1_000, ok: true },
    ]);
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const call = hedge({ delayMs: 100, maxAttempts: 3, clock }).execute(task, controller.signal);
    clock.setTimer(() => controller.abort(reason), 150);
    await expect(clock.run(call)).rejects.toBe(reason);
    expect(contexts).toHaveLength(2);
    expect(contexts.every((ctx) => ctx.signal.reason === reason)).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('with maxAttempts 1 runs the task alone', async () => {
    const clock = new VirtualClock();
    const { task, started } = attempts(clock, [{ ms: 500, ok: true }]);
    const alone = hedge({ delayMs: 10, maxAttempts: 1, clock });
    expect(await clock.run(alone.execute(task))).toBe('attempt 1');
    expect(started).toEqual([0]);
    expect(alone.delayMs).toBe(Number.POSITIVE_INFINITY); // it would not hedge
  });
});

describe('hedge on a latency percentile', () => {
  it('does not hedge until minSamples calls were measured, then waits for the percentile', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ percentile: { p: 90, windowSize: 10, minSamples: 10 }, clock });
    expect(policy.delayMs).toBe(Number.POSITIVE_INFINITY);
    for (let ms = 10; ms <= 100; ms += 10) {
      await clock.run(policy.execute(() => clock.sleep(ms).then(() => ms)));
    }
    // p90 of 10, 20, …, 100 (nearest rank): 90.
    expect(policy.delayMs).toBe(90);
    const { task, started } = attempts(clock, [
      { ms: 1_000, ok: true },
      { ms: 5, ok: true },
    ]);
    const from = clock.now();
    expect(await clock.run(policy.execute(task))).toBe('attempt 2');
    expect(started.map((at) => at - from)).toEqual([0, 90]);
  });

  it('clamps the percentile to [minDelayMs, maxDelayMs], and uses maxDelayMs until there is data', async () => {
    const clock = new VirtualClock();
    const policy = hedge({
      percentile: { p: 50, windowSize: 4, minSamples: 2, minDelayMs: 20, maxDelayMs: 60 },
      clock,
    });
    expect(policy.delayMs).toBe(60);
    for (const ms of [1, 2]) await clock.run(policy.execute(() => clock.sleep(ms)));
    expect(policy.delayMs).toBe(20);
    for (const ms of [500, 500, 500]) await clock.run(policy.execute(() => clock.sleep(ms, undefined)));
    expect(policy.delayMs).toBe(60);
  });

  it('records how long the original had run when a hedge beat it, so that hedging does not feed on itself', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ percentile: { p: 50, windowSize: 1, minSamples: 1, maxDelayMs: 1_000 }, clock });
    // A first call that needs no hedge sets the delay to its 50 ms.
    await clock.run(policy.execute(() => clock.sleep(50)));
    expect(policy.delayMs).toBe(50);
    const { task } = attempts(clock, [
      { ms: 5_000, ok: true },
      { ms: 1, ok: true },
    ]);
    await clock.run(policy.execute(task));
    // The hedge started at 50 and won at 51: the original had run 51 ms. Not the hedge's 1 ms, not the
    // original's 5 s (capped at 1 s), not nothing (the delay would have stayed 50).
    expect(policy.delayMs).toBe(51);
    expect(policy.maxAttempts).toBe(2);
  });
});
