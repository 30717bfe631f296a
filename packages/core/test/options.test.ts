import { describe, expect, it } from '@jest/globals';
import { systemClock } from '@bulwark/core';
import { guardedPredicate, optionChecker } from '@bulwark/core/options';
import { invalidOptionValue } from '@bulwark/testkit';
import fc from 'fast-check';

const check = optionChecker('@bulwark/example');

describe('optionChecker', () => {
  it('names the package, the option, the expected form and the value received', () => {
    expect(() => check.integer('maxAttempts', -1, 3, { min: 1 })).toThrow(
      new RangeError('@bulwark/example: expected `maxAttempts` to be an integer >= 1, got -1 (number)'),
    );
    expect(() => check.number('ratio', '0.5', 0.1, { min: 0, max: 1 })).toThrow(
      new TypeError('@bulwark/example: expected `ratio` to be a finite number in [0, 1], got "0.5" (string)'),
    );
    expect(() => check.oneOf('mode', 'fast', 'slow', ['slow', 'safe'])).toThrow(RangeError);
  });

  it('accepts a clock with the methods a policy uses, and names the first one missing', () => {
    const timers = ['now', 'setTimer', 'clearTimer'] as const;
    expect(check.clock('clock', undefined, systemClock, timers)).toBe(systemClock);
    const clock = { now: () => 0, setTimer: () => 1, clearTimer: () => undefined, sleep: async () => undefined };
    expect(check.clock('clock', clock, systemClock, timers)).toBe(clock);
    expect(check.clock('clock', { now: () => 0 }, systemClock, ['now'])).toMatchObject({});
    for (const bad of [0, null, 'now']) {
      expect(() => check.clock('clock', bad, systemClock, timers)).toThrow(
        /^@bulwark\/example: expected `clock` to be a Clock, got /,
      );
    }
    expect(() => check.clock('clock', {}, systemClock, timers)).toThrow(
      new TypeError('@bulwark/example: expected `clock.now` to be a function, got undefined'),
    );
    expect(() => check.clock('clock', { now: () => 0, setTimer: 5 }, systemClock, timers)).toThrow(/`clock.setTimer`/);
    expect(() => check.clock('clock', { now: () => 0, setTimer: () => 1 }, systemClock, timers)).toThrow(
      /`clock.clearTimer`/,
    );
  });

  it('returns the default only for a missing option', () => {
    expect(check.integer('n', undefined, 7)).toBe(7);
    expect(check.boolean('b', false, true)).toBe(false);
    expect(check.func('f', undefined, undefined)).toBeUndefined();
  });

  it('rejects every invalid positive integer with a TypeError or RangeError naming the option', () => {
    fc.assert(
      fc.property(invalidOptionValue('positive-integer'), (value) => {
        try {
          check.integer('limit', value, 1, { min: 1 });
        } catch (error) {
          return (error instanceof TypeError || error instanceof RangeError) && error.message.includes('`limit`');
        }
        return false;
      }),
    );
  });

  it('rejects every invalid ratio', () => {
    fc.assert(
      fc.property(invalidOptionValue('ratio'), (value) => {
        expect(() => check.number('ratio', value, 0.5, { min: 0, max: 1 })).toThrow(/`ratio`/);
      }),
    );
  });

  it('turns an error filter into a predicate: classes by instanceof, or the predicate itself', () => {
    class Transient extends Error {}
    const byClass = check.errorFilter('handle', [Transient, RangeError]);
    expect(byClass?.(new Transient())).toBe(true);
    expect(byClass?.(new RangeError())).toBe(true);
    expect(byClass?.(new Error())).toBe(false);
    const predicate = (error: unknown): boolean => error === 'x';
    expect(check.errorFilter('handle', predicate)).toBe(predicate);
    expect(check.errorFilter('handle', undefined)).toBeUndefined();
    expect(() => check.errorFilter('handle', [])).toThrow(/`handle`/);
    expect(() => check.errorFilter('handle', ['Error'])).toThrow(TypeError);
    expect(() => check.errorFilter('handle', 42)).toThrow(/`handle`.*42 \(number\)/);
  });
});

describe('guardedPredicate', () => {
  it('answers as the predicate does, and when it throws answers the fallback and throws on a later tick', () => {
    const bug = new Error('predicate bug');
    // Thrown from a microtask, where it would surface as an uncaught exception: caught here instead.
    const thrown: unknown[] = [];
    const later: (() => void)[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (job) => void later.push(job);
    try {
      expect(guardedPredicate((value) => value === 1, false)(1)).toBe(true);
      const throwing = guardedPredicate(() => {
        throw bug;
      }, true);
      expect(throwing('anything')).toBe(true);
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(later).toHaveLength(1);
    try {
      (later[0] as () => void)();
    } catch (error) {
      thrown.push(error);
    }
    expect(thrown).toEqual([bug]);
  });
});

describe('check.secret', () => {
  const check = optionChecker('@bulwark/example');
  it('takes a key of visible ASCII, and names a stray character by its kind, never showing the value', () => {
    expect(check.secret('apiKey', 'opa_live_0123!~')).toBe('opa_live_0123!~');
    for (const [value, kind] of [
      ['sk_live_abc\ndef', 'a line break'],
      ['sk_live abc', 'a space'],
      ['sk_live_abc\u0000', 'a control character'],
      ['sk_live_abc\u2013', 'a character outside ASCII'],
    ] as const) {
      expect(() => check.secret('apiKey', value)).toThrow(RangeError);
      expect(() => check.secret('apiKey', value)).toThrow(new RegExp(`\`apiKey\`.*${kind}`));
      expect(() => check.secret('apiKey', value)).not.toThrow(/sk_live/);
    }
    expect(() => check.secret('apiKey', '')).toThrow(TypeError);
    expect(() => check.secret('apiKey', 42)).toThrow(/non-empty string \(value not shown\)/);
  });
});
