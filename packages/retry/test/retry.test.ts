import { describe, expect, it, jest } from '@jest/globals';
import { BulwarkError, definePolicy, PASS, pipeline, type Context, type Scope } from '@bulwark/core';
import { invalidOptionValue, VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';

import {
  constant,
  decorrelatedJitter,
  exponential,
  fromIterable,
  maxElapsed,
  retry,
  retryBudget,
  upTo,
  type RetryEvent,
  type RetryOptions,
} from '../src/index.js';
import { expectOptionError, seeded } from './support.js';

class Refused extends BulwarkError<'Refused'> {
  readonly retryable = false;
  constructor() {
    super('Refused', 'refused');
  }
}

class Throttled extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`throttled for ${retryAfterMs} ms`);
  }
}

/** A task that fails with `errors[n]` on call n (from 0) and then resolves `'ok'`, recording when each call started. */
function failing(
  clock: VirtualClock,
  ...errors: unknown[]
): {
  task: (ctx: Context) => Promise<string>;
  starts: number[];
  attempts: number[];
} {
  const starts: number[] = [];
  const attempts: number[] = [];
  return {
    starts,
    attempts,
    task: async (ctx) => {
      const call = starts.length;
      starts.push(clock.now());
      attempts.push(ctx.attempt);
      if (call < errors.length) throw errors[call];
      return 'ok';
    },
  };
}

/** Settles a call on the clock: its value, or the error it rejected with. */
const outcome = (clock: VirtualClock, promise: Promise<unknown>): Promise<unknown> =>
  clock.run(promise.catch((error: unknown) => error));

function recorder(policy: { onEvent(listener: (event: RetryEvent) => void): unknown }): RetryEvent[] {
  const events: RetryEvent[] = [];
  policy.onEvent((event) => events.push(event));
  return events;
}

/** The events without their context, for comparison. */
const plain = (events: readonly RetryEvent[]): object[] => events.map(({ context: _context, ...rest }) => rest);

describe('retry options', () => {
  const cases: [keyof RetryOptions, Parameters<typeof invalidOptionValue>[0]][] = [
    ['maxAttempts', 'positive-integer'],
    ['maxRetryAfterMs', 'non-negative-number'],
    ['handleResult', 'function'],
  ];
  it.each(cases)('rejects any invalid `%s` with a TypeError or RangeError naming it', (option, kind) => {
    fc.assert(
      fc.property(
        invalidOptionValue(kind).filter((v) => !(option === 'maxAttempts' && v === Number.POSITIVE_INFINITY)),
        (value) => expectOptionError(() => retry({ [option]: value }), option),
      ),
    );
  });

  it.each([
    [{ maxAttempts: 0 }, RangeError, /`maxAttempts` to be an integer >= 1, got 0/],
    [{ handle: [] }, TypeError, /`handle`/],
    [{ handle: 'Error' }, TypeError, /`handle`/],
    [{ retryNonRetryable: 'yes' }, TypeError, /`retryNonRetryable`/],
    [{ backoff: 100 }, TypeError, /`backoff`/],
    [{ backoff: { kind: 'fibonacci' } }, RangeError, /`backoff.kind`/],
    [{ budget: {} }, TypeError, /`budget.deposit` to be a function, got undefined/],
    [{ name: 1 }, TypeError, /`name`/],
    [{ clock: { now: () => 0 } }, TypeError, /`clock.sleep`/],
    [{ random: { next: 1 } }, TypeError, /`random.next`/],
    [null, TypeError, /`options`/],
  ])('rejects %j at construction', (options, kind, message) => {
    expect(() => retry(options as never)).toThrow(kind);
    expect(() => retry(options as never)).toThrow(message);
  });

  it('defaults to 3 attempts with full jitter from 100 ms capped at 20 s, never forever', async () => {
    const policy = retry();
    expect(policy.maxAttempts).toBe(3);
    expect(policy.backoff).toEqual({ kind: 'full-jitter', baseMs: 100, factor: 2, capMs: 20_000 });
    const clock = new VirtualClock();
    const withClock = retry({ clock });
    const task = failing(clock, ...Array.from({ length: 10 }, (_, i) => new Error(`e${i}`)));
    const error = await outcome(clock, withClock.execute(task.task));
    expect(error).toEqual(new Error('e2'));
    expect(task.starts).toHaveLength(3);
    expect(clock.now()).toBeLessThan(100 + 200);
  });
});

describe('retry', () => {
  it('retries until the task succeeds, waiting the schedule, numbering the attempts', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, maxAttempts: 4, backoff: exponential({ baseMs: 1_000 }) });
    const task = failing(clock, new Error('a'), new Error('b'), new Error('c'));
    expect(await outcome(clock, policy.execute(task.task))).toBe('ok');
    expect(task.starts).toEqual([0, 1_000, 3_000, 7_000]);
    expect(task.attempts).toEqual([1, 2, 3, 4]);
  });

  it('rethrows the last error unchanged when attempts run out', async () => {
    const clock = new VirtualClock();
    const last = new Error('third');
    const policy = retry({ clock, backoff: constant(10) });
    const task = failing(clock, new Error('first'), new Error('second'), last, new Error('never'));
    expect(await outcome(clock, policy.execute(task.task))).toBe(last);
    expect(task.starts).toEqual([0, 10, 20]);
  });

  it('with maxAttempts 1 never retries; with Infinity the schedule decides', async () => {
    const clock = new VirtualClock();
    const once = failing(clock, new Error('x'), new Error('y'));
    await outcome(clock, retry({ clock, maxAttempts: 1 }).execute(once.task));
    expect(once.starts).toHaveLength(1);
    const many = failing(clock, ...Array.from({ length: 20 }, () => new Error('down')));
    const unbounded = retry({ clock, maxAttempts: Number.POSITIVE_INFINITY, backoff: upTo(constant(0), 7) });
    await outcome(clock, unbounded.execute(many.task));
    expect(many.starts).toHaveLength(7);
  });

  it('retries only what `handle` accepts: error classes or a predicate', async () => {
    class NetworkError extends Error {}
    const clock = new VirtualClock();
    const byClass = retry({ clock, handle: [NetworkError], backoff: constant(0) });
    const network = failing(clock, new NetworkError('reset'), new TypeError('bug'));
    expect(await outcome(clock, byClass.execute(network.task))).toEqual(new TypeError('bug'));
    expect(network.starts).toHaveLength(2);

    const byPredicate = retry({ clock, handle: (e) => (e as Error).message === 'again', backoff: constant(0) });
    const predicate = failing(clock, new Error('again'), new Error('stop'));
    expect(await outcome(clock, byPredicate.execute(predicate.task))).toEqual(new Error('stop'));
    expect(predicate.starts).toHaveLength(2);
  });

  it('surfaces a `handle` that throws on a later tick and does not retry', async () => {
    const clock = new VirtualClock();
    const policy = retry({
      clock,
      handle: () => {
        throw new Error('predicate bug');
      },
    });
    // The predicate's error is thrown from a microtask: hold the job and run it here instead.
    const deferred = jest.spyOn(globalThis, 'queueMicrotask').mockImplementation(() => undefined);
    const task = failing(clock, new Error('boom'));
    try {
      expect(await outcome(clock, policy.execute(task.task))).toEqual(new Error('boom'));
      expect(deferred).toHaveBeenCalledTimes(1);
      expect(deferred.mock.calls[0]?.[0]).toThrow('predicate bug');
    } finally {
      deferred.mockRestore();
    }
    expect(task.starts).toHaveLength(1);
  });

  it('never retries a Bulwark error marked non-retryable, unless retryNonRetryable', async () => {
    const clock = new VirtualClock();
    const refused = failing(clock, new Refused(), new Refused());
    const strict = retry({ clock });
    const events = recorder(strict);
    expect(await outcome(clock, strict.execute(refused.task))).toBeInstanceOf(Refused);
    expect(refused.starts).toHaveLength(1);
    expect(plain(events)).toEqual([
      { type: 'give-up', policy: 'retry', attempts: 1, reason: 'non-retryable', error: expect.any(Refused) },
    ]);

    const lenient = retry({ clock, retryNonRetryable: true, backoff: constant(5) });
    const again = failing(clock, new Refused(), new Refused());
    expect(await outcome(clock, lenient.execute(again.task))).toBe('ok');
    expect(again.starts).toHaveLength(3);
  });

  describe('results', () => {
    it('retries a result `handleResult` refuses, and returns the last one when retries run out', async () => {
      const clock = new VirtualClock();
      const policy = retry({
        clock,
        backoff: constant(100),
        handleResult: (response) => (response as { status: number }).status === 503,
      });
      const events = recorder(policy);
      const statuses = [503, 503, 200];
      let call = 0;
      const fetchish = async (): Promise<{ status: number }> => ({ status: statuses[call++] ?? 200 });
      expect(await outcome(clock, policy.execute(fetchish))).toEqual({ status: 200 });
      expect(call).toBe(3);

      call = 0;
      statuses.splice(0, 3, 503, 503, 503, 503);
      const last = await outcome(clock, policy.execute(fetchish));
      expect(last).toEqual({ status: 503 }); // returned, not thrown
      expect(call).toBe(3);
      expect(plain(events).slice(-3)).toEqual([
        { type: 'retry', policy: 'retry', attempt: 1, delayMs: 100, error: undefined, result: { status: 503 } },
        { type: 'retry', policy: 'retry', attempt: 2, delayMs: 100, error: undefined, result: { status: 503 } },
        {
          type: 'give-up',
          policy: 'retry',
          attempts: 3,
          reason: 'attempts',
          error: undefined,
          result: { status: 503 },
        },
      ]);
    });
    it('returns the result when `handleResult` throws, surfacing its error on a later tick', async () => {
      const clock = new VirtualClock();
      const policy = retry({
        clock,
        handleResult: () => {
          throw new Error('predicate bug');
        },
      });
      const deferred = jest.spyOn(globalThis, 'queueMicrotask').mockImplementation(() => undefined);
      try {
        expect(
          await outcome(
            clock,
            policy.execute(async () => 'value'),
          ),
        ).toBe('value');
        expect(deferred.mock.calls[0]?.[0]).toThrow('predicate bug');
      } finally {
        deferred.mockRestore();
      }
    });
  });

  describe('Retry-After hints', () => {
    it('waits an error’s retryAfterMs when longer than the schedule, bounded by maxRetryAfterMs', async () => {
      const clock = new VirtualClock();
      const policy = retry({ clock, maxAttempts: 4, backoff: constant(1_000), maxRetryAfterMs: 30_000 });
      const task = failing(clock, new Throttled(5_000), new Throttled(200), new Throttled(90_000));
      expect(await outcome(clock, policy.execute(task.task))).toBe('ok');
      // 5 s (hint wins), 1 s (schedule wins), 30 s (hint bounded by the maximum).
      expect(task.starts).toEqual([0, 5_000, 6_000, 36_000]);
    });

    it('ignores hints with maxRetryAfterMs 0, and hints that are not positive numbers', async () => {
      const clock = new VirtualClock();
      const ignoring = retry({ clock, backoff: constant(10), maxRetryAfterMs: 0 });
      const task = failing(clock, new Throttled(5_000));
      await outcome(clock, ignoring.execute(task.task));
      expect(task.starts).toEqual([0, 10]);
      const odd = failing(clock, Object.assign(new Error('x'), { retryAfterMs: '5000' }), { retryAfterMs: Number.NaN });
      const start = clock.now();
      await outcome(clock, retry({ clock, backoff: constant(10) }).execute(odd.task));
      expect(odd.starts).toEqual([start, start + 10, start + 20]);
    });

    it('does not let a hint carry an attempt past maxElapsed', async () => {
      const clock = new VirtualClock();
      const policy = retry({ clock, backoff: maxElapsed(constant(100), 1_000) });
      const events = recorder(policy);
      const task = failing(clock, new Throttled(5_000));
      expect(await outcome(clock, policy.execute(task.task))).toBeInstanceOf(Throttled);
      expect(task.starts).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ type: 'give-up', reason: 'elapsed', attempts: 1 });
    });
  });

  describe('abort', () => {
    it('stops a backoff wait at once with the abort reason, leaving no timer', async () => {
      const clock = new VirtualClock();
      const policy = retry({ clock, backoff: constant(60_000) });
      const events = recorder(policy);
      const controller = new AbortController();
      const task = failing(clock, new Error('down'), new Error('down'));
      const call = policy.execute(task.task, controller.signal).catch((error: unknown) => error);
      await clock.advance(10);
      expect(clock.pending).toBe(1); // the backoff timer
      const reason = new Error('user left');
      controller.abort(reason);
      expect(await call).toBe(reason); // no clock movement needed
      expect(clock.pending).toBe(0);
      expect(clock.now()).toBe(10);
      expect(task.starts).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ type: 'give-up', reason: 'aborted', attempts: 1, error: reason });
    });

    it('never retries a call whose caller aborted during the attempt', async () => {
      const clock = new VirtualClock();
      const policy = retry({ clock, backoff: constant(0) });
      const controller = new AbortController();
      let calls = 0;
      const own = new Error('the task’s own error after the abort');
      const task = async (): Promise<never> => {
        calls++;
        controller.abort('stop');
        throw own;
      };
      expect(await outcome(clock, policy.execute(task, controller.signal))).toBe(own);
      expect(calls).toBe(1);
    });

    it('never starts, nor retries, a call whose signal had aborted before it started', async () => {
      const clock = new VirtualClock();
      const policy = retry({ clock, backoff: constant(0) });
      const task = failing(clock, new Error('x'), new Error('y'));
      expect(await outcome(clock, policy.execute(task.task, AbortSignal.abort('gone')))).toBe('gone');
      expect(task.starts).toHaveLength(0);
    });
  });

  describe('events', () => {
    it('tell each retry with its delay and error, and end every call with one success or give-up', async () => {
      const clock = new VirtualClock();
      const policy = retry({ clock, name: 'prices', backoff: fromIterable([10, 20]) });
      const events = recorder(policy);
      const a = new Error('a');
      const b = new Error('b');
      await outcome(clock, policy.execute(failing(clock, a, b).task));
      await outcome(clock, policy.execute(failing(clock).task));
      await outcome(clock, policy.execute(failing(clock, a, a, b).task));
      expect(plain(events)).toEqual([
        { type: 'retry', policy: 'prices', attempt: 1, delayMs: 10, error: a },
        { type: 'retry', policy: 'prices', attempt: 2, delayMs: 20, error: b },
        { type: 'success', policy: 'prices', attempts: 3 },
        { type: 'success', policy: 'prices', attempts: 1 },
        { type: 'retry', policy: 'prices', attempt: 1, delayMs: 10, error: a },
        { type: 'retry', policy: 'prices', attempt: 2, delayMs: 20, error: a },
        { type: 'give-up', policy: 'prices', attempts: 3, reason: 'attempts', error: b },
      ]);
      // One correlation id per call, across its attempts.
      const ids = new Set(events.slice(0, 3).map((e) => e.context.correlationId));
      expect(ids.size).toBe(1);
    });

    it('give up with reason `attempts` when the schedule ends before maxAttempts', async () => {
      const clock = new VirtualClock();
      const policy = retry({ clock, maxAttempts: 10, backoff: fromIterable([1]) });
      const events = recorder(policy);
      await outcome(clock, policy.execute(failing(clock, new Error('1'), new Error('2')).task));
      expect(events.at(-1)).toMatchObject({ type: 'give-up', reason: 'attempts', attempts: 2 });
    });

    it('give up with reason `elapsed` when the next attempt would start after maxElapsed', async () => {
      const clock = new VirtualClock();
      const policy = retry({ clock, maxAttempts: 100, backoff: maxElapsed(constant(400), 1_000) });
      const events = recorder(policy);
      const task = failing(clock, ...Array.from({ length: 10 }, () => new Error('x')));
      await outcome(clock, policy.execute(task.task));
      expect(task.starts).toEqual([0, 400, 800]);
      expect(events.at(-1)).toMatchObject({ type: 'give-up', reason: 'elapsed', attempts: 3 });
    });
  });

  describe('in a pipeline', () => {
    it('re-enters the gates inside it on every attempt, and stops when an inner gate refuses for good', async () => {
      const clock = new VirtualClock();
      const log: string[] = [];
      let open = false;
      const breakerLike = definePolicy('breaker-like', [
        {
          gate: {
            enter: (ctx: Scope) => {
              log.push(`enter ${ctx.attempt}`);
              if (open) throw new Refused();
            },
            exit: (_token, outcome) => {
              if (!outcome.ok) open = true;
              return PASS;
            },
          },
        },
      ]);
      const policy = pipeline(retry({ clock, backoff: constant(10) }), breakerLike);
      const task = failing(clock, new Error('down'), new Error('down'));
      expect(await outcome(clock, policy.execute(task.task))).toBeInstanceOf(Refused);
      expect(log).toEqual(['enter 1', 'enter 2']);
      expect(task.starts).toHaveLength(1);
    });

    it('counts attempts per policy when retries nest', async () => {
      const clock = new VirtualClock();
      const outer = retry({ clock, name: 'outer', maxAttempts: 2, backoff: constant(0) });
      const inner = retry({ clock, name: 'inner', maxAttempts: 3, backoff: constant(0) });
      const policy = pipeline(outer, inner);
      const events = recorder(policy);
      const task = failing(clock, ...Array.from({ length: 10 }, () => new Error('x')));
      await outcome(clock, policy.execute(task.task));
      expect(task.starts).toHaveLength(6);
      expect(task.attempts).toEqual([1, 2, 3, 2, 3, 4]);
      const giveUps = events.filter((e) => e.type === 'give-up').map((e) => [e.policy, e.attempts]);
      expect(giveUps).toEqual([
        ['inner', 3],
        ['inner', 3],
        ['outer', 2],
      ]);
    });
  });

  it('keeps per-call state apart for concurrent calls (decorrelated jitter, maxElapsed)', async () => {
    const clock = new VirtualClock();
    // Each call waits at most 3 × 300 ms in all, far inside 2 s of its own; a start time shared by the
    // calls would put the third one (started 2 s after the first) past 2 s on its first retry.
    const policy = retry({
      clock,
      maxAttempts: 4,
      random: seeded(7),
      backoff: maxElapsed(decorrelatedJitter({ baseMs: 100, capMs: 300 }), 2_000),
    });
    const events = recorder(policy);
    const tasks = [0, 1, 2].map(() => failing(clock, new Error('1'), new Error('2'), new Error('3')));
    const calls: Promise<string>[] = [];
    // The second call starts while the first is still retrying; the third after both.
    for (const [i, task] of tasks.entries()) {
      calls.push(policy.execute(task.task));
      if (i < tasks.length - 1) await clock.advance([500, 1_500][i]!);
    }
    const results = await clock.run(Promise.all(calls));
    expect(results).toEqual(['ok', 'ok', 'ok']);
    expect(events.filter((e) => e.type === 'give-up')).toEqual([]);
    // Each call's delays grow from its own previous delay: within [100, min(300, 3 × its previous)].
    for (const task of tasks) {
      const gaps = task.starts.slice(1).map((t, i) => t - task.starts[i]!);
      expect(gaps).toHaveLength(3);
      let previous = 100;
      for (const gap of gaps) {
        expect(gap).toBeGreaterThanOrEqual(100);
        expect(gap).toBeLessThanOrEqual(Math.min(300, 3 * previous) + 1e-9);
        previous = gap;
      }
    }
    expect(events.filter((e) => e.type === 'success')).toHaveLength(3);
  });

  it('shares one budget with its figures', () => {
    const budget = retryBudget();
    const policy = retry({ budget });
    expect(policy.kind).toBe('retry');
    expect(budget.balance).toBe(100); // 10 per second over 10 s
  });

  it('wraps a function keeping its type', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const double = retry({ clock, backoff: constant(1) }).wrap(async (n: number) => {
      if (++calls === 1) throw new Error('once');
      return n * 2;
    });
    const result: number = await clock.run(double(21));
    expect(result).toBe(42);
  });
});
