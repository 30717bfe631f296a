import { describe, expect, it } from '@jest/globals';
import { invalidOptionValue, VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';

import { constant, retry, retryAllowed, retryBudget, type RetryBudgetOptions, type RetryEvent } from '../src/index.js';
import { expectOptionError } from './support.js';

describe('retryAllowed (the pure decision)', () => {
  it('allows a retry exactly while retries + 1 <= floor + ratio × calls', () => {
    fc.assert(
      fc.property(
        fc.nat(1_000),
        fc.nat(200),
        fc.integer({ min: 0, max: 100 }),
        fc.nat(50),
        (calls, retries, pct, floor) => {
          // Exact arithmetic in hundredths, against the floating-point decision.
          const allowed = (retries + 1) * 100 <= floor * 100 + pct * calls;
          expect(retryAllowed(calls, retries, pct / 100, floor)).toBe(allowed);
        },
      ),
    );
  });
});

type Op = { readonly kind: 'call' } | { readonly kind: 'retry' } | { readonly kind: 'wait'; readonly ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ kind: 'call' as const }),
  fc.constant({ kind: 'retry' as const }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 700 }) }),
);

describe('retryBudget', () => {
  it('matches a model that keeps every event: counts within the bucketed window, withdrawals within the allowance', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 3_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(op, { maxLength: 80 }),
        async (pct, minPerSecond, windowMs, start, ops) => {
          const clock = new VirtualClock(start);
          const ratio = pct / 100;
          const budget = retryBudget({ ratio, minPerSecond, windowMs, clock });
          // The model: every deposit and withdrawal with its time; an event counts while its bucket
          // (floor(t / bucketMs)) is one of the last ten.
          const bucketMs = windowMs / 10;
          const events: { at: number; kind: 'call' | 'retry' }[] = [];
          const inWindow = (kind: 'call' | 'retry'): number => {
            const current = Math.floor(clock.now() / bucketMs);
            return events.filter((e) => e.kind === kind && Math.floor(e.at / bucketMs) > current - 10).length;
          };
          const floor = (minPerSecond * windowMs) / 1000;
          for (const o of ops) {
            if (o.kind === 'wait') await clock.advance(o.ms);
            else if (o.kind === 'call') {
              budget.deposit();
              events.push({ at: clock.now(), kind: 'call' });
            } else {
              const expected = retryAllowed(inWindow('call'), inWindow('retry'), ratio, floor);
              expect(budget.tryWithdraw()).toBe(expected);
              if (expected) events.push({ at: clock.now(), kind: 'retry' });
            }
            expect([budget.calls, budget.retries]).toEqual([inWindow('call'), inWindow('retry')]);
            expect(budget.balance).toBe(
              Math.max(0, Math.floor(floor + ratio * inWindow('call') + 1e-9 - inWindow('retry'))),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('forgets everything after a long quiet spell, in O(1)', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ ratio: 1, minPerSecond: 0, windowMs: 1_000, clock });
    for (let i = 0; i < 5; i++) budget.deposit();
    expect(budget.balance).toBe(5);
    await clock.advance(1e12);
    expect([budget.calls, budget.retries, budget.balance]).toEqual([0, 0, 0]);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('keeps its counts when the clock goes back', () => {
    let now = 50_000;
    const budget = retryBudget({
      ratio: 1,
      minPerSecond: 0,
      clock: { now: () => now, setTimer: () => 0, clearTimer: () => undefined, sleep: async () => undefined },
    });
    budget.deposit();
    now = 10_000;
    expect(budget.calls).toBe(1);
    expect(budget.tryWithdraw()).toBe(true);
  });

  it('is shared: two policies draw on one budget, and a refused retry gives up with reason `budget`', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ ratio: 0.5, minPerSecond: 0, windowMs: 10_000, clock });
    const a = retry({ budget, clock, maxAttempts: 5, backoff: constant(10) });
    const b = retry({ budget, clock, maxAttempts: 5, backoff: constant(10) });
    const events: RetryEvent[] = [];
    a.onEvent((e) => events.push(e));
    b.onEvent((e) => events.push(e));
    let attempts = 0;
    const failing = async (): Promise<never> => {
      attempts++;
      throw new Error('down');
    };
    // Four calls deposit four: half of that is two retries in all, across both policies.
    const calls = [a.execute(failing), b.execute(failing), a.execute(failing), b.execute(failing)];
    const settled = await clock.run(Promise.allSettled(calls));
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    expect(attempts).toBe(4 + 2);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'give-up' && e.reason === 'budget')).toHaveLength(4);
    expect([budget.calls, budget.retries, budget.balance]).toEqual([4, 2, 0]);
  });

  it('rejects invalid options naming them', () => {
    const cases: [keyof RetryBudgetOptions, Parameters<typeof invalidOptionValue>[0]][] = [
      ['ratio', 'ratio'],
      ['minPerSecond', 'non-negative-number'],
      ['windowMs', 'non-negative-number'],
    ];
    for (const [option, kind] of cases) {
      fc.assert(
        fc.property(invalidOptionValue(kind), (value) =>
          expectOptionError(() => retryBudget({ [option]: value }), option),
        ),
      );
    }
    expect(() => retryBudget({ windowMs: 0.5 })).toThrow(/`windowMs` to be a finite number >= 1/);
    expect(() => retryBudget({ clock: {} as never })).toThrow(/`clock.now`/);
  });
});
