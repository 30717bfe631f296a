import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { Context } from '@bulwark/core';
import { PlannedFailure, policyLaws, VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';

import { fallback, hedge, isHedgeLostError } from '../src/index.js';

// Every law below also checks that no promise was left rejected without a handler.
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  if (unhandled.length > 0) throw new Error(`unhandled rejections: ${unhandled.map(String).join(', ')}`);
});

policyLaws(it, 'hedge (fixed delay)', ({ clock }) => hedge({ delayMs: 100, maxAttempts: 3, clock }));
policyLaws(it, 'hedge (fixed delay, calls at once)', ({ clock }) => hedge({ delayMs: 50, clock }), {
  concurrent: true,
});
policyLaws(it, 'hedge (percentile)', ({ clock }) =>
  hedge({ percentile: { p: 50, windowSize: 8, minSamples: 2 }, maxAttempts: 3, clock }),
);
// A fallback resolves values the task did not produce by design; the generic laws hold for one that
// handles none of the task's own failures (they check that it passes everything else through).
policyLaws(it, 'fallback (not handling the task’s failures)', () =>
  fallback('fallback', { handle: (error) => !(error instanceof PlannedFailure) }),
);

/** One attempt's plan: how long it runs and whether it succeeds. */
interface PlannedAttempt {
  readonly ms: number;
  readonly ok: boolean;
}

/** What one attempt did. */
interface AttemptRecord {
  startedAt: number;
  settledAt: number;
  ok: boolean;
  /** Why its signal aborted, if it did. */
  abortedWith: unknown;
  context: Context;
}

describe('hedge laws (virtual clock, generated attempts)', () => {
  it('the result is the first success; attempts still running then are aborted; all failed: the last error; never more than maxAttempts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.record({ ms: fc.integer({ min: 0, max: 600 }), ok: fc.boolean() }), {
          minLength: 5,
          maxLength: 5,
        }),
        async (delayMs, maxAttempts, plan: PlannedAttempt[]) => {
          const clock = new VirtualClock();
          const records: AttemptRecord[] = [];
          // Settlement order: the clock runs timers due at the same time in the order they were set.
          const order: number[] = [];
          const task = async (ctx: Context): Promise<{ attempt: number }> => {
            const record: AttemptRecord = {
              startedAt: clock.now(),
              settledAt: -1,
              ok: false,
              abortedWith: undefined,
              context: ctx,
            };
            records[ctx.attempt - 1] = record;
            ctx.signal.addEventListener('abort', () => {
              record.abortedWith = ctx.signal.reason as unknown;
            });
            const step = plan[ctx.attempt - 1] as PlannedAttempt;
            try {
              await clock.sleep(step.ms, ctx.signal);
              if (!step.ok) throw new Error(`attempt ${ctx.attempt} failed`);
              record.ok = true;
              return { attempt: ctx.attempt };
            } finally {
              record.settledAt = clock.now();
              order.push(ctx.attempt);
            }
          };
          const outcome = await clock.run(
            hedge({ delayMs, maxAttempts, clock })
              .execute(task)
              .then(
                (value) => ({ ok: true as const, value, at: clock.now() }),
                (error: unknown) => ({ ok: false as const, error, at: clock.now() }),
              ),
          );
          await clock.runAll();
          const fail = (why: string): never => {
            throw new Error(
              `${why}: delay ${delayMs}, max ${maxAttempts}, plan ${JSON.stringify(plan)}, outcome ${JSON.stringify(outcome)}`,
            );
          };

          if (records.length > maxAttempts) fail(`${records.length} attempts started`);
          // Each attempt starts after the delay, or earlier because one failed at that moment.
          for (let i = 1; i < records.length; i++) {
            const at = (records[i] as AttemptRecord).startedAt;
            const previous = (records[i - 1] as AttemptRecord).startedAt;
            const failedThen = records.some((r, j) => j < i && !r.ok && r.settledAt === at);
            if (at !== previous + delayMs && !(at < previous + delayMs && failedThen))
              fail(`attempt ${i + 1} started at ${at}`);
          }
          // An attempt that fails while the call is pending starts the next one at once.
          records.forEach((r, i) => {
            const failedAt = r.settledAt;
            if (r.ok || r.abortedWith !== undefined || failedAt >= outcome.at) return;
            const startedByThen = records.filter((x) => x.startedAt <= failedAt).length;
            if (startedByThen < maxAttempts && !records.some((x, j) => j > i && x.startedAt === failedAt)) {
              fail(`attempt ${i + 1} failed at ${failedAt} and no attempt started then`);
            }
          });
          const firstSuccess = order.find((attempt) => (records[attempt - 1] as AttemptRecord).ok);
          if (firstSuccess !== undefined) {
            if (!outcome.ok || outcome.value.attempt !== firstSuccess) fail(`expected attempt ${firstSuccess} to win`);
            const won = records[firstSuccess - 1] as AttemptRecord;
            if (outcome.at !== won.settledAt) fail('did not resolve when the winner did');
            // No attempt starts once the call has settled: the others were running if they settled after it.
            const wonAt = order.indexOf(firstSuccess);
            records.forEach((r, i) => {
              const runningThen = r !== won && order.indexOf(i + 1) > wonAt;
              if (runningThen && !(isHedgeLostError(r.abortedWith) && r.abortedWith.winner === firstSuccess)) {
                fail(`attempt ${i + 1} was still running when ${firstSuccess} won, and was not aborted`);
              }
              if (i + 1 > maxAttempts) fail('too many attempts');
            });
            if (won.abortedWith !== undefined) fail('the winner was aborted');
          } else {
            const last = order[order.length - 1] as number;
            if (outcome.ok) return fail('resolved although every attempt failed');
            if ((outcome.error as Error).message !== `attempt ${last} failed`) fail(`expected attempt ${last}'s error`);
            if (records.length !== maxAttempts) fail('gave up before maxAttempts');
          }
          if (clock.pending !== 0) fail('left a timer behind');
        },
      ),
      { numRuns: 300 },
    );
  });
});

class Handled extends Error {}
class Unhandled extends Error {}

describe('fallback laws (generated outcomes)', () => {
  it('returns the fallback exactly for handled errors and handled results; everything else passes through', async () => {
    const outcome = fc.oneof(
      fc.record({ kind: fc.constant('value' as const), value: fc.integer() }),
      fc.record({ kind: fc.constant('handled' as const) }),
      fc.record({ kind: fc.constant('unhandled' as const) }),
      fc.record({ kind: fc.constant('aborted' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(outcome, fc.integer({ min: -5, max: 5 }), fc.boolean(), async (plan, rejectedResult, byFn) => {
        const policy = fallback(byFn ? () => Promise.resolve('fallback') : 'fallback', {
          handle: [Handled],
          handleResult: (value) => value === rejectedResult,
        });
        const controller = new AbortController();
        const reason = new Handled('the caller aborted, with an error the filter would handle');
        const thrown = plan.kind === 'handled' ? new Handled('h') : new Unhandled('u');
        const call = policy.execute(async (ctx): Promise<number | string> => {
          if (plan.kind === 'value') return plan.value;
          if (plan.kind === 'aborted') {
            controller.abort(reason);
            throw ctx.signal.reason;
          }
          throw thrown;
        }, controller.signal);
        const settled = await call.then(
          (value) => ({ ok: true, value }),
          (error: unknown) => ({ ok: false, value: error }),
        );
        const expected =
          plan.kind === 'value'
            ? { ok: true, value: plan.value === rejectedResult ? 'fallback' : plan.value }
            : plan.kind === 'handled'
              ? { ok: true, value: 'fallback' }
              : plan.kind === 'aborted'
                ? { ok: false, value: reason }
                : { ok: false, value: thrown };
        if (settled.ok !== expected.ok || settled.value !== expected.value) {
          throw new Error(`${JSON.stringify(plan)}: got ${String(settled.value)}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
