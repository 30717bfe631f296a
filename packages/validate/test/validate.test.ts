import { describe, expect, it } from '@jest/globals';
import { definePolicy, PASS, pipeline, type Outcome } from '@bulwark/core';
import { VirtualClock } from '@bulwark/testkit';
import * as t from 'io-ts';
import Keyv from 'keyv';

import {
  DataQualityError,
  isDataQualityError,
  isInvalidResult,
  isValidationError,
  maxChange,
  predicate,
  range,
  validate,
  ValidationError,
  type LastGood,
  type Rule,
  type ValidateEvent,
} from '../src/index.js';

import { NumberFromString } from './codecs.js';

const Quote = t.type({ code: t.string, price: t.number });
type Quote = t.TypeOf<typeof Quote>;

const sane = range<Quote>({ value: (q) => q.price, key: (q) => q.code, min: 0, max: 500 });
const spikes = (store?: Keyv<LastGood>): Rule<Quote> =>
  maxChange<Quote>({ value: (q) => q.price, key: (q) => q.code, maxRatio: 0.2, ...(store ? { store } : {}) });

/** A gate that records the outcomes it sees on the way out, as a retry or breaker outside would. */
function observer(): { seen: Outcome[]; policy: ReturnType<typeof definePolicy> } {
  const seen: Outcome[] = [];
  const policy = definePolicy('observer', [
    {
      gate: {
        enter: () => undefined,
        exit: (_token, outcome) => {
          seen.push({ ok: outcome.ok, value: outcome.value });
          return PASS;
        },
      },
    },
  ]);
  return { seen, policy };
}

describe.each([
  ['as a gate (memory store)', (): Rule<Quote> => spikes()],
  ['as a decorator (Keyv store)', (): Rule<Quote> => spikes(new Keyv<LastGood>())],
])('validate %s', (_mode, makeSpikes) => {
  it('resolves the decoded value, as the codec decoded it', async () => {
    const policy = validate(t.type({ code: t.string, price: NumberFromString }), { rules: [] });
    await expect(policy.executeDecoded(async () => ({ code: 'A', price: '72.5' }))).resolves.toEqual({
      code: 'A',
      price: 72.5,
    });
    const quotes = validate(Quote, { rules: [sane, makeSpikes()] });
    const produced = { code: 'BRENT_CRUDE_USD', price: 72.5 };
    await expect(quotes.execute(async () => produced)).resolves.toBe(produced);
  });

  it('rejects a result that does not decode with a ValidationError holding the tree', async () => {
    const quotes = validate(Quote, { rules: [sane, makeSpikes()], name: 'quotes' });
    const error = await quotes.execute(async () => ({ code: 'A', price: '72.5' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    if (!isValidationError(error)) throw error;
    expect(error._tag).toBe('Validation');
    expect(error.retryable).toBe(false);
    expect(error.policy).toBe('quotes');
    expect(error.tree.children.map((c) => c.path)).toEqual(['$.price']);
    expect(error.message).toBe(
      '@bulwark/validate: the result is not a valid { code: string, price: number } (1 problem): $.price: expected number, got "72.5" (string)',
    );
  });

  it('rejects a decoded result that breaks rules with a DataQualityError naming each broken rule, in order', async () => {
    const quotes = validate(Quote, {
      rules: [
        sane,
        predicate<Quote>({ name: 'known-code', test: (q) => q.code.endsWith('_USD'), value: (q) => q.code }),
        makeSpikes(),
      ],
    });
    const error = await quotes.execute(async () => ({ code: 'X', price: 9999 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataQualityError);
    if (!isDataQualityError(error)) throw error;
    expect(error.retryable).toBe(false);
    expect([error.rule, error.key, error.value, error.bound]).toEqual(['range', 'X', 9999, { min: 0, max: 500 }]);
    expect(error.violations.map((v) => v.rule)).toEqual(['range', 'known-code']);
    expect(error.message).toBe('@bulwark/validate: rule "range" rejected 9999 for "X": outside [0, 500] (and 1 more)');
  });

  it('remembers only values that passed every rule', async () => {
    const quotes = validate(Quote, { rules: [sane, makeSpikes()] });
    await quotes.execute(async () => ({ code: 'WTI_USD', price: 70 }));
    // 400 is a spike and 600 is out of range: neither becomes the last good value.
    await expect(quotes.execute(async () => ({ code: 'WTI_USD', price: 400 }))).rejects.toMatchObject({
      rule: 'max-change',
    });
    await expect(quotes.execute(async () => ({ code: 'WTI_USD', price: 600 }))).rejects.toMatchObject({
      rule: 'range',
    });
    await expect(quotes.execute(async () => ({ code: 'WTI_USD', price: 80 }))).resolves.toEqual({
      code: 'WTI_USD',
      price: 80,
    });
    await expect(quotes.execute(async () => ({ code: 'WTI_USD', price: 97 }))).rejects.toMatchObject({
      bound: { previous: 80, maxRatio: 0.2 },
    });
  });

  it("passes the task's own errors through untouched, judging nothing", async () => {
    const quotes = validate(Quote, { rules: [sane, makeSpikes()] });
    const events: ValidateEvent[] = [];
    quotes.onEvent((e) => events.push(e));
    const failure = new Error('socket hang up');
    await expect(quotes.execute(async () => Promise.reject(failure))).rejects.toBe(failure);
    expect(events).toEqual([]);
  });

  it('emits invalid and quality-violation events with the call context', async () => {
    const quotes = validate(Quote, { rules: [sane, makeSpikes()], name: 'quotes' });
    const events: ValidateEvent[] = [];
    const stop = quotes.onEvent((e) => events.push(e));
    await quotes.execute(async () => ({ code: 'A', price: true }), { correlationId: 'req-1' }).catch(() => undefined);
    await quotes.execute(async () => ({ code: 'A', price: -1 }), { correlationId: 'req-2' }).catch(() => undefined);
    stop();
    await quotes.execute(async () => ({ code: 'A', price: -1 })).catch(() => undefined);
    expect(events.map((e) => [e.type, e.policy, e.context?.correlationId])).toEqual([
      ['invalid', 'quotes', 'req-1'],
      ['quality-violation', 'quotes', 'req-2'],
    ]);
    const [invalid, violation] = events;
    expect(invalid?.type === 'invalid' && invalid.failure.count).toBe(1);
    expect(violation).toMatchObject({ rule: 'range', key: 'A', value: -1, bound: { min: 0, max: 500 } });
  });

  it('shows its verdict to the policies outside it, which see a non-retryable error', async () => {
    const outside = observer();
    const quotes = validate(Quote, { rules: [sane, makeSpikes()] });
    const both = pipeline(outside.policy, quotes);
    await expect(both.execute(async () => ({ code: 'A', price: 'x' }))).rejects.toThrow(ValidationError);
    await expect(both.execute(async () => ({ code: 'A', price: 1000 }))).rejects.toThrow(DataQualityError);
    await both.execute(async () => ({ code: 'A', price: 1 }));
    expect(outside.seen.map((o) => [o.ok, isInvalidResult(o.value)])).toEqual([
      [false, true],
      [false, true],
      [true, false],
    ]);
  });

  it('fails the call with what a rule threw, and still lets the policies outside it see the outcome', async () => {
    const outside = observer();
    const bug = new TypeError('a bug in a rule');
    const buggy = predicate<Quote>({
      name: 'buggy',
      test: () => {
        throw bug;
      },
    });
    const both = pipeline(outside.policy, validate(Quote, { rules: [buggy, makeSpikes()] }));
    await expect(both.execute(async () => ({ code: 'A', price: 1 }))).rejects.toBe(bug);
    expect(outside.seen).toEqual([{ ok: false, value: bug }]);
  });
});

describe('validate', () => {
  it('is a gate when every rule is synchronous, a decorator otherwise', () => {
    expect(validate(Quote).isGate).toBe(true);
    expect(validate(Quote, { rules: [sane, spikes()] }).isGate).toBe(true);
    expect(validate(Quote, { rules: [sane, spikes(new Keyv<LastGood>())] }).isGate).toBe(false);
    expect(validate(Quote).layers[0]?.gate).toBeDefined();
  });

  it('types the decoded forms with the codec', async () => {
    const quotes = validate(Quote);
    const fetchQuote = quotes.wrapDecoded(async (code: string): Promise<unknown> => ({ code, price: 1 }));
    const quote: Quote = await fetchQuote('A');
    expect(quote).toEqual({ code: 'A', price: 1 });
    const task = quotes.decorateDecoded(async () => ({ code: 'B', price: 2 }));
    await expect(task({ signal: new AbortController().signal, attempt: 1, correlationId: 'x' })).resolves.toEqual({
      code: 'B',
      price: 2,
    });
  });

  it('judges freshness on the injected clock', async () => {
    const { freshness } = await import('../src/index.js');
    const clock = new VirtualClock(Date.parse('2026-01-15T12:00:00Z'));
    const Stamped = t.type({ created_at: t.string });
    const recent = validate(Stamped, {
      clock,
      rules: [freshness<t.TypeOf<typeof Stamped>>({ at: (s) => s.created_at, maxAgeMs: 60_000 })],
    });
    const stamped = { created_at: '2026-01-15T11:59:30Z' };
    await expect(recent.execute(async () => stamped)).resolves.toBe(stamped);
    await clock.advance(30_001);
    await expect(recent.execute(async () => stamped)).rejects.toMatchObject({
      rule: 'freshness',
      reason: 'is 1 min old, at most 1 min',
    });
  });

  it('keeps error messages short whatever the payload', async () => {
    const huge = { code: 'x'.repeat(1_000_000), price: Array.from({ length: 100_000 }, () => 'y'.repeat(100)) };
    const error = await validate(Quote)
      .execute(async () => huge)
      .catch((e: unknown) => e);
    expect(isValidationError(error) && error.message.length).toBeLessThan(400);
    const rangeError = await validate(t.unknown, {
      rules: [range<unknown>({ value: () => Number.NaN, key: () => 'k'.repeat(10_000) })],
    })
      .execute(async () => huge)
      .catch((e: unknown) => e);
    expect(isDataQualityError(rangeError) && rangeError.message.length).toBeLessThan(200);
  });

  it('rejects bad configuration at construction, naming the option', () => {
    expect(() => validate(Quote, { rules: [sane, range<Quote>({ value: (q) => q.price })] })).toThrow(
      new RangeError(
        '@bulwark/validate: expected `rules` to have distinct names, got "range" twice (give one a `name`)',
      ),
    );
    expect(() => validate(Quote, { rules: sane as never })).toThrow(
      new TypeError('@bulwark/validate: expected `rules` to be an array of rules'),
    );
    expect(() => validate(Quote, { rules: [{} as never] })).toThrow(/expected `rules\[0\]` to be a rule/);
    expect(() => validate('Quote' as never)).toThrow(/expected `codec` to be an io-ts codec, got "Quote"/);
    expect(() => validate(Quote, { clock: {} as never })).toThrow(/expected `clock` to be a Clock/);
    expect(() => validate(Quote, { maxDepth: -1 })).toThrow(/`maxDepth`/);
    expect(() => validate(Quote, { name: 5 as never })).toThrow(/expected `name` to be a string, got 5/);
  });
});

describe('validate: rules that break their contract', () => {
  it('fails the call with a TypeError when a rule marked synchronous returns a promise', async () => {
    const liar: Rule<Quote> = { name: 'liar', synchronous: true, check: () => Promise.reject(new Error('late')) };
    const quotes = validate(Quote, { rules: [liar] });
    expect(quotes.isGate).toBe(true);
    await expect(quotes.execute(async () => ({ code: 'A', price: 1 }))).rejects.toThrow(
      new TypeError('@bulwark/validate: rule "liar" says it is synchronous but returned a promise'),
    );
  });
});
