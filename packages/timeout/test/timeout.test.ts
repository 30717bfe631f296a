import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { bulkhead } from '@bulwark/bulkhead';
import { pipeline, type Clock, type Context } from '@bulwark/core';
import { settle, VirtualClock } from '@bulwark/testkit';

import { isTimeoutError, timeout, TimeoutError, type TimeoutEvent, type TimeoutStrategy } from '../src/index.js';

/** A task that settles only when told to, and records the context it ran in. */
function controlled<A>(): {
  task: (ctx: Context) => Promise<A>;
  resolve: (value: A) => void;
  reject: (error: unknown) => void;
  context: () => Context;
} {
  let resolve!: (value: A) => void;
  let reject!: (error: unknown) => void;
  let seen: Context | undefined;
  const done = new Promise<A>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    task: (ctx) => {
      seen = ctx;
      return done;
    },
    resolve: (value) => resolve(value),
    reject: (error) => reject(error),
    context: () => {
      if (seen === undefined) throw new Error('the task never ran');
      return seen;
    },
  };
}

/** A task that waits `ms` on `clock`, stopping with the signal's reason when it aborts. */
const sleeper =
  <A>(clock: VirtualClock, ms: number, value: A) =>
  async (ctx: Context): Promise<A> => {
    await clock.sleep(ms, ctx.signal);
    return value;
  };

/** Records when a promise settled on the clock, and how. */
function track<A>(
  clock: VirtualClock,
  promise: Promise<A>,
): { readonly done: boolean; readonly at: number; readonly ok: boolean; readonly value: unknown } {
  const state = { done: false, at: -1, ok: false, value: undefined as unknown };
  promise.then(
    (value) => Object.assign(state, { done: true, at: clock.now(), ok: true, value }),
    (error: unknown) => Object.assign(state, { done: true, at: clock.now(), ok: false, value: error }),
  );
  return state;
}

const strategies: TimeoutStrategy[] = ['aggressive', 'cooperative'];

/**
 * How late a call that joins with no stamping tick armed times out: the tick it arms stamps it 1 ms
 * later (see src/internal/deadline-queue.ts). Never early, at most this late.
 */
const STAMP = 1;

describe('timeout options', () => {
  it.each([
    [0, RangeError, /`timeoutMs` to be a finite number > 0, got 0/],
    [-5, RangeError, /`timeoutMs`/],
    [Number.NaN, RangeError, /`timeoutMs`/],
    [Number.POSITIVE_INFINITY, RangeError, /`timeoutMs`/],
    [{}, TypeError, /`timeoutMs` .*no default/],
    [{ timeoutMs: '100' }, TypeError, /`timeoutMs`/],
    [{ timeoutMs: 100, strategy: 'optimistic' }, RangeError, /`strategy` to be one of "aggressive", "cooperative"/],
    [{ timeoutMs: 100, name: 1 }, TypeError, /`name`/],
    [{ timeoutMs: 100, clock: {} }, TypeError, /`clock.now`/],
    [{ timeoutMs: 100, clock: { now: () => 0 } }, TypeError, /`clock.setTimer`/],
    [null, TypeError, /`options`/],
  ])('rejects %p at construction', (options, kind, message) => {
    expect(() => timeout(options as never)).toThrow(kind);
    expect(() => timeout(options as never)).toThrow(message);
  });

  it('takes a number or options, and defaults to aggressive', () => {
    expect(timeout(250)).toMatchObject({ timeoutMs: 250, strategy: 'aggressive', name: 'timeout' });
    expect(timeout({ timeoutMs: 10, strategy: 'cooperative', name: 'db' })).toMatchObject({
      timeoutMs: 10,
      strategy: 'cooperative',
      name: 'db',
    });
  });
});

describe('timeout with its default clock', () => {
  it('reads time from performance.now(), not the wall clock, and times calls out on it', async () => {
    // What it is for, a step of the wall clock not timing calls out early, cannot be staged here:
    // `systemClock` holds the `Date.now` it was made with, which no spy reaches. So this checks the
    // source the default reads, on real timers (40 ms).
    const monotonic = jest.spyOn(performance, 'now');
    try {
      const limit = timeout({ timeoutMs: 40 });
      const late = limit.execute(
        (ctx) =>
          new Promise((resolve) => {
            const timer = setTimeout(resolve, 400);
            ctx.signal.addEventListener('abort', () => clearTimeout(timer));
          }),
      );
      const started = Date.now();
      await expect(late).rejects.toBeInstanceOf(TimeoutError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(39);
      expect(monotonic).toHaveBeenCalled();
    } finally {
      monotonic.mockRestore();
    }
  });
});

describe.each(strategies)('timeout (%s)', (strategy) => {
  it('keeps the value of a task that settles in time, and leaves its signal alone', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 100, strategy, clock });
    let signal: AbortSignal | undefined;
    const result = policy.execute(async (ctx) => {
      signal = ctx.signal;
      await clock.sleep(99);
      return 'in time';
    });
    await expect(clock.run(result)).resolves.toBe('in time');
    await clock.advance(1_000);
    expect(signal?.aborted).toBe(false);
  });

  it("passes the task's own error through unchanged when it fails in time", async () => {
    const clock = new VirtualClock();
    const failure = new Error('refused');
    const result = timeout({ timeoutMs: 100, strategy, clock }).execute(async () => {
      await clock.sleep(50);
      throw failure;
    });
    await expect(clock.run(result)).rejects.toBe(failure);
  });

  it("aborts the task's signal at the deadline with the TimeoutError the call rejects with", async () => {
    const clock = new VirtualClock();
    let signal: AbortSignal | undefined;
    const result = track(
      clock,
      timeout({ timeoutMs: 100, strategy, clock }).execute((ctx) => {
        signal = ctx.signal;
        return sleeper(clock, 500, 'late')(ctx);
      }),
    );
    await clock.advance(100);
    expect(signal?.aborted).toBe(false);
    await clock.advance(STAMP);
    expect(result).toMatchObject({ done: true, at: 100 + STAMP, ok: false });
    expect(result.value).toBeInstanceOf(TimeoutError);
    expect(result.value).toMatchObject({ _tag: 'Timeout', name: 'Timeout', timeoutMs: 100, retryable: true });
    expect(signal?.reason).toBe(result.value);
  });

  it('a caller’s abort is not a timeout: its reason passes through', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const events: TimeoutEvent[] = [];
    const policy = timeout({ timeoutMs: 100, strategy, clock });
    policy.onEvent((event) => events.push(event));
    const result = track(clock, policy.execute(sleeper(clock, 500, 'late'), controller.signal));
    await clock.advance(40);
    controller.abort(reason);
    await clock.advance(200);
    expect(result).toMatchObject({ done: true, at: 40, ok: false, value: reason });
    expect(events).toEqual([]);
  });

  it('emits a timeout event with the limit, the strategy and the task’s context', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 30, strategy, clock, name: 'db' });
    const events: TimeoutEvent[] = [];
    policy.onEvent((event) => events.push(event));
    let context: Context | undefined;
    await clock.run(policy.execute(async () => 'quick'));
    const late = policy.execute((ctx) => {
      context = ctx;
      return sleeper(clock, 100, 'late')(ctx);
    });
    await expect(clock.run(late)).rejects.toThrow(TimeoutError);
    expect(events).toEqual([{ type: 'timeout', policy: 'db', timeoutMs: 30, strategy, context }]);
  });

  it('makes no AbortController for a task that never reads its signal, and aborts nothing on success', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 100, strategy, clock });
    const Original = globalThis.AbortController;
    let made = 0;
    globalThis.AbortController = class extends Original {
      constructor() {
        super();
        made++;
      }
    };
    try {
      for (let i = 0; i < 10; i++) await clock.run(policy.execute(async () => i));
      expect(made).toBe(0);
    } finally {
      globalThis.AbortController = Original;
    }
  });

  it('shares one timer among every call in flight, and never keeps the process alive', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 100, strategy, clock });
    const tasks = Array.from({ length: 1000 }, () => controlled<number>());
    const calls = tasks.map((t) => track(clock, policy.execute(t.task)));
    await settle();
    // The stamping tick only, for the whole burst.
    expect(clock.pending).toBe(1);
    await clock.advance(STAMP);
    // The alarm only, for the oldest deadline.
    expect(clock.pending).toBe(1);
    expect(clock.pendingKeepAlive).toBe(0);
    tasks.forEach((t, i) => t.resolve(i));
    await settle();
    expect(calls.every((c, i) => c.done && c.ok && c.value === i)).toBe(true);
    // The alarm fires once on an empty queue and is not armed again.
    await clock.advance(100);
    expect(clock.pending).toBe(0);
  });

  it('expires calls in the order they started, each at its own deadline', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 100, strategy, clock });
    const calls: ReturnType<typeof track>[] = [];
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      starts.push(clock.now());
      calls.push(track(clock, policy.execute(sleeper(clock, 10_000, i))));
      await clock.advance(7 * i + 1);
    }
    await clock.advance(1_000);
    expect(starts).toEqual([0, 1, 9, 24, 46]);
    // Each call joined when no stamping tick was armed: its own tick stamps it 1 ms later.
    expect(calls.map((c) => c.at)).toEqual(starts.map((s) => s + 100 + 1));
    expect(calls.every((c) => isTimeoutError(c.value))).toBe(true);
  });

  it('moves pending deadlines with a wall clock that is set back, by at most the time since it last read it', async () => {
    const virtual = new VirtualClock(1_000_000);
    let offset = 0;
    const wall: Clock = {
      now: () => virtual.now() + offset,
      setTimer: (callback, ms, keepAlive) => virtual.setTimer(callback, ms, keepAlive),
      clearTimer: (handle) => virtual.clearTimer(handle),
      sleep: (ms, signal) => virtual.sleep(ms, signal),
    };
    const policy = timeout({ timeoutMs: 100, strategy, clock: wall });
    const first = track(virtual, policy.execute(sleeper(virtual, 10_000, 'first')));
    await virtual.advance(50);
    offset = -3_600_000; // someone sets the clock back an hour
    const second = track(virtual, policy.execute(sleeper(virtual, 10_000, 'second')));
    await virtual.advance(200);
    // Without the rebase, both would wait for the wall clock to catch up: an hour. The queue cannot
    // tell the step from the 50 ms that passed since it last read the clock, so the first call's
    // deadline moves by those 50 ms as well.
    expect(first).toMatchObject({ done: true, at: 1_000_151 });
    expect(second).toMatchObject({ done: true, at: 1_000_151 });
  });
});

describe('aggressive timeout', () => {
  it('rejects at the deadline and lets a task that ignores its signal finish in the background', async () => {
    const clock = new VirtualClock();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let finished = false;
      const stubborn = async (): Promise<string> => {
        await clock.sleep(500);
        finished = true;
        throw new Error('failed late');
      };
      const result = track(clock, timeout({ timeoutMs: 100, clock }).execute(stubborn));
      await clock.advance(100 + STAMP);
      expect(result).toMatchObject({ done: true, at: 100 + STAMP, ok: false });
      expect(isTimeoutError(result.value)).toBe(true);
      expect(finished).toBe(false);
      await clock.advance(400);
      await settle();
      expect(finished).toBe(true);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('bounds a wrapped function that never sees the signal', async () => {
    const clock = new VirtualClock();
    const slowSquare = timeout({ timeoutMs: 20, clock }).wrap(async (n: number) => {
      await clock.sleep(1_000);
      return n * n;
    });
    const result = track(clock, slowSquare(4));
    await clock.advance(20 + STAMP);
    expect(result).toMatchObject({ done: true, at: 20 + STAMP, ok: false });
    await clock.runAll();
  });

  it('stops waiting at the deadline with the caller’s reason when the caller aborted and the task ignores it', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const task = controlled<string>();
    const result = track(clock, timeout({ timeoutMs: 100, clock }).execute(task.task, controller.signal));
    await clock.advance(10);
    controller.abort(reason);
    await clock.advance(90);
    expect(result.done).toBe(false);
    await clock.advance(STAMP);
    expect(result).toMatchObject({ done: true, at: 100 + STAMP, ok: false, value: reason });
  });

  it('releases a bulkhead slot inside it only when the task really ends', async () => {
    const clock = new VirtualClock();
    const pool = bulkhead({ capacity: 1, clock });
    const task = controlled<string>();
    const result = track(clock, pipeline(timeout({ timeoutMs: 50, clock }), pool).execute(task.task));
    await clock.advance(50 + STAMP);
    expect(isTimeoutError(result.value)).toBe(true);
    expect(pool.running).toBe(1);
    task.resolve('late');
    await settle();
    expect(pool.running).toBe(0);
  });
});

describe('cooperative timeout', () => {
  it('waits for the task after aborting its signal, then rejects with the TimeoutError', async () => {
    const clock = new VirtualClock();
    const task = controlled<string>();
    const result = track(clock, timeout({ timeoutMs: 100, strategy: 'cooperative', clock }).execute(task.task));
    await clock.advance(100 + STAMP);
    expect(task.context().signal.aborted).toBe(true);
    expect(result.done).toBe(false);
    await clock.advance(50);
    task.resolve('late anyway');
    await settle();
    expect(result).toMatchObject({ done: true, at: 150 + STAMP, ok: false });
    expect(result.value).toBe(task.context().signal.reason);
  });

  it('keeps the task’s own error after the deadline as the cause', async () => {
    const clock = new VirtualClock();
    const task = controlled<string>();
    const result = track(clock, timeout({ timeoutMs: 100, strategy: 'cooperative', clock }).execute(task.task));
    await clock.advance(100 + STAMP);
    const own = new DOMException('This operation was aborted', 'AbortError');
    task.reject(own);
    await settle();
    expect(isTimeoutError(result.value)).toBe(true);
    expect((result.value as TimeoutError).cause).toBe(own);
    expect((result.value as TimeoutError).timeoutMs).toBe(100);
  });
});

describe('timeouts sharing a queue', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });
  afterEach(async () => {
    await clock.runAll();
  });

  it('one timer for every timeout of the same duration on the same clock, one per other duration', async () => {
    const a = timeout({ timeoutMs: 100, clock });
    const b = timeout({ timeoutMs: 100, strategy: 'cooperative', clock, name: 'b' });
    const c = timeout({ timeoutMs: 250, clock });
    const tasks = [controlled<number>(), controlled<number>(), controlled<number>()] as const;
    const events: string[] = [];
    b.onEvent((event) => events.push(event.policy));
    const calls = [a.execute(tasks[0].task), b.execute(tasks[1].task), c.execute(tasks[2].task)].map((p) =>
      track(clock, p),
    );
    await settle();
    // One stamping tick per queue.
    expect(clock.pending).toBe(2);
    await clock.advance(STAMP);
    // One alarm per queue.
    expect(clock.pending).toBe(2);
    await clock.advance(100);
    // Each gate reports and handles its own entries: b is cooperative and still waits for its task.
    expect(calls.map((call) => call.done)).toEqual([true, false, false]);
    expect(events).toEqual(['b']);
    tasks[1].resolve(1);
    tasks[2].resolve(2);
    await settle();
    expect(calls.map((call) => call.ok)).toEqual([false, false, true]);
  });
});
