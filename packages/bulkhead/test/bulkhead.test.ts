import { describe, expect, it } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { pipeline, definePolicy, PASS, Scope } from '@bulwark/core';
import { settle, VirtualClock } from '@bulwark/testkit';

import { bulkhead, BulkheadRejectedError, isBulkheadRejectedError, type BulkheadEvent } from '../src/index.js';

/** A task that runs until `finish` is called, recording that it started. */
function controlled(
  log: string[],
  id: string,
): { task: () => Promise<string>; finish: () => void; fail: (e: unknown) => void } {
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<string>((resolve, reject) => {
    finish = () => resolve(id);
    fail = reject;
  });
  return {
    task: () => {
      log.push(id);
      return done;
    },
    finish: () => finish(),
    fail: (e) => fail(e),
  };
}

describe('bulkhead options', () => {
  it.each([
    [{}, TypeError, /`capacity`/],
    [{ capacity: 0 }, RangeError, /`capacity` to be an integer >= 1, got 0/],
    [{ capacity: 1.5 }, RangeError, /`capacity`/],
    [{ capacity: '2' }, TypeError, /`capacity`/],
    [{ capacity: 1, queueSize: -1 }, RangeError, /`queueSize` to be an integer >= 0, got -1/],
    [{ capacity: 1, queueSize: Number.NaN }, RangeError, /`queueSize`/],
    [{ capacity: 1, name: 3 }, TypeError, /`name`/],
    [{ capacity: 1, clock: {} }, TypeError, /`clock.now`/],
  ])('rejects %j at construction', (options, kind, message) => {
    expect(() => bulkhead(options as never)).toThrow(kind);
    expect(() => bulkhead(options as never)).toThrow(message);
  });

  it('rejects a missing options object with a TypeError', () => {
    expect(() => bulkhead(undefined as never)).toThrow(TypeError);
  });

  it('accepts an unbounded queue', () => {
    const pool = bulkhead({ capacity: 1, queueSize: Number.POSITIVE_INFINITY });
    expect(pool.queueSize).toBe(Number.POSITIVE_INFINITY);
    expect(pool.health().details['queueSize']).toBeNull();
  });
});

describe('bulkhead', () => {
  it('runs at most `capacity` calls, queues up to `queueSize`, rejects the rest with the figures', async () => {
    const log: string[] = [];
    const pool = bulkhead({ capacity: 2, queueSize: 1 });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => controlled(log, id)) as [
      ReturnType<typeof controlled>,
      ReturnType<typeof controlled>,
      ReturnType<typeof controlled>,
    ];
    const pa = pool.execute(a.task);
    const pb = pool.execute(b.task);
    const pc = pool.execute(c.task);
    expect(log).toEqual(['a', 'b']);
    expect([pool.running, pool.queued, pool.free]).toEqual([2, 1, 0]);

    const rejected = await pool.execute(async () => 'd').catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(BulkheadRejectedError);
    expect(isBulkheadRejectedError(rejected)).toBe(true);
    expect(rejected).toMatchObject({
      _tag: 'BulkheadRejected',
      capacity: 2,
      queueSize: 1,
      running: 2,
      queued: 1,
      retryable: true,
    });

    a.finish();
    await expect(pa).resolves.toBe('a');
    expect(log).toEqual(['a', 'b', 'c']);
    expect([pool.running, pool.queued]).toEqual([2, 0]);
    b.finish();
    c.finish();
    await expect(Promise.all([pb, pc])).resolves.toEqual(['b', 'c']);
    expect([pool.running, pool.queued, pool.free]).toEqual([0, 0, 2]);
  });

  it('frees the slot when the task fails, and passes its error through untouched', async () => {
    const pool = bulkhead({ capacity: 1 });
    const failure = new Error('task failed');
    await expect(pool.execute(() => Promise.reject(failure))).rejects.toBe(failure);
    await expect(
      pool.execute(() => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(pool.running).toBe(0);
    await expect(pool.execute(async () => 'next')).resolves.toBe('next');
  });

  it('admits waiters in FIFO order, and a newcomer never overtakes the queue', async () => {
    const log: string[] = [];
    const pool = bulkhead({ capacity: 1, queueSize: 10 });
    const first = controlled(log, 'first');
    const running = pool.execute(first.task);
    const waiting = ['w1', 'w2', 'w3'].map((id) => pool.execute(async () => void log.push(id)));
    first.finish();
    // The slot is handed to w1 before the late caller can take it.
    const late = pool.execute(async () => void log.push('late'));
    await Promise.all([running, ...waiting, late]);
    expect(log).toEqual(['first', 'w1', 'w2', 'w3', 'late']);
  });

  it('keeps FIFO order while its queue grows, skips the waiters that aborted, and shrinks back', async () => {
    const log: string[] = [];
    const pool = bulkhead({ capacity: 1, queueSize: Number.POSITIVE_INFINITY });
    const blocker = controlled(log, 'blocker');
    const running = pool.execute(blocker.task);
    // Enough waiters to grow the queue several times, every third one abortable and every sixth aborted.
    const controllers = new Map<number, AbortController>();
    const waiting = Array.from({ length: 500 }, (_, i) => {
      const controller = i % 3 === 0 ? new AbortController() : undefined;
      if (controller !== undefined) controllers.set(i, controller);
      return pool.execute(async () => void log.push(`w${i}`), controller?.signal);
    });
    for (const [i, controller] of controllers) if (i % 6 === 0) controller.abort('gone');
    const kept = Array.from({ length: 500 }, (_, i) => i).filter((i) => i % 6 !== 0);
    expect(pool.queued).toBe(kept.length);
    // Newcomers after the holes still queue behind every waiter that is left.
    const late = pool.execute(async () => void log.push('late'));
    blocker.finish();
    const settledAll = await Promise.allSettled([running, ...waiting, late]);
    expect(log).toEqual(['blocker', ...kept.map((i) => `w${i}`), 'late']);
    expect(settledAll.filter((r) => r.status === 'rejected')).toHaveLength(500 - kept.length);
    expect([pool.running, pool.queued]).toEqual([0, 0]);
    for (const controller of controllers.values())
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // And it still queues and drains after shrinking.
    const again = controlled(log, 'again');
    const second = [pool.execute(again.task), pool.execute(async () => void log.push('after'))];
    expect(pool.queued).toBe(1);
    again.finish();
    await Promise.all(second);
    expect(log.slice(-2)).toEqual(['again', 'after']);
  });

  it('takes no promise on the fast path: enter returns undefined while a slot is free', () => {
    const pool = bulkhead({ capacity: 1, queueSize: 1 });
    const gate = pool.layers[0]?.gate;
    const scope = Scope.root(async () => undefined);
    expect(gate?.enter(scope)).toBeUndefined();
    const queued = gate?.enter(Scope.root(async () => undefined));
    expect(queued).toBeInstanceOf(Promise);
    gate?.exit(undefined, { ok: true, value: undefined }, scope);
    return expect(queued).resolves.toBeUndefined();
  });

  it('refuses without a throw: a full bulkhead returns a refusal the runner rejects the call with, once', async () => {
    const pool = bulkhead({ capacity: 1, queueSize: 0 });
    const gate = pool.layers[0]?.gate;
    const running = Scope.root(async () => undefined);
    gate?.enter(running);
    let refusal: unknown;
    expect(() => (refusal = gate?.enter(Scope.root(async () => undefined)))).not.toThrow();
    expect(refusal).toBeDefined();
    expect(refusal).not.toBeInstanceOf(Promise);
    gate?.exit(undefined, { ok: true, value: undefined }, running);
    // Through the runner: the refusal becomes the call's rejection.
    let release: () => void = () => undefined;
    const first = pool.execute(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(pool.execute(async () => 'never')).rejects.toBeInstanceOf(BulkheadRejectedError);
    release();
    await first;
  });

  it('a waiter whose caller aborts leaves the queue at once, rejects with the reason and never runs', async () => {
    const log: string[] = [];
    const pool = bulkhead({ capacity: 1, queueSize: 5 });
    const blocker = controlled(log, 'blocker');
    const running = pool.execute(blocker.task);
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const waiting = controllers.map((c, i) => pool.execute(async () => void log.push(`w${i}`), c.signal));
    const reason = new Error('caller gave up');
    controllers[1]?.abort(reason);
    expect(pool.queued).toBe(2);
    await expect(waiting[1]).rejects.toBe(reason);
    for (const c of controllers)
      expect(getEventListeners(c.signal, 'abort')).toHaveLength(c === controllers[1] ? 0 : 1);
    blocker.finish();
    await Promise.all([running, waiting[0], waiting[2]]);
    expect(log).toEqual(['blocker', 'w0', 'w2']);
    for (const c of controllers) expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
    expect([pool.running, pool.queued]).toEqual([0, 0]);
  });

  it('listens once per signal however many waiters share it, and an abort empties them all', async () => {
    const log: string[] = [];
    const pool = bulkhead({ capacity: 1, queueSize: Number.POSITIVE_INFINITY });
    const blocker = controlled(log, 'blocker');
    const running = pool.execute(blocker.task);
    const shutdown = new AbortController();
    const other = new AbortController();
    const shared = Array.from({ length: 1000 }, (_, i) =>
      pool.execute(async () => void log.push(`s${i}`), shutdown.signal),
    );
    const kept = pool.execute(async () => void log.push('kept'), other.signal);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    expect(pool.queued).toBe(1001);
    const reason = new Error('shutting down');
    shutdown.abort(reason);
    expect(pool.queued).toBe(1);
    const results = await Promise.allSettled(shared);
    expect(results.every((r) => r.status === 'rejected' && r.reason === reason)).toBe(true);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
    blocker.finish();
    await Promise.all([running, kept]);
    expect(log).toEqual(['blocker', 'kept']);
  });

  it('rejects at once a call that must queue when its caller has already aborted', async () => {
    const log: string[] = [];
    const pool = bulkhead({ capacity: 1, queueSize: 1 });
    const blocker = controlled(log, 'blocker');
    const running = pool.execute(blocker.task);
    const reason = new Error('too late');
    await expect(pool.execute(async () => log.push('never'), AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(pool.queued).toBe(0);
    blocker.finish();
    await running;
    expect(log).toEqual(['blocker']);
  });

  it('a waiter aborted by a scope inside the call (a timeout around the bulkhead) leaves the queue', async () => {
    const clock = new VirtualClock();
    // A minimal timeout gate: a child scope aborted after 100 ms.
    const timeout = definePolicy('timeout', [
      {
        gate: {
          scoped: true,
          enter: (ctx: Scope) => {
            const child = ctx.child(true);
            clock.setTimer(() => child.abort(new Error('timed out')), 100);
            return child;
          },
          exit: () => PASS,
        },
      },
    ]);
    const pool = bulkhead({ capacity: 1, queueSize: 1, clock });
    const guarded = pipeline(timeout, pool);
    const log: string[] = [];
    const blocker = controlled(log, 'blocker');
    const running = pool.execute(blocker.task);
    const waiting = expect(guarded.execute(async () => void log.push('never'))).rejects.toThrow('timed out');
    await clock.advance(100);
    await waiting;
    expect(pool.queued).toBe(0);
    blocker.finish();
    await running;
    expect(log).toEqual(['blocker']);
  });

  it('re-enters on every attempt of a retry outside it, and frees the slot each time', async () => {
    let attempts = 0;
    const retryOnce = definePolicy('retry-once', [
      {
        gate: {
          enter: () => ({ left: 1 }),
          exit: (token: { left: number }, outcome) => (outcome.ok || token.left-- === 0 ? PASS : 0),
        },
      },
    ]);
    const pool = bulkhead({ capacity: 1 });
    const result = await pipeline(retryOnce, pool).execute(async () => {
      attempts++;
      expect(pool.running).toBe(1);
      if (attempts === 1) throw new Error('first attempt fails');
      return 'second';
    });
    expect(result).toBe('second');
    expect(pool.running).toBe(0);
  });

  it('emits admitted, queued, rejected and abandoned events with the waiting time on its clock', async () => {
    const clock = new VirtualClock(1000);
    const pool = bulkhead({ capacity: 1, queueSize: 2, name: 'db', clock });
    const events: BulkheadEvent[] = [];
    const stop = pool.onEvent((e) => events.push(e));
    const log: string[] = [];
    const blocker = controlled(log, 'blocker');
    const running = pool.execute(blocker.task);
    const controller = new AbortController();
    const waiting = pool.execute(async () => 'waited');
    const abandoned = pool.execute(async () => 'never', controller.signal);
    await expect(pool.execute(async () => 'rejected')).rejects.toThrow(BulkheadRejectedError);
    await clock.advance(250);
    controller.abort('bye');
    await expect(abandoned).rejects.toBe('bye');
    await clock.advance(250);
    blocker.finish();
    await Promise.all([running, waiting]);
    stop();
    expect(events.map(({ type, policy }) => `${policy}:${type}`)).toEqual([
      'db:admitted',
      'db:queued',
      'db:queued',
      'db:rejected',
      'db:abandoned',
      'db:admitted',
    ]);
    expect(events[0]).toMatchObject({ waitedMs: 0 });
    expect(events[2]).toMatchObject({ queued: 2 });
    expect(events[3]).toMatchObject({ running: 1, queued: 2 });
    expect(events[4]).toMatchObject({ waitedMs: 250, reason: 'bye' });
    expect(events[5]).toMatchObject({ waitedMs: 500 });
    expect(typeof events[5]?.context?.correlationId).toBe('string');
  });

  it('reports its health: healthy with a free slot, degraded while calls queue, unhealthy when full', async () => {
    const pool = bulkhead({ capacity: 1, queueSize: 1, name: 'crawler' });
    expect(pool).toMatchObject({ name: 'crawler', kind: 'bulkhead' });
    expect(pool.health()).toEqual({
      status: 'healthy',
      details: { running: 0, queued: 0, capacity: 1, queueSize: 1 },
    });
    const log: string[] = [];
    const blocker = controlled(log, 'blocker');
    const running = pool.execute(blocker.task);
    expect(pool.health().status).toBe('degraded');
    const waiting = pool.execute(async () => undefined);
    expect(pool.health()).toEqual({
      status: 'unhealthy',
      details: { running: 1, queued: 1, capacity: 1, queueSize: 1 },
    });
    blocker.finish();
    await Promise.all([running, waiting]);
    await settle();
    expect(pool.health().status).toBe('healthy');
  });

  it('works through wrap, keeping the function and its arguments', async () => {
    const pool = bulkhead({ capacity: 2 });
    const add = pool.wrap(async (a: number, b: number) => a + b);
    await expect(Promise.all([add(1, 2), add(3, 4)])).resolves.toEqual([3, 7]);
  });
});
