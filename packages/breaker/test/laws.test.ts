// The breaker's laws, as fast-check properties: first on the pure machine, then on the runner with
// the virtual clock, then the laws every policy keeps (testkit).
import { describe, expect, it } from '@jest/globals';
import {
  admission,
  breaker,
  closed,
  consecutiveFailures,
  countWindow,
  events,
  fromSnapshot,
  step,
  timeWindow,
  toSnapshot,
  type MachineConfig,
  type MachineEvent,
  type MachineSnapshot,
  type MachineState,
} from '@bulwark/breaker';
import { policyLaws, VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';

import { emptyWindow, record, shouldTrip, windowStats } from '../src/window.js';
import { breakerOf, configArb, eventArb, opArb, runSequential, stepsArb, strategyArb, type Op } from './arbitraries.js';

type Steps = readonly (readonly [MachineEvent, number])[];

/** Runs timed steps from `state` at `start`; returns every state on the way and the time at the end. */
function trace(config: MachineConfig, steps: Steps, state: MachineState = closed(config), start = 0) {
  const states: { state: MachineState; now: number }[] = [{ state, now: start }];
  let now = start;
  let s = state;
  for (const [event, dt] of steps) {
    now += dt;
    s = step(s, event, now, config);
    states.push({ state: s, now });
  }
  return { states, state: s, now };
}

/** A snapshot through JSON, as it would travel. */
const json = (snapshot: MachineSnapshot): unknown => JSON.parse(JSON.stringify(snapshot));

/** An open breaker whose wait is over admits exactly what a half-open one with nothing in flight does. */
function normalised(state: MachineState, now: number, config: MachineConfig): unknown {
  if (state.state === 'open' && now >= state.untilMs) {
    return { state: 'half-open', openings: state.openings, inFlight: 0, successes: 0 };
  }
  return toSnapshot(state, config);
}

describe('the pure machine', () => {
  it('the state after a sequence of events equals the state after replaying its snapshot', () => {
    fc.assert(
      fc.property(configArb, stepsArb, stepsArb, (config, prefix, rest) => {
        const before = trace(config, prefix);
        const snapshot = json(toSnapshot(before.state, config));
        const restored = fromSnapshot(snapshot, config);
        expect(restored).toBeDefined();
        expect(toSnapshot(restored as MachineState, config)).toEqual(snapshot);
        const original = trace(config, rest, before.state, before.now);
        const replayed = trace(config, rest, restored, before.now);
        expect(toSnapshot(replayed.state, config)).toEqual(toSnapshot(original.state, config));
      }),
      { numRuns: 300 },
    );
  });

  it('never changes a state it steps from, even when two branches grow from one state', () => {
    fc.assert(
      fc.property(configArb, stepsArb, stepsArb, stepsArb, (config, prefix, left, right) => {
        const root = trace(config, prefix);
        const rootSnapshot = json(toSnapshot(root.state, config));
        const a = trace(config, left, root.state, root.now);
        const aSnapshot = json(toSnapshot(a.state, config));
        const b = trace(config, right, root.state, root.now);
        // Growing b from the same root must not disturb the root or a.
        expect(json(toSnapshot(root.state, config))).toEqual(rootSnapshot);
        expect(json(toSnapshot(a.state, config))).toEqual(aSnapshot);
        // And b is what it would be from a fresh copy of the root.
        const fresh = trace(config, right, fromSnapshot(rootSnapshot, config), root.now);
        expect(toSnapshot(b.state, config)).toEqual(toSnapshot(fresh.state, config));
      }),
      { numRuns: 300 },
    );
  });

  it('admits no call while open before its wait is over, nor while isolated', () => {
    fc.assert(
      fc.property(configArb, stepsArb, fc.integer({ min: 0, max: 5000 }), (config, steps, later) => {
        for (const { state, now } of trace(config, steps).states) {
          const at = now + later;
          if (state.state === 'open' && at < state.untilMs) {
            expect(admission(state, at, config)).toEqual({ kind: 'reject', retryAfterMs: state.untilMs - at });
            expect(step(state, events.probe, at, config)).toBe(state);
          }
          if (state.state === 'isolated') {
            expect(admission(state, at, config)).toEqual({ kind: 'reject', retryAfterMs: Number.POSITIVE_INFINITY });
            expect(step(state, events.probe, at, config)).toBe(state);
            expect(step(state, events.success, at, config)).toBe(state);
            expect(step(state, events.failure, at, config)).toBe(state);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('has at most `probes` probes in flight while half-open', () => {
    fc.assert(
      fc.property(configArb, stepsArb, (config, steps) => {
        for (const { state, now } of trace(config, steps).states) {
          if (state.state !== 'half-open') continue;
          expect(state.inFlight).toBeLessThanOrEqual(config.probes);
          expect(state.successes).toBeLessThan(config.successesToClose);
          if (state.inFlight === config.probes) {
            expect(admission(state, now, config)).toEqual({ kind: 'reject', retryAfterMs: 0 });
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('closes after exactly `successesToClose` successful probes in a row, from open or half-open', () => {
    fc.assert(
      fc.property(configArb, stepsArb, (config, steps) => {
        const { state, now } = trace(config, steps);
        if (state.state !== 'open' && state.state !== 'half-open') return;
        const at = state.state === 'open' ? Math.max(now, state.untilMs) : now;
        const needed = config.successesToClose - (state.state === 'half-open' ? state.successes : 0);
        let s: MachineState = state;
        for (let i = 1; i <= needed; i++) {
          s = step(step(s, events.probe, at, config), events.success, at, config);
          expect(s.state).toBe(i < needed ? 'half-open' : 'closed');
        }
        expect(s).toEqual(closed(config));
      }),
      { numRuns: 300 },
    );
  });

  it('a probe released uncounted (an ignored error) leaves the breaker admitting what it did before', () => {
    fc.assert(
      fc.property(configArb, stepsArb, fc.integer({ min: 0, max: 3000 }), (config, steps, later) => {
        const { state, now } = trace(config, steps);
        const at = now + later;
        if (admission(state, at, config).kind !== 'probe') return;
        const after = step(step(state, events.probe, at, config), events.release, at, config);
        expect(normalised(after, at, config)).toEqual(normalised(state, at, config));
      }),
      { numRuns: 300 },
    );
  });

  it('a success that leaves it closed does not read the time unless the strategy keeps time', () => {
    const untimed = configArb.filter((c) => c.strategy.kind !== 'time-window');
    fc.assert(
      fc.property(untimed, stepsArb, fc.integer(), fc.integer(), (config, steps, t1, t2) => {
        const { state } = trace(config, steps);
        if (state.state !== 'closed') return;
        const at1 = step(state, events.success, t1, config);
        const at2 = step(state, events.success, t2, config);
        // A success may trip a window (the call that reaches `minimumCalls`): then the wait starts now.
        expect(at1.state).toBe(at2.state);
        if (at1.state === 'closed') expect(toSnapshot(at1, config)).toEqual(toSnapshot(at2, config));
      }),
      { numRuns: 300 },
    );
  });

  it('returns the very same state for a success into a healthy full window', () => {
    const untimed = configArb.filter((c) => c.strategy.kind !== 'time-window');
    fc.assert(
      fc.property(untimed, stepsArb, (config, steps) => {
        const traced = trace(config, steps);
        const now = traced.now;
        let state = step(traced.state, events.reset, now, config);
        const size = config.strategy.kind === 'count-window' ? config.strategy.size : 1;
        for (let i = 0; i < size; i++) state = step(state, events.success, now, config);
        expect(step(state, events.success, now + 1, config)).toBe(state);
      }),
    );
  });
});

describe('the windows agree with the naive list of outcomes', () => {
  const outcomes = fc.array(
    fc.record({ failed: fc.boolean(), slow: fc.boolean(), dt: fc.integer({ min: 0, max: 400 }) }),
    { maxLength: 60 },
  );

  it('count window: counts of the last `size` calls, and the trip decision', () => {
    fc.assert(
      fc.property(
        strategyArb.filter((s) => s.kind === 'count-window'),
        outcomes,
        (strategy, calls) => {
          if (strategy.kind !== 'count-window') return;
          let w = emptyWindow(strategy);
          const naive: { failed: boolean; slow: boolean }[] = [];
          for (const call of calls) {
            w = record(w, call.failed, call.slow, 0, strategy);
            naive.push(call);
            const last = naive.slice(-strategy.size);
            const expected = {
              calls: last.length,
              failures: last.filter((c) => c.failed).length,
              slowCalls: last.filter((c) => c.slow).length,
            };
            expect(windowStats(w, 0, strategy)).toEqual(expected);
            const trips =
              expected.calls >= strategy.minimumCalls &&
              (expected.failures >= strategy.failureRate * expected.calls ||
                expected.slowCalls >= strategy.slowCallRate * expected.calls);
            expect(shouldTrip(w, strategy)).toBe(trips);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('time window: counts of the calls whose bucket is among the last `buckets`, and the trip decision', () => {
    fc.assert(
      fc.property(
        strategyArb.filter((s) => s.kind === 'time-window'),
        outcomes,
        fc.integer({ min: 0, max: 10_000 }),
        (strategy, calls, start) => {
          if (strategy.kind !== 'time-window') return;
          const bucketMs = strategy.windowMs / strategy.buckets;
          let w = emptyWindow(strategy);
          const naive: { failed: boolean; slow: boolean; at: number }[] = [];
          let now = start;
          for (const call of calls) {
            now += call.dt;
            w = record(w, call.failed, call.slow, now, strategy);
            naive.push({ ...call, at: now });
            const oldest = Math.floor(now / bucketMs) - strategy.buckets + 1;
            const kept = naive.filter((c) => Math.floor(c.at / bucketMs) >= oldest);
            const expected = {
              calls: kept.length,
              failures: kept.filter((c) => c.failed).length,
              slowCalls: kept.filter((c) => c.slow).length,
            };
            expect(windowStats(w, now, strategy)).toEqual(expected);
            const trips =
              expected.calls >= strategy.minimumCalls &&
              (expected.failures >= strategy.failureRate * expected.calls ||
                expected.slowCalls >= strategy.slowCallRate * expected.calls);
            expect(shouldTrip(w, strategy)).toBe(trips);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the runner, on the virtual clock', () => {
  it('lets no call reach the task while open or isolated, and at most `probes` probes at once', async () => {
    const actionArb = fc.oneof(
      { weight: 8, arbitrary: opArb },
      { weight: 1, arbitrary: fc.constant({ kind: 'isolate' } as const) },
      { weight: 1, arbitrary: fc.constant({ kind: 'release' } as const) },
    );
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(actionArb, { maxLength: 40 }), async (config, actions) => {
        const clock = new VirtualClock();
        const b = breakerOf(config, clock);
        const releases: (() => void)[] = [];
        let probesRunning = 0;
        let maxProbes = 0;
        const reachedWhile: string[] = [];
        const pending: Promise<unknown>[] = [];
        for (const action of actions) {
          if (action.kind === 'isolate') releases.push(b.isolate());
          else if (action.kind === 'release') releases.shift()?.();
          else if (action.kind === 'wait') await clock.advance(action.ms);
          else {
            const call = b.execute(async () => {
              // The gate has admitted the call: the breaker is closed, or half-open and this is a probe.
              const state = b.state;
              if (state !== 'closed' && state !== 'half-open') reachedWhile.push(state);
              const probe = state === 'half-open';
              if (probe) maxProbes = Math.max(maxProbes, ++probesRunning);
              try {
                await clock.sleep(action.latencyMs);
                if (action.outcome !== 'ok') throw new Error(action.outcome);
              } finally {
                if (probe) probesRunning--;
              }
            });
            pending.push(call.catch(() => undefined));
            // Let some calls overlap: start the next one before this one ends.
            await clock.advance(action.latencyMs % 3 === 0 ? 0 : action.latencyMs / 2);
          }
        }
        await clock.run(Promise.all(pending));
        expect(reachedWhile).toEqual([]);
        expect(maxProbes).toBeLessThanOrEqual(config.probes);
      }),
      { numRuns: 150 },
    );
  });

  it('closes after `successesToClose` successful probes in a row, and not before', async () => {
    await fc.assert(
      // With `slowCallMs: 0` every call is slow, so no probe can succeed.
      fc.asyncProperty(
        configArb.filter((c) => c.slowCallMs > 0),
        async (config) => {
          const clock = new VirtualClock();
          // Failures until it trips (every strategy here trips on a run of failures).
          const b = breakerOf(config, clock);
          for (let i = 0; i < 20 && b.state === 'closed'; i++) {
            await clock.run(b.execute(() => Promise.reject(new Error('down'))).catch(() => undefined));
          }
          expect(b.state).toBe('open');
          await clock.advance(config.halfOpenAfterMs);
          for (let i = 1; i <= config.successesToClose; i++) {
            await clock.run(b.execute(async () => 'up'));
            expect(b.state).toBe(i < config.successesToClose ? 'half-open' : 'closed');
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('ignored errors never change the state: a schedule behaves as the same schedule without them', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(opArb, { maxLength: 30 }), async (config, ops) => {
        const withIgnored = new VirtualClock();
        const a = breakerOf(config, withIgnored);
        const statesA: unknown[] = [];
        const resultsA = await runSequential(a, withIgnored, ops, (_op, result) => {
          // A call that was to end with an ignored error but was refused is a refusal in both runs.
          if (result !== 'ignored') statesA.push(normalisedBreaker(a, withIgnored, config));
        });
        // The same schedule with each ignored call replaced by the time it took.
        const without = new VirtualClock();
        const b = breakerOf(config, without);
        const statesB: unknown[] = [];
        const replaced: Op[] = ops.map((op, i) =>
          op.kind === 'call' && op.outcome === 'ignored' && resultsOf(resultsA, ops, i) === 'ignored'
            ? { kind: 'wait', ms: op.latencyMs }
            : op,
        );
        const resultsB = await runSequential(b, without, replaced, () => {
          statesB.push(normalisedBreaker(b, without, config));
        });
        expect(resultsB).toEqual(resultsA.filter((r) => r !== 'ignored'));
        expect(statesB).toEqual(statesA);
        expect(normalisedBreaker(b, without, config)).toEqual(normalisedBreaker(a, withIgnored, config));
      }),
      { numRuns: 150 },
    );
  });

  it('a breaker started from a snapshot behaves as the one it was taken from', async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(opArb, { maxLength: 25 }),
        fc.array(opArb, { maxLength: 25 }),
        async (config, prefix, rest) => {
          const clockA = new VirtualClock();
          const a = breakerOf(config, clockA);
          await runSequential(a, clockA, prefix);
          const snapshot = JSON.parse(JSON.stringify(a.snapshot())) as unknown;
          const clockB = new VirtualClock(clockA.now());
          const b = breakerOf(config, clockB, snapshot);
          expect(b.snapshot()).toEqual(snapshot);
          const resultsA = await runSequential(a, clockA, rest);
          const resultsB = await runSequential(b, clockB, rest);
          expect(resultsB).toEqual(resultsA);
          expect(b.snapshot()).toEqual(a.snapshot());
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** Which result the i-th op of `ops` (a call) came to in `results`. */
function resultsOf(results: readonly string[], ops: readonly Op[], i: number): string | undefined {
  let call = 0;
  for (let j = 0; j < i; j++) if (ops[j]?.kind === 'call') call++;
  return results[call];
}

function normalisedBreaker(b: ReturnType<typeof breaker>, clock: VirtualClock, config: MachineConfig): unknown {
  const state = fromSnapshot(b.snapshot().machine, config) as MachineState;
  return normalised(state, clock.now(), config);
}

describe('the laws every policy keeps', () => {
  policyLaws(it, 'breaker(consecutiveFailures(2))', ({ clock }) =>
    breaker({ clock, strategy: consecutiveFailures(2), halfOpenAfterMs: 100 }),
  );
  policyLaws(
    it,
    'breaker(countWindow) with probes',
    ({ clock }) =>
      breaker({
        clock,
        strategy: countWindow({ size: 4, minimumCalls: 2 }),
        halfOpenAfterMs: 50,
        probes: 2,
        slowCallMs: 500,
      }),
    { concurrent: true },
  );
  policyLaws(
    it,
    'breaker(timeWindow)',
    ({ clock }) => breaker({ clock, strategy: timeWindow({ windowMs: 1000, buckets: 4, minimumCalls: 2 }) }),
    { concurrent: true },
  );
});

// Keeps the event arbitrary exercised on its own too: every event is accepted from every state.
it('steps every event from every reachable state without throwing', () => {
  fc.assert(
    fc.property(configArb, stepsArb, eventArb, (config, steps, event) => {
      const { state, now } = trace(config, steps);
      expect(() => step(state, event, now, config)).not.toThrow();
    }),
  );
});
