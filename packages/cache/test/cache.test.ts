import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { BulwarkError, pipeline, definePolicy, type Task } from '@bulwark/core';
import { settle, VirtualClock } from '@bulwark/testkit';

import { cache, CacheExpiredError, isCacheExpiredError, type CacheOptions } from '../src/index.js';
import { FlakyAdapter, recorder, scriptedOrigin } from './helpers.js';

class ValidationError extends BulwarkError<'Validation'> {
  readonly retryable = false;
  constructor() {
    super('Validation', 'the price is not a number');
  }
}

const MIN = 60_000;

// Every test checks that nothing rejected into the void: refreshes and abandoned flights included.
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  await settle();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

/** A policy on a virtual clock over the given options, an origin wrapped with it, and its events. */
function setup(options: CacheOptions<[string]> = {}, latencyMs = 0) {
  const clock = new VirtualClock();
  const prices = cache<[string]>({ clock, key: (code) => code, ...options });
  const events = recorder();
  prices.onEvent(events.listener);
  const origin = scriptedOrigin(clock, latencyMs);
  const price = prices.wrapWithContext(origin.fn);
  return { clock, prices, price, origin, events };
}

/** An origin taking 100 ms, wrapped so that its caller passes a signal as the second argument. */
function abortable() {
  const clock = new VirtualClock();
  const prices = cache<[string, AbortSignal?]>({ clock, key: (code) => code });
  const origin = scriptedOrigin(clock, 100);
  const price = prices.wrapWithContext((ctx, code: string, _signal?: AbortSignal) => origin.fn(ctx, code), {
    signal: (_code, signal) => signal,
  });
  return { clock, origin, price };
}

describe('freshness', () => {
  it('answers from the cache while the entry is younger than ttlMs, then asks the origin again', async () => {
    const { clock, price, origin, events } = setup({ ttlMs: 5 * MIN });
    const first = await price('WTI');
    await clock.advance(5 * MIN - 1);
    expect(await price('WTI')).toEqual(first);
    expect(origin.state.calls).toBe(1);
    await clock.advance(1);
    expect(await price('WTI')).toEqual({ code: 'WTI', call: 2, at: 5 * MIN });
    expect(events.of('hit').map((e) => [e.key, e.ageMs, e.source])).toEqual([['WTI', 5 * MIN - 1, 'store']]);
    expect(events.of('miss').map((e) => [e.key, e.coalesced])).toEqual([
      ['WTI', false],
      ['WTI', false],
    ]);
  });

  it('returns a copy from the default store: a caller mutating its result does not change the cache', async () => {
    const { price } = setup();
    const first = (await price('WTI')) as { code: string };
    first.code = 'changed';
    expect(await price('WTI')).toMatchObject({ code: 'WTI' });
  });

  it('keeps entries per key', async () => {
    const { price, origin } = setup();
    expect(await price('WTI')).toMatchObject({ code: 'WTI', call: 1 });
    expect(await price('BRENT')).toMatchObject({ code: 'BRENT', call: 2 });
    expect(await price('WTI')).toMatchObject({ code: 'WTI', call: 1 });
    expect(origin.state.calls).toBe(2);
  });
});

describe('stale-while-revalidate', () => {
  it('serves the stale entry at once and refreshes it with one background call', async () => {
    const { clock, price, origin, events } = setup({ ttlMs: 1000, staleWhileRevalidateMs: 10_000 }, 100);
    await clock.run(price('WTI'));
    await clock.advance(1500);
    // Three calls in the window: all answered at once with the stale entry, one refresh between them.
    const answers = await Promise.all([price('WTI'), price('WTI'), price('WTI')]);
    expect(answers.map((a) => (a as { call: number }).call)).toEqual([1, 1, 1]);
    expect(origin.state.calls).toBe(2);
    expect(events.of('stale').map((e) => [e.reason, e.ageMs])).toEqual([
      ['revalidate', 1500],
      ['revalidate', 1500],
      ['revalidate', 1500],
    ]);
    await clock.advance(100);
    expect(events.of('refresh').map((e) => [e.key, e.ok])).toEqual([['WTI', true]]);
    expect(await price('WTI')).toMatchObject({ call: 2, at: 1700 });
    expect(origin.state.calls).toBe(2);
  });

  it('keeps the stale entry when the refresh fails, reports it, and lets nothing go unhandled', async () => {
    const { clock, price, origin, events } = setup({ ttlMs: 1000, staleWhileRevalidateMs: 10_000 });
    await price('WTI');
    await clock.advance(2000);
    origin.state.failWith = new Error('502');
    expect(await price('WTI')).toMatchObject({ call: 1 });
    await settle();
    expect(events.of('refresh')).toEqual([expect.objectContaining({ ok: false, error: origin.state.failWith })]);
    expect(await price('WTI')).toMatchObject({ call: 1 });
    expect(origin.state.calls).toBe(3);
  });

  it('asks the origin in the foreground once the entry is past the window', async () => {
    const { clock, price, origin } = setup({ ttlMs: 1000, staleWhileRevalidateMs: 1000 });
    await price('WTI');
    await clock.advance(2000);
    expect(await price('WTI')).toMatchObject({ call: 2 });
    expect(origin.state.calls).toBe(2);
  });
});

describe('stale-if-error', () => {
  it('serves an entry up to maxStaleAgeMs old in place of an origin error, then fails with CacheExpiredError', async () => {
    const { clock, price, origin, events } = setup({ ttlMs: 5 * MIN, maxStaleAgeMs: 60 * MIN });
    await price('WTI');
    const outage = new Error('502 Bad Gateway');
    origin.state.failWith = outage;
    await clock.advance(60 * MIN);
    expect(await price('WTI')).toMatchObject({ call: 1, at: 0 });
    expect(events.of('stale')).toEqual([
      expect.objectContaining({ key: 'WTI', reason: 'error', ageMs: 60 * MIN, error: outage }),
    ]);
    await clock.advance(1);
    const error = await price('WTI').catch((e: unknown) => e);
    expect(isCacheExpiredError(error)).toBe(true);
    expect(error).toBeInstanceOf(CacheExpiredError);
    expect(error).toMatchObject({
      _tag: 'CacheExpired',
      name: 'CacheExpired',
      key: 'WTI',
      ageMs: 60 * MIN + 1,
      maxStaleAgeMs: 60 * MIN,
      cause: outage,
      retryable: true,
    });
  });

  it('lets the origin error through untouched when there is no entry', async () => {
    const { price, origin } = setup();
    origin.state.failWith = new Error('502');
    await expect(price('WTI')).rejects.toBe(origin.state.failWith);
  });

  it('never hides a validation failure behind a stale entry (by default)', async () => {
    const { clock, price, origin } = setup({ ttlMs: 1000 });
    await price('WTI');
    await clock.advance(2000);
    origin.state.failWith = new ValidationError();
    await expect(price('WTI')).rejects.toBe(origin.state.failWith);
  });

  it('takes a predicate, or true, or false', async () => {
    const only502 = setup({ ttlMs: 1000, staleIfError: (e) => e instanceof Error && e.message === '502' });
    const off = setup({ ttlMs: 1000, staleIfError: false });
    const all = setup({ ttlMs: 1000, staleIfError: true });
    for (const s of [only502, off, all]) {
      await s.price('WTI');
      await s.clock.advance(2000);
    }
    only502.origin.state.failWith = new Error('502');
    expect(await only502.price('WTI')).toMatchObject({ call: 1 });
    only502.origin.state.failWith = new Error('503');
    await expect(only502.price('WTI')).rejects.toThrow('503');
    off.origin.state.failWith = new Error('502');
    await expect(off.price('WTI')).rejects.toThrow('502');
    all.origin.state.failWith = new ValidationError();
    expect(await all.price('WTI')).toMatchObject({ call: 1 });
  });

  it('with ttlMs 0, always asks the origin and only stands in when it fails', async () => {
    const { price, origin } = setup({ ttlMs: 0 });
    await price('WTI');
    expect(await price('WTI')).toMatchObject({ call: 2 });
    origin.state.failWith = new Error('down');
    expect(await price('WTI')).toMatchObject({ call: 2 });
  });
});

describe('single flight', () => {
  it('makes one origin call for 1,000 concurrent misses of a key, and gives them all its result', async () => {
    const { clock, price, origin, events } = setup({}, 50);
    const all = Promise.all(Array.from({ length: 1000 }, () => price('WTI')));
    const answers = await clock.run(all);
    expect(origin.state.calls).toBe(1);
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    const misses = events.of('miss');
    expect(misses).toHaveLength(1000);
    expect(misses.filter((e) => !e.coalesced)).toHaveLength(1);
  });

  it('shares one store read between concurrent lookups of a key', async () => {
    const adapter = new FlakyAdapter();
    let reads = 0;
    const get = adapter.get.bind(adapter);
    adapter.get = <T>(key: string) => {
      reads++;
      return get<T>(key);
    };
    const { clock, price, origin } = setup({ store: adapter }, 10);
    await clock.run(Promise.all(Array.from({ length: 1000 }, () => price('WTI'))));
    expect(reads).toBe(1);
    await clock.run(Promise.all(Array.from({ length: 1000 }, () => price('WTI'))));
    expect(reads).toBe(2);
    expect(origin.state.calls).toBe(1);
  });

  it('shares the origin error too, and the next miss calls again', async () => {
    const { clock, price, origin } = setup({}, 10);
    origin.state.failWith = new Error('502');
    const outcomes = await clock.run(Promise.allSettled(Array.from({ length: 10 }, () => price('WTI'))));
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason === origin.state.failWith)).toBe(true);
    expect(origin.state.calls).toBe(1);
    origin.state.failWith = undefined;
    expect(await clock.run(price('WTI'))).toMatchObject({ call: 2 });
  });

  it('never shares a call between keys', async () => {
    const { clock, price, origin } = setup({}, 10);
    const codes = ['WTI', 'BRENT', 'WTI', 'GAS', 'BRENT'];
    const answers = await clock.run(Promise.all(codes.map((code) => price(code))));
    expect(answers.map((a) => (a as { code: string }).code)).toEqual(codes);
    expect(origin.state.calls).toBe(3);
    expect([...origin.state.codes].sort()).toEqual(['BRENT', 'GAS', 'WTI']);
  });

  it("lets a caller's abort end only its own wait: the shared call runs on for the others", async () => {
    const { clock, origin, price } = abortable();
    const impatient = new AbortController();
    const first = price('WTI', impatient.signal);
    const second = price('WTI', undefined);
    await clock.advance(50);
    const reason = new Error('gave up');
    impatient.abort(reason);
    await expect(first).rejects.toBe(reason);
    expect(origin.state.contexts[0]?.signal.aborted).toBe(false);
    await clock.advance(50);
    expect(await second).toMatchObject({ call: 1 });
    expect(origin.state.calls).toBe(1);
  });

  it('aborts the shared call when its last waiter has gone, and a new miss starts afresh', async () => {
    const { clock, origin, price } = abortable();
    const a = new AbortController();
    const b = new AbortController();
    const calls = [price('WTI', a.signal), price('WTI', b.signal)];
    await clock.advance(10);
    a.abort(new Error('a'));
    expect(origin.state.contexts[0]?.signal.aborted).toBe(false);
    b.abort(new Error('b'));
    expect(origin.state.contexts[0]?.signal.aborted).toBe(true);
    await expect(calls[0]).rejects.toThrow('a');
    await expect(calls[1]).rejects.toThrow('b');
    expect(await clock.run(price('WTI', undefined))).toMatchObject({ call: 2 });
  });

  it('rejects at once a call whose signal has already aborted, without calling the origin', async () => {
    const clock = new VirtualClock();
    const prices = cache({ clock });
    let calls = 0;
    const reason = new Error('already');
    const task = async (): Promise<number> => ++calls;
    await expect(prices.forKey('k').execute(task, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(calls).toBe(0);
  });
});

describe('what is stored', () => {
  it('stores a result only after the origin succeeded, and only JSON data (else reports it)', async () => {
    const clock = new VirtualClock();
    const store = new Map<unknown, unknown>();
    const prices = cache({ clock, store, namespace: 'prices' });
    const events = recorder();
    prices.onEvent(events.listener);
    await expect(prices.forKey('a').execute(() => Promise.reject(new Error('502')))).rejects.toThrow('502');
    expect(store.size).toBe(0);
    const when = new Date(0);
    expect(await prices.forKey('b').execute(async () => ({ when }))).toEqual({ when });
    expect(store.size).toBe(0);
    expect(events.of('store-error')).toEqual([
      expect.objectContaining({
        operation: 'encode',
        key: 'b',
        error: expect.objectContaining({ message: expect.stringContaining('$.when is a Date') }),
      }),
    ]);
    await prices.forKey('c').execute(async () => [1, 2]);
    expect([...store.keys()]).toEqual(['prices:c']);
  });

  it('returns a result whose property getter throws, reports it as not stored, and calls the origin again', async () => {
    const clock = new VirtualClock();
    const prices = cache({ clock, ttlMs: 1000, staleWhileRevalidateMs: 10_000, key: (k: string) => k });
    const events = recorder();
    prices.onEvent(events.listener);
    const unreadable = {
      get price(): never {
        throw new Error('getter blew up');
      },
    };
    let calls = 0;
    let hostile = true;
    const price = prices.wrap(async (code: string) => (++calls, hostile ? unreadable : { code, calls }));
    expect(await price('WTI')).toBe(unreadable);
    const notStored = expect.objectContaining({
      operation: 'encode',
      key: 'WTI',
      error: expect.objectContaining({ message: expect.stringContaining('reading it threw') }),
    });
    expect(events.of('store-error')).toEqual([notStored]);
    expect(prices.health().details['inFlight']).toBe(0);
    hostile = false;
    expect(await price('WTI')).toEqual({ code: 'WTI', calls: 2 });
    // The same from a background refresh: reported, its place freed, and nothing rejects unhandled.
    await clock.advance(2000);
    hostile = true;
    expect(await price('WTI')).toEqual({ code: 'WTI', calls: 2 }); // stale; the refresh gets `unreadable`
    await settle();
    expect(events.of('store-error')).toEqual([notStored, notStored]);
    expect(prices.health().details['inFlight']).toBe(0);
    hostile = false;
    expect(await price('WTI')).toEqual({ code: 'WTI', calls: 2 }); // still stale; a new refresh starts
    await settle();
    expect(calls).toBe(4);
    expect(await price('WTI')).toEqual({ code: 'WTI', calls: 4 });
  });

  it('stores nothing when validation inside the cache fails', async () => {
    const clock = new VirtualClock();
    const store = new Map<unknown, unknown>();
    const validate = definePolicy('validate', [
      {
        decorate:
          <A>(next: Task<A>): Task<A> =>
          async (ctx) => {
            const value = await next(ctx);
            if (typeof value !== 'number') throw new ValidationError();
            return value;
          },
      },
    ]);
    const guarded = pipeline(cache({ clock, store, key: (n: unknown) => String(n) }), validate).wrap(
      async (n: unknown) => n,
    );
    await expect(guarded('x')).rejects.toBeInstanceOf(ValidationError);
    expect(store.size).toBe(0);
    expect(await guarded(7)).toBe(7);
    expect(store.size).toBe(1);
  });
});

describe('reading the store', () => {
  const corrupt = [
    ['text that is not JSON', 'not json at all {'],
    ['a record that is not an entry', JSON.stringify({ value: { price: 1 }, expires: null })],
    ['an entry whose time is not a number', JSON.stringify({ value: { t: 'yesterday', v: 1 }, expires: null })],
    [
      'an entry that would reach a prototype',
      JSON.stringify({ value: { t: 0, v: JSON.parse('{"__proto__":{"polluted":true}}') as unknown }, expires: null }),
    ],
    ['a bare number', '42'],
    // Keyv reads `expires` off the parsed record: `null` threw there, and was taken for a store failure.
    ['a bare null', 'null'],
    ['a bare string', '"x"'],
    ['an array', '[1]'],
  ] as const;

  it.each(corrupt)('never serves %s: it is a miss and a store-error', async (_, raw) => {
    const clock = new VirtualClock();
    const store = new Map<unknown, unknown>([['ns:k', raw]]);
    const prices = cache({ clock, store, namespace: 'ns' });
    const events = recorder();
    prices.onEvent(events.listener);
    expect(await prices.forKey('k').execute(async () => 'fresh')).toBe('fresh');
    expect(events.of('store-error')).toEqual([expect.objectContaining({ operation: 'decode', key: 'k' })]);
    expect(prices.health()).toMatchObject({ status: 'healthy', details: { storeFailures: 0 } });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // The origin's result took the corrupt entry's place.
    expect(await prices.forKey('k').execute(async () => 'other')).toBe('fresh');
  });
});

describe('a failing store', () => {
  function flaky(options: CacheOptions<[string]> = {}) {
    const adapter = new FlakyAdapter();
    const s = setup({ store: adapter, ...options });
    return { ...s, adapter };
  }

  it('goes to the origin when reads fail, reports it, and reports degraded health until the store answers', async () => {
    const { price, origin, events, adapter, prices } = flaky();
    await price('WTI');
    adapter.mode.get = 'throw';
    expect(await price('WTI')).toMatchObject({ call: 2 });
    expect(events.of('store-error')).toEqual([
      expect.objectContaining({
        operation: 'get',
        key: 'WTI',
        error: expect.objectContaining({ message: 'get failed' }),
      }),
    ]);
    expect(prices.health()).toMatchObject({ status: 'degraded', details: { storeFailing: true, storeFailures: 1 } });
    adapter.mode.get = 'ok';
    expect(await price('WTI')).toMatchObject({ call: 2 });
    expect(origin.state.calls).toBe(2);
    expect(prices.health().status).toBe('healthy');
  });

  it('gives up on a store that does not answer after storeTimeoutMs, and leaves no timer behind', async () => {
    const { clock, price, origin, events, adapter } = flaky({ storeTimeoutMs: 100 });
    adapter.mode.get = 'hang';
    adapter.mode.set = 'hang';
    const answer = price('WTI');
    await clock.advance(99);
    expect(origin.state.calls).toBe(0);
    await clock.advance(1);
    expect(await answer).toMatchObject({ call: 1 });
    await clock.advance(100);
    expect(events.of('store-error').map((e) => [e.operation, (e.error as Error).message])).toEqual([
      ['get', '@bulwark/cache: the store did not answer within 100 ms'],
      ['set', '@bulwark/cache: the store did not answer within 100 ms'],
    ]);
    expect(clock.pending).toBe(0);
  });

  it('returns the result even when writing it fails', async () => {
    const { price, events, adapter } = flaky();
    adapter.mode.set = 'throw';
    expect(await price('WTI')).toMatchObject({ call: 1 });
    await settle();
    expect(events.of('store-error').map((e) => e.operation)).toEqual(['set']);
  });

  it('rejects invalidation when the store fails, so the caller knows the entry may remain', async () => {
    const { prices, adapter, events } = flaky();
    adapter.mode.delete = 'throw';
    adapter.mode.clear = 'throw';
    await expect(prices.invalidate('WTI')).rejects.toThrow('delete failed');
    await expect(prices.invalidateAll()).rejects.toThrow('clear failed');
    expect(events.of('store-error').map((e) => e.operation)).toEqual(['delete', 'clear']);
  });
});

describe('L1', () => {
  it('answers from memory within its TTL, then asks the store', async () => {
    const clock = new VirtualClock();
    const store = new Map<unknown, unknown>();
    const prices = cache({ clock, store, namespace: 'ns', l1: { ttlMs: 1000 } });
    const events = recorder();
    prices.onEvent(events.listener);
    let calls = 0;
    const price = prices.forKey('k');
    const task = async (): Promise<{ call: number }> => ({ call: ++calls });
    const first = await price.execute(task);
    store.clear(); // another process invalidated the shared store
    expect(await price.execute(task)).toBe(first); // the L1 copy: the same object
    expect(events.of('hit').map((e) => e.source)).toEqual(['l1']);
    await clock.advance(1001);
    expect(await price.execute(task)).toEqual({ call: 2 });
  });

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const clock = new VirtualClock();
    const prices = cache({ clock, l1: { maxEntries: 2 }, key: (k: string) => k });
    const get = prices.wrap(async (k: string) => k);
    await get('a');
    await get('b');
    await get('a');
    await get('c');
    expect(prices.health().details['l1Entries']).toBe(2);
  });

  it('stands in for the store when the store cannot be read, even past its own TTL', async () => {
    const adapter = new FlakyAdapter();
    const { clock, price, origin, events } = setup({ store: adapter, ttlMs: 1000, l1: { ttlMs: 100 } });
    await price('WTI');
    await clock.advance(500);
    adapter.mode.get = 'throw';
    // Within the policy's TTL: a hit from the L1 copy although the L1's own TTL has passed.
    expect(await price('WTI')).toMatchObject({ call: 1 });
    expect(events.of('hit').map((e) => e.source)).toEqual(['l1']);
    // Past the TTL with the origin down: the L1 copy stands in for the error.
    await clock.advance(1000);
    origin.state.failWith = new Error('502');
    expect(await price('WTI')).toMatchObject({ call: 1 });
    expect(events.of('stale').map((e) => [e.reason, e.ageMs])).toEqual([['error', 1500]]);
  });

  it('takes a reported store error during a read as unreadable (as @keyv/redis reports them), and reports it once', async () => {
    const adapter = new FlakyAdapter();
    const { clock, price, origin, events } = setup({ store: adapter, ttlMs: 1000, l1: { ttlMs: 100 } });
    await price('WTI');
    await clock.advance(2000);
    const offline = new Error('The client is offline');
    adapter.get = () => {
      adapter.emitError(offline);
      adapter.emitError(offline);
      return Promise.resolve(undefined);
    };
    origin.state.failWith = new Error('502');
    expect(await price('WTI')).toMatchObject({ call: 1 });
    expect(events.of('store-error')).toEqual([expect.objectContaining({ operation: 'store', error: offline })]);
  });

  it('drops its copy when the store says the entry is gone', async () => {
    const clock = new VirtualClock();
    const store = new Map<unknown, unknown>();
    const prices = cache({ clock, store, namespace: 'ns', l1: { ttlMs: 100 } });
    let calls = 0;
    const task = async (): Promise<number> => ++calls;
    await prices.forKey('k').execute(task);
    store.clear();
    await clock.advance(101);
    expect(prices.health().details['l1Entries']).toBe(1);
    expect(await prices.forKey('k').execute(task)).toBe(2);
  });
});

describe('invalidation', () => {
  it('forgets a key, and only that key', async () => {
    const { prices, price, origin } = setup();
    await price('WTI');
    await price('BRENT');
    await prices.invalidate('WTI');
    expect(await price('WTI')).toMatchObject({ call: 3 });
    expect(await price('BRENT')).toMatchObject({ call: 2 });
    expect(origin.state.calls).toBe(3);
  });

  it('forgets the whole namespace', async () => {
    const { prices, price, origin } = setup({ l1: true });
    await price('WTI');
    await price('BRENT');
    await prices.invalidateAll();
    await price('WTI');
    await price('BRENT');
    expect(origin.state.calls).toBe(4);
  });

  it('does not store the result of an origin call that was running when its key was invalidated', async () => {
    const { clock, prices, price, origin } = setup({ l1: true }, 100);
    const running = price('WTI');
    await clock.advance(50);
    await prices.invalidate('WTI');
    expect(await clock.run(running)).toMatchObject({ call: 1 });
    expect(await clock.run(price('WTI'))).toMatchObject({ call: 2 });
    expect(origin.state.calls).toBe(2);
  });

  it.each([
    ['an L1 copy past its TTL', { ttlMs: 5000 }, ['WTI']],
    ['no L1 copy (evicted)', { ttlMs: 5000, maxEntries: 1 }, ['WTI', 'BRENT']],
  ] as const)('never lets a store read in flight put an invalidated entry back in the L1 (%s)', async (_, l1, keys) => {
    const { clock, prices, price } = setup({ ttlMs: MIN, l1 });
    for (const key of keys) await price(key);
    await clock.advance(6000); // any L1 copy is past its TTL: the next lookup reads the store
    const racing = price('WTI');
    await prices.invalidate('WTI');
    expect(await racing).toMatchObject({ call: 1 }); // it began before the invalidation
    expect(await price('WTI')).toMatchObject({ code: 'WTI', call: keys.length + 1 });
  });

  it('never lets a store read in flight put an entry back in the L1 after the namespace was cleared', async () => {
    const { clock, prices, price, origin } = setup({ ttlMs: MIN, l1: { ttlMs: 5000 } });
    await price('WTI');
    await clock.advance(6000);
    const racing = price('WTI');
    await prices.invalidateAll();
    expect(await racing).toMatchObject({ call: 1 });
    expect(await price('WTI')).toMatchObject({ call: 2 });
    expect(origin.state.calls).toBe(2);
  });

  it('does not store the result of a refresh that was running when the namespace was cleared', async () => {
    const { clock, prices, price } = setup({ ttlMs: 100, staleWhileRevalidateMs: 1000 }, 50);
    await clock.run(price('WTI'));
    await clock.advance(200);
    await price('WTI'); // stale; a refresh starts
    await prices.invalidateAll();
    await clock.advance(50);
    expect(await clock.run(price('WTI'))).toMatchObject({ call: 3 });
  });
});

describe('keys', () => {
  it('keys calls by their arguments by default, and keyOf gives the same key', async () => {
    const clock = new VirtualClock();
    const prices = cache<[string, { days: number }]>({ clock });
    let calls = 0;
    const history = prices.wrap(async (code: string, range: { days: number }) => ({ code, range, call: ++calls }));
    await history('WTI', { days: 7 });
    await history('WTI', { days: 7 });
    await history('WTI', { days: 30 });
    expect(calls).toBe(2);
    await prices.invalidate(prices.keyOf('WTI', { days: 7 }));
    await history('WTI', { days: 7 });
    expect(calls).toBe(3);
  });

  it('refuses, at the call, a second function through a policy with no key function', async () => {
    const prices = cache({ clock: new VirtualClock() });
    const users = prices.wrap(async (id: number) => ({ user: id }));
    const orders = prices.wrap(async (id: number) => ({ order: id }));
    await users(1);
    await expect(orders(1)).rejects.toThrow(/already caches another function/);
  });

  it('asks for forKey under execute, which has no arguments', async () => {
    const prices = cache({ clock: new VirtualClock() });
    await expect(prices.execute(async () => 1)).rejects.toThrow(/forKey/);
    expect(await prices.forKey('one').execute(async () => 1)).toBe(1);
  });

  it('fails the call when the key function does not return a string', async () => {
    const prices = cache({ clock: new VirtualClock(), key: ((n: number) => n) as unknown as (n: number) => string });
    await expect(prices.wrap(async (n: number) => n)(1)).rejects.toThrow(
      'expected `key` to return a string, got number',
    );
  });

  it('fails the call when an argument cannot make a default key', async () => {
    const prices = cache({ clock: new VirtualClock() });
    const f = prices.wrap(async (when: Date) => when.getTime());
    await expect(f(new Date(0))).rejects.toThrow(/argument 1.*Date.*`key` function/);
  });
});

describe('events', () => {
  it('tie each call to its context', async () => {
    const clock = new VirtualClock();
    const prices = cache({ clock, key: (code: string) => code });
    const events = recorder();
    prices.onEvent(events.listener);
    const price = prices.wrap(async (code: string) => code, { correlationId: (code) => `req-${code}` });
    await price('WTI');
    await price('WTI');
    expect(events.events.map((e) => [e.type, e.policy, e.context?.correlationId])).toEqual([
      ['miss', 'cache', 'req-WTI'],
      ['hit', 'cache', 'req-WTI'],
    ]);
  });
});
