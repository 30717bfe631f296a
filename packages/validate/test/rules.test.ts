import { describe, expect, it } from '@jest/globals';
import { VirtualClock } from '@bulwark/testkit';

import Keyv from 'keyv';

import {
  DataQualityError,
  each,
  freshness,
  judge,
  maxChange,
  memoryStore,
  predicate,
  range,
  type LastGood,
  type Rule,
  type RuleEnvironment,
  type Verdict,
  type Violation,
} from '../src/index.js';

type Quote = { readonly code: string; readonly price: number; readonly created_at?: string };

const JAN_15 = Date.parse('2026-01-15T12:00:00.000Z');
const DAY = 86_400_000;

function environment(clock = new VirtualClock(JAN_15)): RuleEnvironment & { storeErrors: unknown[] } {
  const storeErrors: unknown[] = [];
  return { clock, storeErrors, storeError: (_rule, error) => void storeErrors.push(error) };
}

/** Checks synchronously: these rules never return a promise. */
const now = <A>(rule: Rule<A>, value: A, env: RuleEnvironment): Verdict => {
  const verdict = rule.check(value, env);
  if (verdict !== undefined && 'then' in verdict) throw new Error(`${rule.name} returned a promise`);
  return verdict;
};

describe('range', () => {
  const sane = range<Quote>({
    value: (q) => q.price,
    key: (q) => q.code,
    min: 0,
    max: 1000,
    perKey: { BRENT_CRUDE_USD: { min: 10, max: 300 }, NATURAL_GAS_USD: { max: 50 } },
  });
  const env = environment();

  it('uses the bounds of the key, filling what an entry leaves out from the top level', () => {
    expect(now(sane, { code: 'BRENT_CRUDE_USD', price: 72.5 }, env)).toBeUndefined();
    expect(now(sane, { code: 'BRENT_CRUDE_USD', price: 5 }, env)).toEqual({
      rule: 'range',
      key: 'BRENT_CRUDE_USD',
      value: 5,
      bound: { min: 10, max: 300 },
      reason: 'outside [10, 300]',
    });
    expect(now(sane, { code: 'NATURAL_GAS_USD', price: -1 }, env)?.bound).toEqual({ min: 0, max: 50 });
    expect(now(sane, { code: 'GOLD_USD', price: 2400 }, env)?.bound).toEqual({ min: 0, max: 1000 });
  });

  it('rejects NaN and non-numbers', () => {
    expect(now(sane, { code: 'X', price: Number.NaN }, env)?.reason).toBe('outside [0, 1000]');
    expect(now(sane, { code: 'X', price: '5' as unknown as number }, env)?.reason).toBe('not a number in [0, 1000]');
  });

  it('looks keys up as own keys only: data keys like constructor or __proto__ find no bounds by accident', () => {
    for (const code of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(now(sane, { code, price: 500 }, env)).toBeUndefined();
      expect(now(sane, { code, price: 5000 }, env)?.bound).toEqual({ min: 0, max: 1000 });
    }
    const withConstructor = range<Quote>({
      value: (q) => q.price,
      key: (q) => q.code,
      perKey: { constructor: { max: 1 } },
    });
    expect(now(withConstructor, { code: 'constructor', price: 2 }, env)?.bound).toEqual({ min: -Infinity, max: 1 });
  });

  it('accepts per-key bounds as a Map', () => {
    const byMap = range<Quote>({ value: (q) => q.price, key: (q) => q.code, perKey: new Map([['A', { max: 1 }]]) });
    expect(now(byMap, { code: 'A', price: 2 }, env)?.reason).toBe('outside [-Infinity, 1]');
  });

  it('rejects bad options at construction, naming them', () => {
    expect(() => range<Quote>({ value: (q) => q.price, min: 5, max: 1 })).toThrow(
      new RangeError('@bulwark/validate: expected `max` to be >= min (5), got 1 (number)'),
    );
    expect(() =>
      range<Quote>({ value: (q) => q.price, key: (q) => q.code, perKey: { A: { min: Number.NaN } } }),
    ).toThrow(/expected `perKey.A.min` to be a number, got NaN/);
    expect(() => range<Quote>({ value: (q) => q.price, perKey: { A: { max: 1 } } })).toThrow(
      /`key` to be a function when `perKey` is given/,
    );
    expect(() => range({} as never)).toThrow(/expected `value` to be a function \(it is required\)/);
    // No options at all: the required option is named, never a crash reading it.
    for (const rule of [range, maxChange, freshness, predicate] as unknown as (() => unknown)[]) {
      expect(() => rule()).toThrow(/expected `(value|at|name)` to be a/);
    }
    expect(() => range<Quote>({ value: (q) => q.price, perKey: [] as never })).toThrow(TypeError);
  });
});

describe('maxChange', () => {
  const spikes = (options: Partial<Parameters<typeof maxChange<Quote>>[0]> = {}): Rule<Quote> =>
    maxChange<Quote>({ value: (q) => q.price, key: (q) => q.code, maxRatio: 0.2, ...options });

  it('lets the first value of a key pass, then judges each value against the last accepted one', () => {
    const env = environment();
    const rule = spikes();
    expect(rule.synchronous).toBe(true);
    expect(now(rule, { code: 'WTI_USD', price: 70 }, env)).toBeUndefined();
    void rule.accept?.({ code: 'WTI_USD', price: 70 }, env);
    expect(now(rule, { code: 'WTI_USD', price: 84 }, env)).toBeUndefined();
    expect(now(rule, { code: 'WTI_USD', price: 84.01 }, env)).toEqual({
      rule: 'max-change',
      key: 'WTI_USD',
      value: 84.01,
      bound: { previous: 70, maxRatio: 0.2 },
      reason: 'changed by +14.01 (+20.01%) from 70, at most 20%',
    });
    expect(now(rule, { code: 'WTI_USD', price: 50 }, env)?.reason).toBe(
      'changed by -20 (-28.57%) from 70, at most 20%',
    );
    // Another key has its own history.
    expect(now(rule, { code: 'BRENT_CRUDE_USD', price: 500 }, env)).toBeUndefined();
  });

  it('allows the larger of maxRatio and maxDelta when both are given', () => {
    const env = environment();
    const rule = spikes({ maxRatio: 0.1, maxDelta: 2 });
    void rule.accept?.({ code: 'A', price: 1 }, env);
    expect(now(rule, { code: 'A', price: 3 }, env)).toBeUndefined(); // +200 %, but within 2
    expect(now(rule, { code: 'A', price: 3.5 }, env)?.bound).toEqual({ previous: 1, maxRatio: 0.1, maxDelta: 2 });
    void rule.accept?.({ code: 'A', price: 100 }, env);
    expect(now(rule, { code: 'A', price: 109 }, env)).toBeUndefined(); // within 10 %
  });

  it('rejects values that are not finite numbers', () => {
    const env = environment();
    expect(now(spikes(), { code: 'A', price: Number.POSITIVE_INFINITY }, env)?.reason).toBe('not a finite number');
  });

  it('forgets a last good value older than rememberMs, so a genuine jump is not rejected forever', async () => {
    const clock = new VirtualClock(JAN_15);
    const env = environment(clock);
    const rule = spikes({ rememberMs: DAY });
    void rule.accept?.({ code: 'A', price: 70 }, env);
    expect(now(rule, { code: 'A', price: 20 }, env)).toBeDefined();
    await clock.advance(DAY);
    expect(now(rule, { code: 'A', price: 20 }, env)).toBeDefined();
    await clock.advance(1);
    expect(now(rule, { code: 'A', price: 20 }, env)).toBeUndefined();
  });

  it('judges per-key limits, and with no top-level limit leaves other keys alone', () => {
    const env = environment();
    const rule = maxChange<Quote>({ value: (q) => q.price, key: (q) => q.code, perKey: { GAS: { maxDelta: 1 } } });
    for (const quote of [
      { code: 'GAS', price: 3 },
      { code: 'OIL', price: 70 },
    ])
      void rule.accept?.(quote, env);
    expect(now(rule, { code: 'GAS', price: 4.5 }, env)?.bound).toEqual({ previous: 3, maxDelta: 1 });
    expect(now(rule, { code: 'OIL', price: 700 }, env)).toBeUndefined();
  });

  it('keeps at most maxEntries histories in the default kind of store', () => {
    const env = environment();
    const store = memoryStore<LastGood>({ maxEntries: 2 });
    const rule = spikes({ store });
    for (const code of ['A', 'B', 'C']) void rule.accept?.({ code, price: 1 }, env);
    expect(store.size).toBe(2);
    expect(now(rule, { code: 'A', price: 100 }, env)).toBeUndefined(); // A was evicted
    expect(now(rule, { code: 'C', price: 100 }, env)).toBeDefined();
  });

  it('in its own store, keeps the history of a key accepted again and again past 10,000 other keys', () => {
    const env = environment();
    const rule = spikes();
    void rule.accept?.({ code: 'HOT', price: 100 }, env);
    for (let i = 0; i < 10_000; i++) {
      void rule.accept?.({ code: 'HOT', price: 100 }, env);
      void rule.accept?.({ code: `K${i}`, price: 1 }, env);
    }
    // Accepted a moment ago: its history is the newest, not the one evicted; a 10x spike is caught.
    expect(now(rule, { code: 'HOT', price: 1000 }, env)?.bound).toEqual({ previous: 100, maxRatio: 0.2 });
  });

  it('reports a store that throws or holds garbage, and passes (or rejects, if asked)', () => {
    const env = environment();
    const broken = {
      synchronous: true,
      get: () => {
        throw new Error('down');
      },
      set: () => {
        throw new Error('down');
      },
    };
    const passing = spikes({ store: broken });
    expect(now(passing, { code: 'A', price: 1 }, env)).toBeUndefined();
    void passing.accept?.({ code: 'A', price: 1 }, env);
    expect(env.storeErrors).toEqual([new Error('down'), new Error('down')]);
    const strict = spikes({ store: broken, onStoreError: 'reject' });
    expect(now(strict, { code: 'A', price: 1 }, env)).toMatchObject({
      rule: 'max-change',
      reason: 'the last good value could not be read',
      bound: { maxRatio: 0.2 },
    });
    const garbage = memoryStore<LastGood>();
    garbage.set('max-change:A', { value: 'x' } as unknown as LastGood);
    expect(now(spikes({ store: garbage }), { code: 'A', price: 1 }, env)).toBeUndefined();
    expect(String(env.storeErrors.at(-1))).toMatch(/held something else than \{ value, at \}/);
  });

  it('rejects bad options at construction, naming them', () => {
    expect(() => maxChange<Quote>({ value: (q) => q.price })).toThrow(
      /expected `maxRatio` to be given \(or `maxDelta`\)/,
    );
    expect(() => spikes({ maxRatio: -0.1 })).toThrow(/expected `maxRatio` to be a finite number >= 0, got -0.1/);
    expect(() => spikes({ store: {} as never })).toThrow(/expected `store` to be a store with get and set/);
    expect(() => spikes({ storeTimeoutMs: 0 })).toThrow(/`storeTimeoutMs`/);
    expect(() => spikes({ onStoreError: 'ignore' as never })).toThrow(
      /expected `onStoreError` to be one of "pass", "reject"/,
    );
  });
});

describe('freshness', () => {
  const recent = freshness<Quote>({ at: (q) => q.created_at ?? '', maxAgeMs: 7 * DAY, key: (q) => q.code });
  const at = (iso: string): Quote => ({ code: 'WTI_USD', price: 1, created_at: iso });

  it('judges the age on the injected clock', async () => {
    const clock = new VirtualClock(JAN_15);
    const env = environment(clock);
    expect(now(recent, at('2026-01-08T12:00:00.000Z'), env)).toBeUndefined();
    await clock.advance(1);
    expect(now(recent, at('2026-01-08T12:00:00.000Z'), env)).toEqual({
      rule: 'freshness',
      key: 'WTI_USD',
      value: '2026-01-08T12:00:00.000Z',
      bound: { maxAgeMs: 7 * DAY, maxFutureMs: 60_000 },
      reason: 'is 7 days old, at most 7 days',
    });
  });

  it('rejects timestamps from the future beyond maxFutureMs, and non-timestamps', () => {
    const env = environment();
    expect(now(recent, at('2026-01-15T12:01:00.000Z'), env)).toBeUndefined();
    expect(now(recent, at('2026-01-15T12:05:00.000Z'), env)?.reason).toBe('is 5 min in the future, at most 1 min');
    expect(now(recent, at('yesterday'), env)?.reason).toBe('not a valid timestamp');
    const numeric = freshness<{ t: number | Date }>({ at: (v) => v.t, maxAgeMs: 1000 });
    expect(now(numeric, { t: JAN_15 - 1000 }, env)).toBeUndefined();
    expect(now(numeric, { t: new Date(JAN_15 - 1001) }, env)?.reason).toBe('is 1 s old, at most 1 s');
  });

  it('gives the same verdict in every time zone: a time without a zone is rejected, not read in the host’s', () => {
    const env = environment();
    const zone = process.env['TZ'];
    try {
      for (const tz of ['UTC', 'America/Los_Angeles', 'Asia/Tokyo']) {
        process.env['TZ'] = tz;
        expect(now(recent, at('2026-01-15T12:00:00'), env)?.reason).toBe('a time without a zone (Z or an offset)');
        expect(now(recent, at('2026-01-15 04:00'), env)?.reason).toBe('a time without a zone (Z or an offset)');
        expect(now(recent, at('2026-01-15T04:00:00-08:00'), env)).toBeUndefined();
        expect(now(recent, at('2026-01-15T21:00:00+0900'), env)).toBeUndefined();
        // RFC 3339's other spellings: a space for the T, lower case, any number of fraction digits.
        expect(now(recent, at('2026-01-15 12:00:00Z'), env)).toBeUndefined();
        expect(now(recent, at('2026-01-15t12:00:00z'), env)).toBeUndefined();
        expect(now(recent, at('2026-01-15 12:00:00.123456+00:00'), env)).toBeUndefined();
        expect(now(recent, at('2026-01-08'), env)?.reason).toBe('is 7.5 days old, at most 7 days');
        // Loose forms Date.parse would take are not ISO 8601.
        expect(now(recent, at('Jan 15 2026 12:00 GMT'), env)?.reason).toBe('not a valid timestamp');
      }
    } finally {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
    }
  });

  it('rejects bad options at construction', () => {
    expect(() => freshness<Quote>({ at: (q: Quote) => q.price } as never)).toThrow(
      /expected `maxAgeMs` to be a number of milliseconds/,
    );
    expect(() => freshness<Quote>({ at: (q) => q.price, maxAgeMs: -1 })).toThrow(RangeError);
  });
});

describe('predicate and each', () => {
  it('names the value, key and bound a custom predicate was given', () => {
    const env = environment();
    const positive = predicate<Quote>({
      name: 'positive',
      test: (q) => q.price > 0,
      value: (q) => q.price,
      key: (q) => q.code,
      bound: '> 0',
    });
    expect(now(positive, { code: 'A', price: 1 }, env)).toBeUndefined();
    expect(now(positive, { code: 'A', price: 0 }, env)).toEqual({
      rule: 'positive',
      key: 'A',
      value: 0,
      bound: '> 0',
      reason: 'failed positive',
    });
    expect(() => predicate<Quote>({ test: () => true } as never)).toThrow(
      /expected `name` to be a string \(it is required\)/,
    );
  });

  it('applies a rule to every item, naming the first rejected one, and accepts items in order', () => {
    const env = environment();
    const store = memoryStore<LastGood>();
    const rows = each<{ prices: Quote[] }, Quote>(
      (h) => h.prices,
      maxChange({ value: (q) => q.price, key: (q) => q.code, maxRatio: 0.5, store }),
      { name: 'rows' },
    );
    const history = {
      prices: [
        { code: 'A', price: 10 },
        { code: 'A', price: 12 },
      ],
    };
    expect(now(rows, history, env)).toBeUndefined();
    void rows.accept?.(history, env);
    expect(store.get('max-change:A')?.value).toBe(12);
    const verdict = now(
      rows,
      {
        prices: [
          { code: 'A', price: 13 },
          { code: 'A', price: 30 },
        ],
      },
      env,
    ) as Violation;
    expect(verdict.rule).toBe('rows');
    expect(verdict.reason).toBe('item 1: changed by +18 (+150%) from 12, at most 50%');
  });

  it('each fails the call naming `items` when the selector returns no list', () => {
    const rows = each<{ prices?: Quote[] }, Quote>((h) => h.prices as Quote[], range({ value: (q) => q.price }));
    expect(() => rows.check({}, environment())).toThrow(
      new TypeError('@bulwark/validate: expected `items` to return an array, got undefined'),
    );
  });
});

describe('judge (fp-ts)', () => {
  it('is Right with the same value when every rule passes, Left with a DataQualityError otherwise', async () => {
    const clock = new VirtualClock(JAN_15);
    const storeErrors: string[] = [];
    const failing = { get: () => Promise.reject(new Error('down')), set: () => Promise.resolve(true) };
    const check = judge<Quote>([sane(), maxChange<Quote>({ value: (q) => q.price, maxRatio: 0.1, store: failing })], {
      clock,
      onStoreError: (rule) => void storeErrors.push(rule),
    });
    const quote = { code: 'A', price: 1 };
    const right = await check(quote)();
    expect(right._tag === 'Right' && right.right).toBe(quote);
    expect(storeErrors).toEqual(['max-change']);
    const left = await check({ code: 'A', price: -1 })();
    expect(left._tag === 'Left' && left.left).toBeInstanceOf(DataQualityError);
    expect(left._tag === 'Left' && left.left.policy).toBe('judge');
  });

  it('each waits for an asynchronous rule item by item', async () => {
    const keyv = new Keyv<LastGood>();
    const rows = each<{ prices: Quote[] }, Quote>(
      (h) => h.prices,
      maxChange({ value: (q) => q.price, key: (q) => q.code, maxRatio: 0.5, store: keyv }),
    );
    expect(rows.synchronous).toBe(false);
    const check = judge([rows]);
    expect(
      (
        await check({
          prices: [
            { code: 'A', price: 10 },
            { code: 'A', price: 14 },
          ],
        })()
      )._tag,
    ).toBe('Right');
    expect(await keyv.get('max-change:A')).toMatchObject({ value: 14 });
    const left = await check({
      prices: [
        { code: 'A', price: 15 },
        { code: 'A', price: 100 },
      ],
    })();
    expect(left._tag === 'Left' && left.left.reason).toBe('item 1: changed by +86 (+614.3%) from 14, at most 50%');
  });
});

function sane(): Rule<Quote> {
  return range<Quote>({ value: (q) => q.price, min: 0 });
}
