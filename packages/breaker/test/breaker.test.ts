import { describe, expect, it } from '@jest/globals';
import { definePolicy, PASS, pipeline, type Clock } from '@bulwark/core';
import {
  breaker,
  BrokenCircuitError,
  consecutiveFailures,
  countWindow,
  IsolatedError,
  isBreakerRejection,
  isBrokenCircuitError,
  isIsolatedError,
  timeWindow,
  type BreakerEvent,
  type BreakerOptions,
} from '@bulwark/breaker';
import { invalidOptionValue, VirtualClock } from '@bulwark/testkit';
import { expectTypeOf } from 'expect-type';
import fc from 'fast-check';

const boom = (): Promise<never> => Promise.reject(new Error('boom'));
const ok = async (): Promise<string> => 'ok';

/** Settles a call on the clock; returns its value or its error. */
async function settle(clock: VirtualClock, promise: Promise<unknown>): Promise<unknown> {
  return clock.run(promise).catch((error: unknown) => error);
}

function recorder(b: { onEvent(l: (e: BreakerEvent) => void): unknown }): string[] {
  const log: string[] = [];
  b.onEvent((e) => {
    if (e.type === 'state-change') log.push(`${e.from}->${e.to} (${e.source})`);
    else if (e.type === 'rejected') log.push(`rejected ${e.state} ${e.retryAfterMs}`);
    else log.push(e.type);
  });
  return log;
}

describe('options', () => {
  const cases: [keyof BreakerOptions, Parameters<typeof invalidOptionValue>[0]][] = [
    ['halfOpenAfterMs', 'non-negative-number'],
    ['probes', 'positive-integer'],
    ['successesToClose', 'positive-integer'],
    ['isFailureResult', 'function'],
    ['quorum', 'positive-integer'],
    ['quorumWindowMs', 'positive-integer'],
    ['probeLeaseMs', 'positive-integer'],
  ];
  // With a store and without: an option that matters only with a store is still checked without one.
  it.each(cases)('rejects a bad `%s` at construction, naming it', (option, kind) => {
    fc.assert(
      fc.property(invalidOptionValue(kind), fc.boolean(), (value, withStore) => {
        const store = withStore ? { store: { attach: () => ({}) as never } } : {};
        const make = (): unknown => breaker({ ...store, [option]: value });
        expect(make).toThrow(new RegExp(`\`${option}\``));
        try {
          make();
        } catch (error) {
          expect(error instanceof TypeError || error instanceof RangeError).toBe(true);
        }
      }),
    );
  });

  it('rejects other bad options with a message naming the option and the value', () => {
    expect(() => breaker({ name: '' })).toThrow(/`name`/);
    expect(() => breaker({ maxHalfOpenAfterMs: 10, halfOpenAfterMs: 20 })).toThrow(
      /`maxHalfOpenAfterMs` to be a finite number >= 20, got 10/,
    );
    expect(() => breaker({ backoffFactor: 0.5 })).toThrow(/`backoffFactor`/);
    expect(() => breaker({ slowCallMs: -1 })).toThrow(/`slowCallMs`/);
    expect(() => breaker({ strategy: { kind: 'nope' } as never })).toThrow(/`strategy`/);
    expect(() => breaker({ strategy: { kind: 'consecutive', failures: 0 } })).toThrow(/`failures`/);
    expect(() => breaker({ isFailure: 'Error' as never })).toThrow(TypeError);
    expect(() => breaker({ ignore: [1] as never })).toThrow(/`ignore`/);
    expect(() => breaker({ clock: {} as Clock })).toThrow(/`clock`/);
    expect(() => breaker({ store: {} as never })).toThrow(/`store`/);
    expect(() => breaker({ initial: { version: 2 } as never })).toThrow(/`initial`/);
    expect(() => countWindow({ size: 10, minimumCalls: 11 })).toThrow(/`minimumCalls` to be an integer in \[1, 10\]/);
    expect(() => countWindow({ failureRate: 0 })).toThrow(/`failureRate`/);
    expect(() => timeWindow({ windowMs: 1000, buckets: 3 })).toThrow(/`windowMs` to be a multiple of `buckets`/);
  });

  it('has the seeds’ defaults: 5 failures in a row, 60 s open, one probe', async () => {
    const clock = new VirtualClock();
    const b = breaker({ clock });
    for (let i = 0; i < 4; i++) await settle(clock, b.execute(boom));
    expect(b.state).toBe('closed');
    await settle(clock, b.execute(boom));
    expect(b.state).toBe('open');
    await clock.advance(59_999);
    expect(await settle(clock, b.execute(ok))).toBeInstanceOf(BrokenCircuitError);
    await clock.advance(1);
    expect(await settle(clock, b.execute(ok))).toBe('ok');
    expect(b.state).toBe('closed');
    expect(b.name).toBe('breaker');
    expect(b.kind).toBe('breaker');
  });
});

describe('tripping and recovering', () => {
  it('fails fast while open with a typed error saying when a probe may go, and emits events', async () => {
    const clock = new VirtualClock();
    const b = breaker({ name: 'db', clock, strategy: consecutiveFailures(2), halfOpenAfterMs: 1000 });
    const log = recorder(b);
    await settle(clock, b.execute(boom));
    await settle(clock, b.execute(boom));
    await clock.advance(400);
    let calls = 0;
    const error = await settle(
      clock,
      b.execute(async () => {
        calls++;
        return 'never';
      }),
    );
    expect(calls).toBe(0);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(error).toMatchObject({
      _tag: 'BrokenCircuit',
      breaker: 'db',
      state: 'open',
      retryAfterMs: 600,
      retryable: false,
    });
    expect((error as Error).message).toBe('breaker "db" is open; a probe may go in 600 ms');
    expect(isBrokenCircuitError(error)).toBe(true);
    expect(isBreakerRejection(error)).toBe(true);
    expect(log).toEqual(['failure', 'failure', 'closed->open (local)', 'rejected open 600']);
  });

  it('admits `probes` probes at once in half-open and refuses the rest', async () => {
    const clock = new VirtualClock();
    const b = breaker({ clock, strategy: consecutiveFailures(1), halfOpenAfterMs: 100, probes: 3 });
    await settle(clock, b.execute(boom));
    await clock.advance(100);
    let running = 0;
    const slow = async (): Promise<string> => {
      running++;
      await clock.sleep(50);
      return 'probe ok';
    };
    const calls = Array.from({ length: 5 }, () => b.execute(slow).catch((e: unknown) => e));
    expect(running).toBe(3);
    expect(b.state).toBe('half-open');
    const results = await clock.run(Promise.all(calls));
    expect(results.slice(0, 3)).toEqual(['probe ok', 'probe ok', 'probe ok']);
    expect(results.slice(3).map((e) => (e as BrokenCircuitError).state)).toEqual(['half-open', 'half-open']);
    expect((results[3] as BrokenCircuitError).retryAfterMs).toBe(0);
    expect(b.state).toBe('closed');
  });

  it('counts a probe of an earlier half-open that is still running against `probes`', async () => {
    // Found by the runner law (seed 1247460338): a failed probe reopened the breaker, the wait was
    // over at once, and the new half-open admitted `probes` probes beside the old one still running.
    const clock = new VirtualClock();
    const b = breaker({ clock, strategy: consecutiveFailures(1), halfOpenAfterMs: 100, probes: 2 });
    await settle(clock, b.execute(boom));
    await clock.advance(100);
    let running = 0;
    const straggler = b.execute(async () => {
      running++;
      await clock.sleep(1000);
      running--;
      return 'late';
    });
    const failedProbe = settle(clock, b.execute(boom));
    expect(await failedProbe).toBeInstanceOf(Error);
    expect(b.state).toBe('open');
    await clock.advance(200); // the reopened breaker's wait is over; the straggler still runs
    const slow = async (): Promise<string> => {
      running++;
      await clock.sleep(50);
      running--;
      return 'probe ok';
    };
    const next = [b.execute(slow).catch((e: unknown) => e), b.execute(slow).catch((e: unknown) => e)];
    expect(running).toBe(2);
    const results = await clock.run(Promise.all(next));
    expect(results[0]).toBe('probe ok');
    expect(results[1]).toMatchObject({ _tag: 'BrokenCircuit', state: 'half-open', retryAfterMs: 0 });
    expect(await clock.run(straggler)).toBe('late');
  });

  it('reopens on a failed probe with a wait that grows by the factor up to the cap, and starts again once closed', async () => {
    const clock = new VirtualClock();
    const b = breaker({
      clock,
      strategy: consecutiveFailures(1),
      halfOpenAfterMs: 100,
      maxHalfOpenAfterMs: 350,
      backoffFactor: 2,
    });
    const waits: number[] = [];
    b.onEvent((e) => {
      if (e.type === 'state-change' && e.to === 'open') waits.push(e.retryAfterMs ?? -1);
    });
    await settle(clock, b.execute(boom));
    for (let i = 0; i < 3; i++) {
      await clock.advance(waits[waits.length - 1] ?? 0);
      await settle(clock, b.execute(boom));
    }
    expect(waits).toEqual([100, 200, 350, 350]);
    await clock.advance(350);
    expect(await settle(clock, b.execute(ok))).toBe('ok');
    await settle(clock, b.execute(boom));
    expect(waits[4]).toBe(100);
  });

  it('needs a streak of `successesToClose` successful probes', async () => {
    const clock = new VirtualClock();
    const b = breaker({ clock, strategy: consecutiveFailures(1), halfOpenAfterMs: 10, successesToClose: 3 });
    await settle(clock, b.execute(boom));
    await clock.advance(10);
    await settle(clock, b.execute(ok));
    await settle(clock, b.execute(ok));
    expect(b.state).toBe('half-open');
    await settle(clock, b.execute(ok));
    expect(b.state).toBe('closed');
  });

  it('does not count outcomes of calls admitted while closed that settle after it opened', async () => {
    const clock = new VirtualClock();
    const b = breaker({ clock, strategy: consecutiveFailures(1), halfOpenAfterMs: 100 });
    // A slow call admitted while closed...
    const late = b.execute(async () => {
      await clock.sleep(150);
      throw new Error('late failure');
    });
    late.catch(() => undefined);
    await settle(clock, b.execute(boom)); // ...then the breaker trips.
    await clock.advance(100);
    const probe = b.execute(async () => {
      await clock.sleep(100);
      return 'recovered';
    });
    // The late failure lands while the probe runs: it is no probe's outcome.
    await clock.advance(60);
    expect(b.state).toBe('half-open');
    expect(await clock.run(probe)).toBe('recovered');
    expect(b.state).toBe('closed');
  });
});

describe('strategies', () => {
  it('count window: trips on the failure rate of the last calls once it holds `minimumCalls`', async () => {
    const clock = new VirtualClock();
    const b = breaker({ clock, strategy: countWindow({ size: 10, failureRate: 0.5, minimumCalls: 4 }) });
    for (const outcome of [boom, ok, boom]) await settle(clock, b.execute(outcome));
    expect(b.stats).toEqual({ calls: 3, failures: 2, slowCalls: 0 });
    expect(b.state).toBe('closed');
    await settle(clock, b.execute(ok)); // 4 calls, 2 failures: 50%
    expect(b.state).toBe('open');
  });

  it('time window: forgets failures older than the window', async () => {
    const clock = new VirtualClock(1_000_000);
    const b = breaker({ clock, strategy: timeWindow({ windowMs: 10_000, buckets: 10, minimumCalls: 3 }) });
    await settle(clock, b.execute(boom));
    await settle(clock, b.execute(boom));
    await clock.advance(10_000);
    await settle(clock, b.execute(ok));
    await settle(clock, b.execute(boom));
    await settle(clock, b.execute(ok));
    expect(b.stats).toEqual({ calls: 3, failures: 1, slowCalls: 0 });
    expect(b.state).toBe('closed');
    await settle(clock, b.execute(boom));
    expect(b.state).toBe('open');
  });

  it('slow calls: trip the slow-call rate of a window, and count as failures in a row', async () => {
    const clock = new VirtualClock();
    const sluggish = async (): Promise<string> => {
      await clock.sleep(300);
      return 'late but fine';
    };
    const windowed = breaker({
      clock,
      slowCallMs: 300,
      strategy: countWindow({ size: 4, minimumCalls: 4, slowCallRate: 0.5 }),
    });
    await settle(clock, windowed.execute(sluggish));
    await settle(clock, windowed.execute(ok));
    await settle(clock, windowed.execute(ok));
    expect(windowed.stats.slowCalls).toBe(1);
    expect(await settle(clock, windowed.execute(sluggish))).toBe('late but fine');
    expect(windowed.state).toBe('open');

    const consecutive = breaker({ clock, slowCallMs: 300, strategy: consecutiveFailures(2) });
    await settle(clock, consecutive.execute(sluggish));
    await settle(clock, consecutive.execute(sluggish));
    expect(consecutive.state).toBe('open');
  });
});

describe('which outcomes count', () => {
  class NotFound extends Error {}
  class Transient extends Error {}

  it('counts only errors of the `isFailure` classes; others count as successes', async () => {
    const clock = new VirtualClock();
    const b = breaker({ clock, strategy: consecutiveFailures(2), isFailure: [Transient] });
    await settle(
      clock,
      b.execute(() => Promise.reject(new Transient())),
    );
    await settle(
      clock,
      b.execute(() => Promise.reject(new NotFound())),
    ); // the dependency answered
    await settle(
      clock,
      b.execute(() => Promise.reject(new Transient())),
    );
    expect(b.state).toBe('closed');
    await settle(
      clock,
      b.execute(() => Promise.reject(new Transient())),
    );
    expect(b.state).toBe('open');
  });

  it('lets ignored errors through without counting them, by predicate', async () => {
    const clock = new VirtualClock();
    const b = breaker({ clock, strategy: consecutiveFailures(2), ignore: (e) => e instanceof NotFound });
    const log = recorder(b);
    await settle(clock, b.execute(boom));
    const error = await settle(
      clock,
      b.execute(() => Promise.reject(new NotFound('gone'))),
    );
    expect(error).toBeInstanceOf(NotFound);
    expect(b.stats.failures).toBe(1);
    await settle(clock, b.execute(boom));
    expect(b.state).toBe('open');
    expect(log.filter((l) => l === 'failure')).toHaveLength(2);
  });

  it('does not count a call its caller cancelled', async () => {
    const clock = new VirtualClock();
    const b = breaker({ clock, strategy: consecutiveFailures(1) });
    const controller = new AbortController();
    const call = b.execute(
      (ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))),
      controller.signal,
    );
    controller.abort(new Error('user left'));
    expect(await settle(clock, call)).toEqual(new Error('user left'));
    expect(b.state).toBe('closed');
  });

  it('does not count a cancelled call whose task rejected with an abort error of its own', async () => {
    const clock = new VirtualClock();
    const b = breaker({ clock, strategy: consecutiveFailures(1) });
    const controller = new AbortController();
    // As `node:timers/promises` does: an `AbortError` of its own, not the signal's reason.
    const call = b.execute(
      (ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () =>
            reject(new DOMException('The operation was aborted', 'AbortError')),
          ),
        ),
      controller.signal,
    );
    controller.abort(new Error('user left'));
    expect(await settle(clock, call)).toMatchObject({ name: 'AbortError' });
    expect(b.state).toBe('closed');
    expect(b.stats.failures).toBe(0);
  });

  it('accepts an `isFailureResult` typed for the caller’s results', async () => {
    const b = breaker({
      strategy: consecutiveFailures(1),
      isFailureResult: (r: { status: number }) => r.status >= 500,
    });
    expect(await b.execute(async () => ({ status: 503 }))).toEqual({ status: 503 });
    expect(b.state).toBe('open');
  });

  it('counts results `isFailureResult` picks as failures, and still returns them', async () => {
    const clock = new VirtualClock();
    const b = breaker({
      clock,
      strategy: consecutiveFailures(2),
      isFailureResult: (r) => (r as { status: number }).status >= 500,
    });
    const unavailable = async (): Promise<{ status: number }> => ({ status: 503 });
    expect(await settle(clock, b.execute(unavailable))).toEqual({ status: 503 });
    await settle(clock, b.execute(unavailable));
    expect(b.state).toBe('open');
  });

  it('surfaces a predicate that throws on a later tick, without failing the call or the bookkeeping', async () => {
    const clock = new VirtualClock();
    const b = breaker({
      clock,
      strategy: consecutiveFailures(1),
      isFailure: () => {
        throw new Error('predicate bug');
      },
    });
    // The predicate's error is thrown from a microtask, where it surfaces as an uncaught exception.
    const thrown: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (job) => {
      try {
        job();
      } catch (error) {
        thrown.push(error);
      }
    };
    try {
      expect(await settle(clock, b.execute(boom))).toEqual(new Error('boom'));
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(thrown).toEqual([new Error('predicate bug')]);
    expect(b.state).toBe('open'); // a throwing `isFailure` counts the error as a failure
  });
});

describe('isolation and reset', () => {
  it('isolates until released, with a typed error; isolations stack', async () => {
    const clock = new VirtualClock();
    const b = breaker({ name: 'llm', clock });
    const log = recorder(b);
    const first = b.isolate();
    const second = b.isolate();
    const error = await settle(clock, b.execute(ok));
    expect(error).toBeInstanceOf(IsolatedError);
    expect(error).toMatchObject({ _tag: 'Isolated', breaker: 'llm', retryAfterMs: Infinity, retryable: false });
    expect(isIsolatedError(error)).toBe(true);
    await clock.advance(10 * 60_000);
    first();
    first(); // releasing twice does nothing
    expect(b.state).toBe('isolated');
    second();
    expect(b.state).toBe('closed');
    expect(await settle(clock, b.execute(ok))).toBe('ok');
    expect(log).toEqual(['closed->isolated (manual)', 'rejected isolated Infinity', 'isolated->closed (manual)']);
  });

  it('reset closes from any state and ends every isolation', async () => {
    const clock = new VirtualClock();
    const b = breaker({ clock, strategy: consecutiveFailures(1) });
    await settle(clock, b.execute(boom));
    b.reset();
    expect(b.state).toBe('closed');
    const release = b.isolate();
    b.reset();
    expect(b.state).toBe('closed');
    const again = b.isolate();
    release(); // an isolation the reset ended does not release a later one
    expect(b.state).toBe('isolated');
    again();
    expect(b.state).toBe('closed');
  });
});

describe('snapshots', () => {
  it('restart without losing state: a new breaker from a JSON snapshot stays open until the wait is over', async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const before = breaker({ name: 'crawler', clock, strategy: consecutiveFailures(2), halfOpenAfterMs: 60_000 });
    await settle(clock, before.execute(boom));
    await settle(clock, before.execute(boom));
    await clock.advance(20_000);
    const saved = JSON.stringify(before.snapshot());
    expect(JSON.parse(saved)).toEqual({
      version: 1,
      name: 'crawler',
      machine: { state: 'open', untilMs: 1_700_000_060_000, openings: 1 },
    });
    const after = breaker({ name: 'crawler', clock, halfOpenAfterMs: 60_000, initial: JSON.parse(saved) as never });
    expect(await settle(clock, after.execute(ok))).toMatchObject({ retryAfterMs: 40_000 });
  });

  it('keeps the window of a closed breaker, and starts afresh when the strategy changed', async () => {
    const clock = new VirtualClock();
    const strategy = countWindow({ size: 5, minimumCalls: 5 });
    const a = breaker({ clock, strategy });
    for (const t of [boom, ok, boom]) await settle(clock, a.execute(t));
    const b = breaker({ clock, strategy, initial: a.snapshot() });
    expect(b.stats).toEqual({ calls: 3, failures: 2, slowCalls: 0 });
    const c = breaker({ clock, strategy: countWindow({ size: 6 }), initial: a.snapshot() });
    expect(c.stats).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
  });

  it('forgets probes that were in flight when the snapshot was taken (they died with the process)', async () => {
    const clock = new VirtualClock();
    const a = breaker({ clock, strategy: consecutiveFailures(1), halfOpenAfterMs: 0 });
    await settle(clock, a.execute(boom));
    const probe = a.execute(() => clock.sleep(100));
    const b = breaker({ clock, strategy: consecutiveFailures(1), halfOpenAfterMs: 0, initial: a.snapshot() });
    expect(b.snapshot().machine).toEqual({ state: 'half-open', openings: 1, inFlight: 0, successes: 0 });
    expect(await settle(clock, b.execute(ok))).toBe('ok');
    await clock.run(probe);
  });
});

describe('health', () => {
  it('reports its state, counts and the wait', async () => {
    const clock = new VirtualClock();
    const b = breaker({ name: 'vector-db', clock, strategy: consecutiveFailures(2), halfOpenAfterMs: 1000 });
    expect(b.health()).toEqual({
      status: 'healthy',
      details: { state: 'closed', calls: 0, failures: 0, slowCalls: 0 },
    });
    await settle(clock, b.execute(boom));
    expect(b.health().details).toMatchObject({ failures: 1 });
    await settle(clock, b.execute(boom));
    await clock.advance(250);
    expect(b.health()).toEqual({
      status: 'unhealthy',
      details: { state: 'open', retryAfterMs: 750, openings: 1 },
    });
    await clock.advance(750);
    expect(b.health().status).toBe('degraded'); // a probe may go
    const probe = b.execute(() => clock.sleep(10));
    expect(b.health()).toEqual({
      status: 'degraded',
      details: { state: 'half-open', probesInFlight: 1, successes: 0, openings: 1 },
    });
    await clock.run(probe);
    b.isolate();
    expect(b.health()).toEqual({
      status: 'unhealthy',
      details: { state: 'isolated', retryAfterMs: null, isolations: 1 },
    });
    expect(JSON.parse(JSON.stringify(b.health()))).toEqual(b.health());
  });
});

describe('the success path', () => {
  function countingClock(): Clock & { reads: number } {
    const clock = new VirtualClock();
    const counting = {
      reads: 0,
      now: () => {
        counting.reads++;
        return clock.now();
      },
      setTimer: clock.setTimer.bind(clock),
      clearTimer: clock.clearTimer.bind(clock),
      sleep: clock.sleep.bind(clock),
    };
    return counting;
  }

  it('reads no clock for a consecutive or count-window breaker, and one per call for a time window', async () => {
    for (const [strategy, readsPerCall] of [
      [consecutiveFailures(3), 0],
      [countWindow({ size: 3 }), 0],
      [timeWindow(), 1],
    ] as const) {
      const clock = countingClock();
      const b = breaker({ clock, strategy });
      for (let i = 0; i < 10; i++) await b.execute(ok);
      expect(clock.reads).toBe(10 * readsPerCall);
    }
    const slow = countingClock();
    const b = breaker({ clock: slow, slowCallMs: 1000 });
    for (let i = 0; i < 10; i++) await b.execute(ok);
    expect(slow.reads).toBe(20); // start and end, to time the call
  });

  it('is a gate: it composes with other gates in one pipeline and keeps `wrap` types', async () => {
    const log: string[] = [];
    const tracing = definePolicy('trace', [
      {
        gate: {
          enter: () => void log.push('enter'),
          exit: (_t: unknown, outcome: { ok: boolean }) => {
            log.push(outcome.ok ? 'exit ok' : 'exit fail');
            return PASS;
          },
        },
      },
    ]);
    const clock = new VirtualClock();
    const b = breaker({ clock, strategy: consecutiveFailures(1) });
    const guarded = pipeline(tracing, b).wrap(async (n: number) => n * 2);
    expectTypeOf(guarded).toEqualTypeOf<(n: number) => Promise<number>>();
    expectTypeOf(b.wrap(async (s: string, n?: number) => s.repeat(n ?? 1))).toEqualTypeOf<
      (s: string, n?: number) => Promise<string>
    >();
    expect(await guarded(21)).toBe(42);
    const failing = pipeline(tracing, b).wrap(async (): Promise<number> => Promise.reject(new Error('down')));
    await expect(failing()).rejects.toThrow('down');
    await expect(guarded(1)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(log).toEqual(['enter', 'exit ok', 'enter', 'exit fail', 'enter', 'exit fail']);
  });
});
