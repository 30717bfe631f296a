import { describe, expect, it } from '@jest/globals';
import {
  admission,
  closed,
  consecutiveFailures,
  countWindow,
  events,
  fromSnapshot,
  openWaitMs,
  step,
  timeWindow,
  toSnapshot,
  type MachineConfig,
  type MachineEvent,
  type MachineState,
} from '@bulwark/breaker';

const base: MachineConfig = {
  strategy: consecutiveFailures(3),
  halfOpenAfterMs: 1000,
  maxHalfOpenAfterMs: 1000,
  backoffFactor: 2,
  probes: 1,
  successesToClose: 1,
  slowCallMs: Number.POSITIVE_INFINITY,
};

/** Runs `[event, atMs]` pairs from `state`. */
function run(config: MachineConfig, steps: readonly (readonly [MachineEvent, number])[], state = closed(config)) {
  let s: MachineState = state;
  for (const [event, at] of steps) s = step(s, event, at, config);
  return s;
}

const fail = (at: number) => [events.failure, at] as const;
const ok = (at: number) => [events.success, at] as const;

describe('consecutive failures', () => {
  it('trips on the configured number of failures in a row, and a success starts the count again', () => {
    expect(run(base, [fail(0), fail(1)]).state).toBe('closed');
    expect(run(base, [fail(0), fail(1), ok(2), fail(3), fail(4)]).state).toBe('closed');
    expect(run(base, [fail(0), fail(1), fail(2)])).toEqual({ state: 'open', untilMs: 1002, openings: 1 });
  });

  it('counts a slow success as a failure when slow calls are judged', () => {
    const config = { ...base, slowCallMs: 100 };
    const slow = { type: 'success', durationMs: 100 } as const;
    const quick = { type: 'success', durationMs: 99 } as const;
    expect(
      run(config, [
        [slow, 0],
        [slow, 1],
        [quick, 2],
        [slow, 3],
      ]).state,
    ).toBe('closed');
    expect(
      run(config, [
        [slow, 0],
        [slow, 1],
        [slow, 2],
      ]).state,
    ).toBe('open');
  });

  it('returns the same state for a success with no failures counted (no allocation)', () => {
    const s = closed(base);
    expect(step(s, events.success, 123, base)).toBe(s);
  });
});

describe('count window', () => {
  const config = { ...base, strategy: countWindow({ size: 4, failureRate: 0.5, minimumCalls: 4 }) };

  it('judges nothing before the minimum number of calls', () => {
    expect(run(config, [fail(0), fail(1), fail(2)]).state).toBe('closed');
  });

  it('trips when the failure rate of the last calls reaches the threshold, on a success too', () => {
    // 3 failures then a success: 4 calls, 75% failures.
    expect(run(config, [fail(0), fail(1), fail(2), ok(3)]).state).toBe('open');
    // Failures that left the window no longer count: F S S S S S F -> last 4 are S S S F.
    expect(run(config, [fail(0), ok(1), ok(2), ok(3), ok(4), ok(5), fail(6)]).state).toBe('closed');
  });

  it('trips on the slow-call rate', () => {
    const slowConfig = {
      ...config,
      slowCallMs: 50,
      strategy: countWindow({ size: 4, failureRate: 1, slowCallRate: 0.75, minimumCalls: 4 }),
    };
    const slow = { type: 'success', durationMs: 60 } as const;
    expect(run(slowConfig, [[slow, 0], [slow, 1], ok(2), ok(3)]).state).toBe('closed');
    expect(run(slowConfig, [[slow, 0], [slow, 1], [slow, 2], ok(3)]).state).toBe('open');
  });

  it('returns the same state for a success into a full window of successes', () => {
    const s = run(config, [ok(0), ok(1), ok(2), ok(3)]);
    expect(step(s, events.success, 4, config)).toBe(s);
  });
});

describe('time window', () => {
  const config = {
    ...base,
    strategy: timeWindow({ windowMs: 1000, buckets: 10, failureRate: 0.5, minimumCalls: 4 }),
  };

  it('trips on the failure rate of the calls of the last window', () => {
    expect(run(config, [ok(0), fail(100), fail(200), fail(300)]).state).toBe('open');
  });

  it('forgets calls whose bucket has left the window', () => {
    // Three failures at t < 100 leave the window (buckets of 100 ms) by t = 1000.
    const s = run(config, [fail(0), fail(50), fail(99), ok(1000), ok(1001), ok(1002)]);
    expect(s.state).toBe('closed');
    expect(run(config, [fail(0), fail(50), fail(99), ok(999)]).state).toBe('open');
  });

  it('keeps counting into the current bucket when the clock goes back', () => {
    const s = run(config, [ok(5000), fail(4000), fail(4001), fail(4002)]);
    expect(s.state).toBe('open');
  });
});

describe('open and half-open', () => {
  const config = { ...base, probes: 2, successesToClose: 3, maxHalfOpenAfterMs: 5000 };
  const opened = run(config, [fail(0), fail(0), fail(0)]);

  it('refuses calls until the wait is over, then admits probes up to the limit', () => {
    expect(admission(opened, 999, config)).toEqual({ kind: 'reject', retryAfterMs: 1 });
    expect(admission(opened, 1000, config)).toEqual({ kind: 'probe' });
    const one = step(opened, events.probe, 1000, config);
    expect(one).toEqual({ state: 'half-open', openings: 1, inFlight: 1, successes: 0 });
    const two = step(one, events.probe, 1000, config);
    expect(admission(two, 1000, config)).toEqual({ kind: 'reject', retryAfterMs: 0 });
    expect(step(two, events.probe, 1000, config)).toBe(two);
  });

  it('closes after the configured number of successful probes in a row', () => {
    let s = step(opened, events.probe, 1000, config);
    s = step(s, events.success, 1001, config);
    s = step(step(s, events.probe, 1001, config), events.success, 1002, config);
    expect(s.state).toBe('half-open');
    s = step(step(s, events.probe, 1002, config), events.success, 1003, config);
    expect(s).toEqual(closed(config));
  });

  it('reopens on a failed probe with a wait that grows by the factor up to the cap, and starts over once closed', () => {
    expect(openWaitMs(1, config)).toBe(1000);
    expect(openWaitMs(2, config)).toBe(2000);
    expect(openWaitMs(3, config)).toBe(4000);
    expect(openWaitMs(4, config)).toBe(5000);
    expect(openWaitMs(60, config)).toBe(5000);
    let s = step(step(opened, events.probe, 1000, config), events.failure, 1010, config);
    expect(s).toEqual({ state: 'open', untilMs: 3010, openings: 2 });
    s = step(step(s, events.probe, 3010, config), events.failure, 3010, config);
    expect(s).toEqual({ state: 'open', untilMs: 7010, openings: 3 });
  });

  it('counts a slow probe as a failed one', () => {
    const slowConfig = { ...config, slowCallMs: 10 };
    const s = step(step(opened, events.probe, 1000, slowConfig), { type: 'success', durationMs: 10 }, 1010, slowConfig);
    expect(s.state).toBe('open');
  });

  it('frees a probe slot on release without counting', () => {
    const s = step(opened, events.probe, 1000, config);
    expect(step(s, events.release, 1001, config)).toEqual({ ...s, inFlight: 0 });
  });

  it('ignores outcomes that arrive while open, and in half-open with no probe in flight', () => {
    expect(step(opened, events.failure, 10, config)).toBe(opened);
    const halfOpen = step(step(opened, events.probe, 1000, config), events.release, 1000, config);
    expect(step(halfOpen, events.failure, 1001, config)).toBe(halfOpen);
  });
});

describe('isolation and reset', () => {
  it('isolates from any state, stacks, and closes when the last isolation is released', () => {
    let s: MachineState = run(base, [fail(0)]);
    s = step(s, events.isolate, 1, base);
    s = step(s, events.isolate, 2, base);
    expect(s).toEqual({ state: 'isolated', holders: 2 });
    expect(admission(s, 1e12, base)).toEqual({ kind: 'reject', retryAfterMs: Number.POSITIVE_INFINITY });
    s = step(s, events.unisolate, 3, base);
    expect(s.state).toBe('isolated');
    expect(step(s, events.unisolate, 4, base)).toEqual(closed(base));
  });

  it('resets to closed with an empty window from any state', () => {
    expect(step(run(base, [fail(0), fail(0)]), events.reset, 1, base)).toEqual(closed(base));
    expect(step({ state: 'isolated', holders: 3 }, events.reset, 1, base)).toEqual(closed(base));
  });
});

describe('snapshots', () => {
  it('round-trips through JSON', () => {
    const config = { ...base, strategy: countWindow({ size: 5, minimumCalls: 5 }), slowCallMs: 10 };
    const s = run(config, [fail(0), ok(1), [{ type: 'success', durationMs: 20 }, 2], fail(3)]);
    const json = JSON.parse(JSON.stringify(toSnapshot(s, config))) as unknown;
    expect(json).toEqual({
      state: 'closed',
      window: {
        kind: 'count-window',
        size: 5,
        calls: 4,
        bad: [
          [0, 1],
          [1, 2],
          [3, 1],
        ],
      },
    });
    expect(toSnapshot(fromSnapshot(json, config) as MachineState, config)).toEqual(json);
  });

  it('gives an empty window for a snapshot taken under another strategy, and undefined for garbage', () => {
    const consecutive = toSnapshot(run(base, [fail(0)]), base);
    const config = { ...base, strategy: countWindow() };
    expect(fromSnapshot(consecutive, config)).toEqual(closed(config));
    for (const bad of [
      null,
      1,
      'open',
      {},
      { state: 'open', untilMs: 'x', openings: 1 },
      { state: 'isolated', holders: 0 },
    ]) {
      expect(fromSnapshot(bad, base)).toBeUndefined();
    }
    expect(
      fromSnapshot({ state: 'closed', window: { kind: 'count-window', size: 5, calls: 2, bad: [[2, 1]] } }, base),
    ).toBeUndefined();
  });
});
