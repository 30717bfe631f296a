import { describe, expect, it } from '@jest/globals';
import { MAX_TIMER_DELAY_MS } from '@bulwark/core';
import { invalidOptionValue } from '@bulwark/testkit';
import fc from 'fast-check';

import {
  cap,
  constant,
  decorrelatedJitter,
  equalJitter,
  exponential,
  fromIterable,
  fullJitter,
  jitter,
  linear,
  maxElapsed,
  nextDelay,
  preview,
  retry,
  STOP,
  STOP_ELAPSED,
  upTo,
  type Backoff,
  type BackoffState,
} from '../src/index.js';
import { backoff, highest, lowest, seeded, unlimited } from './support.js';

const at = (attempt: number, previousDelayMs = 0, elapsedMs = 0): BackoffState => ({
  attempt,
  elapsedMs,
  previousDelayMs,
});
const half = { next: () => 0.5 };

describe('the shapes', () => {
  it('constant, linear and exponential follow their formulas', () => {
    expect(preview(constant(250), 3)).toEqual([250, 250, 250]);
    expect(preview(linear({ baseMs: 100, stepMs: 50 }), 4)).toEqual([100, 150, 200, 250]);
    expect(preview(linear({ baseMs: 100, stepMs: 50, capMs: 160 }), 4)).toEqual([100, 150, 160, 160]);
    expect(preview(exponential({ baseMs: 100, factor: 3 }), 4)).toEqual([100, 300, 900, 2_700]);
    expect(preview(exponential({ baseMs: 100, capMs: 500 }), 5)).toEqual([100, 200, 400, 500, 500]);
  });

  it('full, equal and decorrelated jitter draw from their bands (AWS formulas)', () => {
    expect(nextDelay(fullJitter({ baseMs: 100 }), at(3), half)).toBe(200); // 0.5 × 400
    expect(nextDelay(fullJitter({ baseMs: 100 }), at(3), lowest)).toBe(0);
    expect(nextDelay(equalJitter({ baseMs: 100 }), at(3), half)).toBe(300); // 200 + 0.5 × 200
    expect(nextDelay(equalJitter({ baseMs: 100 }), at(3), lowest)).toBe(200);
    // Decorrelated: from [base, previous × 3], capped.
    const d = decorrelatedJitter({ baseMs: 100, capMs: 1_000 });
    expect(nextDelay(d, at(1), lowest)).toBe(100);
    expect(nextDelay(d, at(1), highest)).toBe(300); // no previous delay yet: grows from the base
    expect(nextDelay(d, at(2, 250), half)).toBe(100 + 0.5 * (750 - 100));
    expect(nextDelay(d, at(5, 900), highest)).toBe(1_000);
  });

  it('grows without overflow: a huge power is absorbed by the cap', () => {
    expect(nextDelay(exponential({ baseMs: 1, factor: 4, capMs: 60_000 }), at(5_000), half)).toBe(60_000);
    expect(nextDelay(exponential({ baseMs: 1, capMs: Number.POSITIVE_INFINITY }), at(5_000), half)).toBe(
      MAX_TIMER_DELAY_MS,
    );
  });

  it('caps every delay at MAX_TIMER_DELAY_MS, where Node would fire a longer timer at once', () => {
    expect(nextDelay(constant(1e15), at(1), half)).toBe(MAX_TIMER_DELAY_MS);
    expect(nextDelay(jitter(constant(MAX_TIMER_DELAY_MS), 1), at(1), highest)).toBe(MAX_TIMER_DELAY_MS);
  });

  it('fromIterable gives its delays in order then stops, reading the iterable once', () => {
    let reads = 0;
    function* delays(): Generator<number> {
      reads++;
      yield 10;
      yield 20;
    }
    const schedule = fromIterable(delays());
    expect(preview(schedule, 5)).toEqual([10, 20]);
    expect(preview(schedule, 5)).toEqual([10, 20]);
    expect(reads).toBe(1);
    expect(nextDelay(schedule, at(3), half)).toBe(STOP);
  });

  it('fromIterable refuses an endless iterable instead of hanging', () => {
    function* forever(): Generator<number> {
      for (;;) yield 1;
    }
    expect(() => fromIterable(forever())).toThrow(RangeError);
    expect(() => fromIterable(forever())).toThrow(/at most 10000 delays/);
  });
});

describe('the combinators', () => {
  it('upTo stops after the given attempts, the first one included', () => {
    expect(preview(upTo(constant(1), 1), 5)).toEqual([]);
    expect(preview(upTo(constant(1), 4), 9)).toEqual([1, 1, 1]);
  });

  it('cap bounds every delay', () => {
    expect(preview(cap(exponential({ baseMs: 100 }), 250), 4)).toEqual([100, 200, 250, 250]);
  });

  it('jitter adds a random [0, ratio) of the delay: the oil-price SDK in one line', () => {
    // min(2^n, 60) s + 0–30 % jitter.
    const oilPrice = jitter(exponential({ baseMs: 1_000, capMs: 60_000 }), 0.3);
    expect(preview(oilPrice, 8, lowest)).toEqual([1, 2, 4, 8, 16, 32, 60, 60].map((s) => s * 1_000));
    expect(preview(oilPrice, 8, half)).toEqual([1, 2, 4, 8, 16, 32, 60, 60].map((s) => s * 1_150));
    expect(preview(oilPrice, 8, highest)).toEqual([1, 2, 4, 8, 16, 32, 60, 60].map((s) => s * 1_300));
  });

  it('maxElapsed stops when the next attempt would start past the limit, wherever it sits', () => {
    const inside = jitter(maxElapsed(constant(1_000), 2_500), 1);
    // With every draw at the top, delays are 2 s: the first ends at 2 s, a second would end at 4 s.
    expect(preview(inside, 10, highest)).toEqual([2_000]);
    expect(nextDelay(inside, at(2, 2_000, 2_000), highest)).toBe(STOP_ELAPSED);
    expect(nextDelay(maxElapsed(constant(0), 100), at(1, 0, 101), half)).toBe(STOP_ELAPSED);
    expect(nextDelay(maxElapsed(constant(0), 100), at(1, 0, 100), half)).toBe(0);
  });

  it('are dual: data-first and data-last build the same schedule', () => {
    const base = exponential({ baseMs: 10 });
    expect(upTo(base, 3)).toEqual(upTo(3)(base));
    expect(cap(base, 3)).toEqual(cap(3)(base));
    expect(jitter(base, 0.2)).toEqual(jitter(0.2)(base));
    expect(maxElapsed(base, 300)).toEqual(maxElapsed(300)(base));
  });

  it('check their parameter where it is written, in both styles', () => {
    expect(() => upTo(0)).toThrow(/`attempts` to be an integer >= 1, got 0/);
    expect(() => upTo(constant(1), 0)).toThrow(RangeError);
    expect(() => jitter(1.5)).toThrow(/`ratio` to be a finite number in \[0, 1\], got 1.5/);
    expect(() => cap(-1)).toThrow(/`capMs`/);
    expect(() => maxElapsed(Number.NaN)).toThrow(/`maxElapsedMs`/);
    expect(() => upTo({ kind: 'nope' } as never, 3)).toThrow(/`backoff.kind` to be one of/);
  });
});

describe('schedules are data', () => {
  it('are frozen plain objects that survive JSON', () => {
    const schedule = upTo(cap(jitter(exponential({ baseMs: 1_000 }), 0.3), 60_000), 5);
    expect(Object.isFrozen(schedule)).toBe(true);
    expect(JSON.parse(JSON.stringify(schedule))).toEqual(schedule);
    expect(schedule).toEqual({
      kind: 'up-to',
      attempts: 5,
      backoff: {
        kind: 'cap',
        capMs: 60_000,
        backoff: {
          kind: 'jitter',
          ratio: 0.3,
          backoff: { kind: 'exponential', baseMs: 1_000, factor: 2, capMs: 30_000 },
        },
      },
    });
  });

  it('can be written by hand, defaults filled in and every field checked with its path', () => {
    const fromConfig = { kind: 'cap', capMs: 500, backoff: { kind: 'exponential', baseMs: 100 } };
    expect(retry({ backoff: fromConfig as Backoff }).backoff).toEqual(cap(exponential({ baseMs: 100 }), 500));
    const bad = { kind: 'cap', capMs: 500, backoff: { kind: 'linear', baseMs: -1 } };
    expect(() => retry({ backoff: bad as Backoff })).toThrow(RangeError);
    expect(() => retry({ backoff: bad as Backoff })).toThrow(/`backoff.backoff.baseMs` to be a finite number >= 0/);
    expect(() => retry({ backoff: { kind: 'constant' } as Backoff })).toThrow(/`backoff.delayMs`.*no default/);
    expect(() => retry({ backoff: { kind: 'up-to', attempts: 2 } as Backoff })).toThrow(/`backoff.backoff`/);
  });
});

describe('constructor options', () => {
  const growingShapes = [exponential, fullJitter, equalJitter, decorrelatedJitter];

  it('reject invalid delays naming the option', () => {
    fc.assert(
      fc.property(invalidOptionValue('non-negative-number'), fc.constantFrom(...growingShapes), (value, make) => {
        expect(() => make({ baseMs: value as number })).toThrow(/`baseMs`/);
        expect(() => linear({ stepMs: value as number })).toThrow(/`stepMs`/);
        expect(() => constant(value as number)).toThrow(/`delayMs`/);
      }),
    );
  });

  it('reject a factor below 1 and a cap below the base', () => {
    expect(() => exponential({ factor: 0.5 })).toThrow(/`factor` to be a finite number >= 1, got 0.5/);
    expect(() => fullJitter({ baseMs: 200, capMs: 100 })).toThrow(/`capMs` to be a number >= 200, got 100/);
    // The default cap follows a larger base instead of refusing it.
    expect(exponential({ baseMs: 60_000 }).capMs).toBe(60_000);
  });

  it('reject a non-iterable or a bad delay in fromIterable', () => {
    expect(() => fromIterable(5 as never)).toThrow(TypeError);
    expect(() => fromIterable([1, -1])).toThrow(/`delaysMs\[1\]`/);
  });
});

describe('laws of nextDelay, over generated schedules', () => {
  const state = fc.record({
    attempt: fc.integer({ min: 1, max: 12 }),
    elapsedMs: fc.integer({ min: 0, max: 40_000 }),
    previousDelayMs: fc.integer({ min: 0, max: 40_000 }),
  });

  it('is a delay in [0, MAX_TIMER_DELAY_MS] or a stop, and pure: the same draws give the same answer', () => {
    fc.assert(
      fc.property(backoff, state, fc.nat(), (b, s, seed) => {
        const delay = nextDelay(b, s, seeded(seed));
        expect(delay === STOP || delay === STOP_ELAPSED || (delay >= 0 && delay <= MAX_TIMER_DELAY_MS)).toBe(true);
        expect(nextDelay(b, s, seeded(seed))).toBe(delay);
      }),
    );
  });

  it('lies in the band between the lowest and the highest draws (jitter inside its band, caps respected)', () => {
    fc.assert(
      fc.property(backoff, state, fc.nat(), (b, s, seed) => {
        const free = unlimited(b);
        const delay = nextDelay(free, s, seeded(seed));
        const low = nextDelay(free, s, lowest);
        const high = nextDelay(free, s, highest);
        if (delay < 0) {
          expect(low).toBe(delay);
          return;
        }
        expect(delay).toBeGreaterThanOrEqual(low);
        expect(delay).toBeLessThanOrEqual(high);
      }),
    );
  });

  it('respects every cap in the tree when nothing outside it adds jitter', () => {
    fc.assert(
      fc.property(backoff, fc.integer({ min: 0, max: 10_000 }), state, fc.nat(), (b, c, s, seed) => {
        const delay = nextDelay(cap(b, c), s, seeded(seed));
        expect(delay).toBeLessThanOrEqual(c);
      }),
    );
  });

  it('never lets an attempt start after maxElapsed, and upTo(n) stops at attempt n', () => {
    fc.assert(
      fc.property(backoff, fc.integer({ min: 0, max: 20_000 }), state, fc.nat(), (b, limit, s, seed) => {
        const delay = nextDelay(jitter(maxElapsed(b, limit), 1), s, seeded(seed));
        if (delay >= 0) expect(s.elapsedMs + delay).toBeLessThanOrEqual(limit);
        if (s.attempt >= 3) expect(nextDelay(upTo(b, 3), s, seeded(seed))).toBe(STOP);
      }),
    );
  });
});
