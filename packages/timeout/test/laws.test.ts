import { describe, it } from '@jest/globals';
import type { Clock, TimerHandle } from '@bulwark/core';
import { policyLaws, VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';

import { isTimeoutError, timeout, type TimeoutStrategy } from '../src/index.js';

policyLaws(it, 'timeout (aggressive)', ({ clock }) => timeout({ timeoutMs: 500, clock }));
policyLaws(it, 'timeout (cooperative)', ({ clock }) => timeout({ timeoutMs: 500, strategy: 'cooperative', clock }));
policyLaws(it, 'timeout (aggressive, calls at once)', ({ clock }) => timeout({ timeoutMs: 300, clock }), {
  concurrent: true,
});
policyLaws(
  it,
  'timeout (cooperative, calls at once)',
  ({ clock }) => timeout({ timeoutMs: 300, strategy: 'cooperative', clock }),
  { concurrent: true },
);

/** The policy's view of the virtual clock, counting the timers it holds. */
function countingClock(clock: VirtualClock): Clock & { live: number; most: number; keptAlive: number } {
  const counting = {
    live: 0,
    most: 0,
    keptAlive: 0,
    now: () => clock.now(),
    setTimer(callback: () => void, ms: number, keepAlive?: boolean): TimerHandle {
      counting.live++;
      counting.most = Math.max(counting.most, counting.live);
      if (keepAlive !== false) counting.keptAlive++;
      return clock.setTimer(
        () => {
          counting.live--;
          callback();
        },
        ms,
        keepAlive,
      );
    },
    clearTimer(handle: TimerHandle): void {
      counting.live--;
      clock.clearTimer(handle);
    },
    sleep: (ms: number, signal?: AbortSignal) => clock.sleep(ms, signal),
  };
  return counting;
}

/** One generated call: when it starts, how long its task takes, how it ends, whether it honours its signal. */
interface PlannedCall {
  readonly startAt: number;
  readonly latencyMs: number;
  readonly ok: boolean;
  readonly honoursSignal: boolean;
}

const plannedCall: fc.Arbitrary<PlannedCall> = fc.record({
  // Quarter milliseconds: calls start between two of the queue's stamping ticks too.
  startAt: fc.integer({ min: 0, max: 2400 }).map((q) => q / 4),
  latencyMs: fc.integer({ min: 0, max: 900 }),
  ok: fc.boolean(),
  honoursSignal: fc.boolean(),
});

interface Observed {
  start: number;
  taskSettledAt: number;
  settledAt: number;
  ok: boolean;
  value: unknown;
}

describe('timeout laws (virtual clock, generated calls)', () => {
  it('settles within the limit + 1 ms unless cooperative with a task that ignores its signal; a task that finishes first keeps its outcome; cooperative waits for the task, aggressive does not', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 300 }),
          fc.constantFrom<TimeoutStrategy>('aggressive', 'cooperative'),
          fc.array(plannedCall, { minLength: 1, maxLength: 12 }),
          async (timeoutMs, strategy, plan) => {
            const clock = new VirtualClock();
            const policyClock = countingClock(clock);
            const policy = timeout({ timeoutMs, strategy, clock: policyClock });
            const observed: Observed[] = plan.map(() => ({
              start: -1,
              taskSettledAt: -1,
              settledAt: -1,
              ok: false,
              value: undefined,
            }));
            const failures = plan.map((_, i) => new Error(`call ${i} failed`));
            plan.forEach((call, i) => {
              const seen = observed[i] as Observed;
              clock.setTimer(() => {
                seen.start = clock.now();
                policy
                  .execute(async (ctx) => {
                    try {
                      await clock.sleep(call.latencyMs, call.honoursSignal ? ctx.signal : undefined);
                    } finally {
                      seen.taskSettledAt = clock.now();
                    }
                    if (!call.ok) throw failures[i];
                    return { call: i };
                  })
                  .then(
                    (value) => Object.assign(seen, { settledAt: clock.now(), ok: true, value }),
                    (error: unknown) => Object.assign(seen, { settledAt: clock.now(), ok: false, value: error }),
                  );
              }, call.startAt);
            });
            await clock.runAll();

            plan.forEach((call, i) => {
              const seen = observed[i] as Observed;
              const fail = (why: string): never => {
                throw new Error(
                  `call ${i} ${JSON.stringify(call)} (${strategy}, ${timeoutMs} ms): ${why}; saw ${JSON.stringify(seen)}`,
                );
              };
              if (seen.settledAt < 0) fail('never settled');
              const took = seen.settledAt - seen.start;
              if (call.latencyMs < timeoutMs) {
                // Finished first: its own outcome, unchanged, when it finished.
                if (took !== call.latencyMs) fail('did not settle when its task did');
                if (call.ok && !(seen.ok && (seen.value as { call: number }).call === i)) fail('lost its value');
                if (!call.ok && seen.value !== failures[i]) fail('lost its own error');
                return;
              }
              if (call.latencyMs <= timeoutMs + 1) return; // a tie with the stamping tick: either outcome
              if (!isTimeoutError(seen.value)) fail('did not time out');
              if (strategy === 'cooperative' && !call.honoursSignal) {
                // Cooperative waits for its task, however long it takes.
                if (took !== call.latencyMs) fail('did not wait for its task');
                return;
              }
              if (took < timeoutMs || took > timeoutMs + 1) fail('did not settle within the limit + 1 ms');
              if (strategy === 'aggressive' && !call.honoursSignal && seen.taskSettledAt <= seen.settledAt) {
                fail('waited for its task');
              }
            });
            if (policyClock.keptAlive !== 0) throw new Error('a timer kept the process alive');
            if (policyClock.most > 2) throw new Error(`${policyClock.most} timers armed at once`);
            if (policyClock.live !== 0) throw new Error(`${policyClock.live} timers left armed`);
          },
        ),
        { numRuns: 300 },
      );
      if (unhandled.length > 0) throw new Error(`unhandled rejections: ${String(unhandled[0])}`);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it("a caller's abort before the deadline is never reported as a timeout", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 300 }),
        fc.constantFrom<TimeoutStrategy>('aggressive', 'cooperative'),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (timeoutMs, strategy, when) => {
          const clock = new VirtualClock();
          const policy = timeout({ timeoutMs, strategy, clock });
          const controller = new AbortController();
          const reason = new Error('caller gave up');
          const call = policy.execute((ctx) => clock.sleep(10 * timeoutMs, ctx.signal), controller.signal);
          clock.setTimer(() => controller.abort(reason), when * (timeoutMs - 1));
          const outcome = await clock.run(
            call.then(
              () => 'resolved',
              (error: unknown) => error,
            ),
          );
          if (outcome !== reason) throw new Error(`rejected with ${String(outcome)}`);
        },
      ),
      { numRuns: 100 },
    );
  });
});
