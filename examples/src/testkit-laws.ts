/**
 * Testing a composition with @bulwark/testkit, under node:test: the laws every policy keeps, run on a
 * breaker-and-bulkhead pipeline, and a property of its own (the bulkhead never runs more calls than
 * its capacity, whatever the calls' outcomes and latencies), both on the virtual clock, so hundreds
 * of generated cases with latencies of seconds take well under a second.
 *
 * Run: pnpm --filter @bulwark/examples example src/testkit-laws.ts
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { breaker, consecutiveFailures } from '@bulwark/breaker';
import { bulkhead, isBulkheadRejectedError } from '@bulwark/bulkhead';
import { pipeline } from '@bulwark/core';
import { outcomeSchedule, policyLaws, scheduledTask, VirtualClock, type TestFn } from '@bulwark/testkit';
import fc from 'fast-check';

// The breaker ignores the bulkhead's refusals: they are not the dependency's failures. (Without
// `ignore`, the property below fails: three refusals in a row open the breaker, and fast-check finds it.)
const resilient = (clock: VirtualClock) =>
  pipeline(
    breaker({ strategy: consecutiveFailures(3), halfOpenAfterMs: 5_000, ignore: isBulkheadRejectedError, clock }),
    bulkhead({ capacity: 2, queueSize: 4, clock }),
  );

// The shared laws: never a value the task did not produce, every call settles, a caller's abort
// reaches the task. They register through any `test(name, fn)`: node:test's here, Jest's `it` in a suite.
const nodeTest: TestFn = (name, fn) => void test(name, fn);
policyLaws(nodeTest, 'breaker → bulkhead', ({ clock }) => resilient(clock), { numRuns: 50 });
policyLaws(nodeTest, 'breaker → bulkhead, calls at once', ({ clock }) => resilient(clock), {
  numRuns: 50,
  concurrent: true,
});

void test('the bulkhead never runs more than its capacity', async () => {
  await fc.assert(
    fc.asyncProperty(outcomeSchedule({ maxLength: 12, maxLatencyMs: 3_000 }), async (schedule) => {
      const clock = new VirtualClock();
      const policy = resilient(clock);
      const { task } = scheduledTask(schedule, clock);
      let running = 0;
      let most = 0;
      const calls = schedule.map(() =>
        policy.execute(async (ctx) => {
          most = Math.max(most, ++running);
          try {
            return await task(ctx);
          } finally {
            running--;
          }
        }),
      );
      const settled = await clock.run(Promise.allSettled(calls));
      assert.ok(most <= 2, `${most} calls ran at once`);
      // Beyond 2 running and 4 waiting, calls are shed at once, and only then.
      const shed = settled.filter((s) => s.status === 'rejected' && isBulkheadRejectedError(s.reason)).length;
      assert.equal(shed, Math.max(0, schedule.length - 6));
      assert.equal(clock.pending, 0, 'no timer left behind');
    }),
    { numRuns: 200 },
  );
});
