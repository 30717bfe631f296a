import { describe, expect, it } from '@jest/globals';
import { definePolicy, Emitter, noop, PASS, pipeline, type Context, type PolicyEvent } from '@bulwark/core';
import { settle, VirtualClock } from '@bulwark/testkit';

import { instrument, type SinkBinding, type TelemetrySink } from '../src/index.js';
import { after, breaking, caching, retrying, type TestEvent } from './fixtures.js';

interface Seen {
  starts: string[];
  ends: { policy: string; ms: number; ok: boolean; value: unknown; state: unknown; id: string }[];
  events: { type: string; state: unknown }[];
}

/** A sink that writes down everything it is told. */
function recording(
  options: { stateful?: boolean; around?: (run: () => unknown) => unknown } = {},
): TelemetrySink & Seen {
  const seen: Seen = { starts: [], ends: [], events: [] };
  let n = 0;
  return {
    ...seen,
    bind(policy) {
      const binding: SinkBinding<string> = {
        end(ctx: Context, ms, outcome, state) {
          seen.ends.push({ policy, ms, ok: outcome.ok, value: outcome.value, state, id: ctx.correlationId });
        },
        event(event: PolicyEvent, state) {
          seen.events.push({ type: event.type, state });
        },
      };
      if (options.stateful === true) {
        binding.start = (ctx) => {
          seen.starts.push(ctx.correlationId);
          return `call-${++n}`;
        };
      }
      if (options.around !== undefined) {
        const around = options.around;
        binding.around = <A>(_state: string, run: () => A): A => around(run) as A;
      }
      return binding;
    },
  };
}

describe('instrument', () => {
  it('passes values and errors through untouched and measures each call on the clock', async () => {
    const clock = new VirtualClock();
    const sink = recording();
    const policy = instrument(noop, [sink], { name: 'api', clock });
    expect(await clock.run(policy.execute(after(clock, 120, { value: 'ok' })))).toBe('ok');
    const error = new Error('boom');
    await expect(clock.run(policy.execute(after(clock, 30, { error })))).rejects.toBe(error);
    expect(sink.ends.map(({ policy: p, ms, ok, value }) => ({ p, ms, ok, value }))).toEqual([
      { p: 'api', ms: 120, ok: true, value: 'ok' },
      { p: 'api', ms: 30, ok: false, value: error },
    ]);
  });

  it('keeps the wrapped function type and the caller correlation id', async () => {
    const sink = recording();
    const policy = instrument(noop, [sink]);
    const square = policy.wrap(async (n: number) => n * n, { correlationId: (n) => `req-${n}` });
    expect(await square(7)).toBe(49);
    expect(sink.ends[0]?.id).toBe('req-7');
    expect(sink.ends[0]?.policy).toBe('noop');
  });

  it('hands per-call state from start to the call events and to end', async () => {
    const clock = new VirtualClock();
    const sink = recording({ stateful: true });
    const policy = instrument(retrying(2, 100, clock), [sink], { clock });
    let calls = 0;
    const flaky = async (): Promise<string> => {
      if (++calls < 3) throw new Error(`fail ${calls}`);
      return 'third time';
    };
    const [a, b] = await clock.run(Promise.all([policy.execute(flaky), policy.execute(async () => 'other')]));
    expect([a, b]).toEqual(['third time', 'other']);
    // Each event reaches the sink with the state of the call it belongs to.
    const first = sink.ends.find((e) => e.value === 'third time');
    expect(first?.ms).toBe(200);
    const ofFirst = sink.events.filter((e) => e.state === first?.state).map((e) => e.type);
    expect(ofFirst).toEqual(['retry', 'retry', 'success']);
    const second = sink.ends.find((e) => e.value === 'other');
    expect(sink.events.filter((e) => e.state === second?.state).map((e) => e.type)).toEqual(['success']);
  });

  it('sees events of every part of a pipeline, and events outside any call without state', async () => {
    const breaker = breaking(1);
    const cache = caching();
    const sink = recording({ stateful: true });
    const policy = instrument(pipeline(breaker, cache), [sink]);
    await expect(policy.execute(async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await expect(policy.execute(async () => 1)).rejects.toMatchObject({ _tag: 'BrokenCircuit' });
    expect(sink.events.map((e) => e.type)).toEqual(['miss', 'state-change', 'rejected']);
    // The state change has no context: no call state. The rejection is about the second call.
    expect(sink.events[1]?.state).toBeUndefined();
    expect(sink.events[2]?.state).toBe('call-2');
    expect(sink.ends.map((e) => e.ok)).toEqual([false, false]);
  });

  it('runs the inner part inside every around', async () => {
    const order: string[] = [];
    const sink = recording({
      stateful: true,
      around: (run) => {
        order.push('around');
        return run();
      },
    });
    const policy = instrument(noop, [sink]);
    expect(
      await policy.execute(async () => {
        order.push('task');
        return 1;
      }),
    ).toBe(1);
    expect(order).toEqual(['around', 'task']);
  });

  it('forwards the inner policy events to onEvent and composes like the policy', async () => {
    const clock = new VirtualClock();
    const inner = retrying(1, 10, clock);
    const policy = instrument(inner, [recording()]);
    const seen: string[] = [];
    const stop = policy.onEvent((event) => seen.push(event.type));
    let calls = 0;
    await clock.run(
      pipeline(noop, policy).execute(async () => (++calls === 1 ? Promise.reject(new Error('x')) : 'ok')),
    );
    stop();
    expect(seen).toEqual(['retry', 'success']);
    expect(policy.inner).toBe(inner);
    expect(pipeline(noop, policy).layers).toHaveLength(policy.layers.length);
  });

  it('leaves a policy untouched until instrumented, and detaches on dispose', async () => {
    const events = new Emitter<TestEvent>();
    const inner = definePolicy('quiet', [{ gate: { enter: () => undefined, exit: () => PASS } }], events);
    expect(events.active).toBe(false);
    const sink = recording();
    const policy = instrument(inner, [sink]);
    expect(events.active).toBe(true);
    await policy.execute(async () => 1);
    policy.dispose();
    expect(events.active).toBe(false);
    await policy.execute(async () => 2);
    expect(sink.ends).toHaveLength(1);
  });

  it('subscribes to nothing when no sink listens to events', () => {
    const events = new Emitter<TestEvent>();
    const inner = definePolicy('quiet', [], events);
    instrument(inner, [{ bind: () => ({ end: () => undefined }) }]);
    expect(events.active).toBe(false);
  });

  it('never fails a call because a sink threw, and reports the sink error on a later tick', async () => {
    const thrown: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (job) =>
      original(() => {
        try {
          job();
        } catch (error) {
          thrown.push(error);
        }
      });
    try {
      const bad: TelemetrySink = {
        bind: () => ({
          start: () => {
            throw new Error('start broke');
          },
          end: () => {
            throw new Error('end broke');
          },
        }),
      };
      const policy = instrument(noop, [bad]);
      expect(await policy.execute(async () => 'fine')).toBe('fine');
      await settle();
      expect(thrown.map((e) => (e as Error).message)).toEqual(['start broke', 'end broke']);

      const badAround: TelemetrySink = {
        bind: () => ({
          start: () => 'state',
          around: () => {
            throw new Error('around broke');
          },
          end: () => undefined,
        }),
      };
      let ran = 0;
      expect(await instrument(noop, [badAround]).execute(async () => ++ran)).toBe(1);
      await settle();
      expect(thrown.map((e) => (e as Error).message)).toContain('around broke');
      // The task's own synchronous throw is the call's failure, not a sink error, and runs once.
      const passing: TelemetrySink = {
        bind: () => ({ start: () => 's', around: (_s, run) => run(), end: () => undefined }),
      };
      let calls = 0;
      await expect(
        instrument(noop, [passing]).execute(() => {
          calls++;
          throw new Error('task threw');
        }),
      ).rejects.toThrow('task threw');
      expect(calls).toBe(1);
    } finally {
      globalThis.queueMicrotask = original;
    }
  });

  it('rejects bad arguments at once, naming them', () => {
    expect(() => instrument(noop, {} as never)).toThrow(/`sinks`/);
    expect(() => instrument(noop, [{}] as never)).toThrow(/`sinks`/);
    expect(() => instrument({} as never, [])).toThrow(/`policy`/);
    expect(() => instrument(noop, [], { name: 3 as never })).toThrow(/`name`/);
    expect(() => instrument(noop, [], { clock: {} as never })).toThrow(/`clock`/);
  });
});
