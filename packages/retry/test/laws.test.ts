import { describe, expect, it } from '@jest/globals';
import { BulwarkError, MAX_TIMER_DELAY_MS, type Context } from '@bulwark/core';
import { policyLaws, settle, VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';

import { elapsedLimit } from '../src/backoff.js';
import {
  constant,
  decorrelatedJitter,
  maxElapsed,
  nextDelay,
  retry,
  type Backoff,
  type RetryEvent,
} from '../src/index.js';
import { backoff, highest, lowest, seeded, unlimited } from './support.js';

policyLaws(it, 'retry', ({ clock }) => retry({ clock, random: seeded(1) }));
policyLaws(it, 'retry (calls at once)', ({ clock }) => retry({ clock, random: seeded(2), backoff: constant(50) }), {
  concurrent: true,
});
policyLaws(
  it,
  'retry (per-call state: decorrelated jitter within max elapsed)',
  ({ clock }) =>
    retry({ clock, random: seeded(3), maxAttempts: 5, backoff: maxElapsed(decorrelatedJitter({ baseMs: 10 }), 5_000) }),
  { concurrent: true },
);

class NonRetryable extends BulwarkError<'NonRetryable'> {
  readonly retryable = false;
  constructor() {
    super('NonRetryable', 'do not retry');
  }
}

/** What one planned attempt does: how long it takes and how it ends. */
interface Planned {
  readonly latencyMs: number;
  readonly ends: 'ok' | 'error' | 'non-retryable' | 'throttled';
  /** The `retryAfterMs` of a `throttled` error. */
  readonly hintMs: number;
}

const planned: fc.Arbitrary<Planned> = fc.record({
  latencyMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3_000 })),
  ends: fc.constantFrom<Planned['ends']>('ok', 'error', 'error', 'error', 'non-retryable', 'throttled'),
  hintMs: fc.integer({ min: 1, max: 100_000 }),
});

interface Attempt {
  readonly start: number;
  end: number;
  readonly error: unknown;
  readonly planned: Planned;
}

/** Runs one call through a retry over a task following `plan`, recording every attempt and event. */
async function observe(
  options: { maxAttempts: number; backoff: Backoff; maxRetryAfterMs: number; seed: number },
  plan: readonly Planned[],
): Promise<{
  attempts: Attempt[];
  events: RetryEvent[];
  settled: { ok: boolean; value: unknown };
  clock: VirtualClock;
}> {
  const clock = new VirtualClock();
  const policy = retry({ ...options, clock, random: seeded(options.seed) });
  const events: RetryEvent[] = [];
  policy.onEvent((e) => events.push(e));
  const attempts: Attempt[] = [];
  const task = async (ctx: Context): Promise<number> => {
    const p = plan[attempts.length] ?? { latencyMs: 0, ends: 'ok', hintMs: 0 };
    const error =
      p.ends === 'ok'
        ? undefined
        : p.ends === 'non-retryable'
          ? new NonRetryable()
          : p.ends === 'throttled'
            ? Object.assign(new Error('throttled'), { retryAfterMs: p.hintMs })
            : new Error(`attempt ${attempts.length + 1}`);
    const attempt: Attempt = { start: clock.now(), end: Number.NaN, error, planned: p };
    attempts.push(attempt);
    if (p.latencyMs > 0) await clock.sleep(p.latencyMs, ctx.signal);
    attempt.end = clock.now();
    if (error !== undefined) throw error;
    return attempts.length;
  };
  const settled = await clock.run(
    policy.execute(task).then(
      (value) => ({ ok: true, value }),
      (value: unknown) => ({ ok: false, value }),
    ),
  );
  return { attempts, events, settled, clock };
}

const options = fc.record({
  maxAttempts: fc.integer({ min: 1, max: 6 }),
  backoff,
  maxRetryAfterMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60_000 })),
  seed: fc.nat(),
});

describe('retry laws (the runner, on the virtual clock)', () => {
  it('never makes more than maxAttempts attempts, retries until a success or a reason to stop, and ends with the last outcome', async () => {
    await fc.assert(
      fc.asyncProperty(options, fc.array(planned, { maxLength: 8 }), async (o, plan) => {
        const { attempts, events, settled } = await observe(o, plan);
        expect(attempts.length).toBeGreaterThanOrEqual(1);
        expect(attempts.length).toBeLessThanOrEqual(o.maxAttempts);
        const last = attempts.at(-1) as Attempt;
        // The outcome is the last attempt's, unchanged.
        expect(settled).toEqual(
          last.error === undefined ? { ok: true, value: attempts.length } : { ok: false, value: last.error },
        );
        if (last.error !== undefined) expect(settled.value).toBe(last.error);
        // Exactly one ending event, with the number of attempts made.
        const endings = events.filter((e) => e.type !== 'retry');
        expect(endings).toHaveLength(1);
        expect(endings[0]).toMatchObject({ attempts: attempts.length });
        expect(events.filter((e) => e.type === 'retry')).toHaveLength(attempts.length - 1);
        // A non-retryable error is always the last attempt.
        for (const a of attempts.slice(0, -1)) expect(a.error).not.toBeInstanceOf(NonRetryable);
        if (last.error instanceof NonRetryable) expect(endings[0]).toMatchObject({ reason: 'non-retryable' });
      }),
      { numRuns: 300 },
    );
  });

  it('waits exactly the announced delays, each within the schedule’s band or the hint (up to its maximum)', async () => {
    await fc.assert(
      fc.asyncProperty(options, fc.array(planned, { maxLength: 8 }), async (o, plan) => {
        const { attempts, events } = await observe(o, plan);
        const free = unlimited(o.backoff);
        let previousDelayMs = 0;
        events.forEach((event, i) => {
          if (event.type !== 'retry') return;
          const failed = attempts[i] as Attempt;
          const next = attempts[i + 1] as Attempt;
          expect(event.attempt).toBe(i + 1);
          expect(next.start - failed.end).toBeCloseTo(event.delayMs, 6);
          const state = { attempt: i + 1, elapsedMs: 0, previousDelayMs };
          const hint = failed.planned.ends === 'throttled' ? Math.min(failed.planned.hintMs, o.maxRetryAfterMs) : 0;
          const low = Math.max(nextDelay(free, state, lowest), hint);
          const high = Math.min(Math.max(nextDelay(free, state, highest), hint), MAX_TIMER_DELAY_MS);
          expect(event.delayMs).toBeGreaterThanOrEqual(low);
          expect(event.delayMs).toBeLessThanOrEqual(high);
          previousDelayMs = event.delayMs;
        });
      }),
      { numRuns: 300 },
    );
  });

  it('starts no attempt after the schedule’s max elapsed time (instant attempts: the whole call fits in it)', async () => {
    await fc.assert(
      fc.asyncProperty(
        options,
        fc.integer({ min: 0, max: 20_000 }),
        fc.array(planned, { maxLength: 8 }),
        async (o, limit, plan) => {
          const bounded = { ...o, backoff: maxElapsed(o.backoff, limit) };
          const { attempts, events } = await observe(bounded, plan);
          const first = (attempts[0] as Attempt).start;
          for (const a of attempts) expect(a.start - first).toBeLessThanOrEqual(elapsedLimit(bounded.backoff) + 1e-6);
          const instant = await observe(
            bounded,
            plan.map((p) => ({ ...p, latencyMs: 0 })),
          );
          const last = instant.attempts.at(-1) as Attempt;
          expect(last.end - (instant.attempts[0] as Attempt).start).toBeLessThanOrEqual(limit + 1e-6);
          const ending = events.at(-1) as RetryEvent;
          if (ending.type === 'give-up' && ending.reason === 'elapsed') {
            expect(attempts.length).toBeLessThan(o.maxAttempts);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a non-retryable error makes exactly one attempt, whatever the options', async () => {
    await fc.assert(
      fc.asyncProperty(options, planned, async (o, p) => {
        const { attempts, settled } = await observe(o, [{ ...p, ends: 'non-retryable' }]);
        expect(attempts).toHaveLength(1);
        expect(settled.value).toBeInstanceOf(NonRetryable);
      }),
    );
  });

  it('a Retry-After hint sets the wait when longer than the schedule’s delay, up to maxRetryAfterMs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        async (scheduleMs, hintMs, maxRetryAfterMs) => {
          const plan: Planned[] = [{ latencyMs: 0, ends: 'throttled', hintMs }];
          const { attempts } = await observe(
            { maxAttempts: 2, backoff: constant(scheduleMs), maxRetryAfterMs, seed: 0 },
            plan,
          );
          expect((attempts[1] as Attempt).start).toBe(Math.max(scheduleMs, Math.min(hintMs, maxRetryAfterMs)));
        },
      ),
    );
  });

  it('an abort during a backoff wait rejects at once with the reason and leaves no timer', async () => {
    await fc.assert(
      fc.asyncProperty(
        options.filter((o) => o.maxAttempts > 1),
        fc.array(planned, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 30_000 }),
        async (o, plan, abortAt) => {
          const clock = new VirtualClock();
          const policy = retry({ ...o, clock, random: seeded(o.seed) });
          const events: RetryEvent[] = [];
          policy.onEvent((e) => events.push(e));
          const controller = new AbortController();
          let calls = 0;
          const task = async (ctx: Context): Promise<string> => {
            const p = plan[calls++];
            if (p === undefined) return 'ok';
            if (p.latencyMs > 0) await clock.sleep(p.latencyMs, ctx.signal);
            throw new Error('down');
          };
          let settled: { ok: boolean; value: unknown } | undefined;
          void policy.execute(task, controller.signal).then(
            (value) => (settled = { ok: true, value }),
            (value: unknown) => (settled = { ok: false, value }),
          );
          await clock.advance(abortAt);
          if (settled !== undefined) return; // finished before the abort
          const waiting = events.at(-1)?.type === 'retry' && calls === events.length;
          const reason = new Error('caller left');
          controller.abort(reason);
          await settle(); // promise jobs only: no time passes
          expect(settled).toEqual({ ok: false, value: reason });
          expect(clock.pending).toBe(0);
          const ending = events.at(-1) as RetryEvent;
          expect(ending).toMatchObject({ type: 'give-up', reason: 'aborted', attempts: calls });
          if (waiting) expect(ending).toMatchObject({ error: reason });
        },
      ),
      { numRuns: 200 },
    );
  });
});
