import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import KeyvRedis from '@keyv/redis';
import {
  redisTestsEnabled,
  redisUrl,
  settle,
  startPrivateRedis,
  uniquePrefix,
  VirtualClock,
  type PrivateRedis,
} from '@bulwark/testkit';
import * as t from 'io-ts';
import Keyv from 'keyv';

import {
  maxChange,
  memoryStore,
  MemoryStore,
  validate,
  type KeyValueStore,
  type LastGood,
  type StoreErrorEvent,
  type ValidateEvent,
} from '../src/index.js';

const Quote = t.type({ code: t.string, price: t.number });
type Quote = t.TypeOf<typeof Quote>;

const describeRedis = redisTestsEnabled() ? describe : describe.skip;

function quotesOn(store: KeyValueStore<LastGood>, options: { clock?: VirtualClock; storeTimeoutMs?: number } = {}) {
  return validate(Quote, {
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
    rules: [
      maxChange<Quote>({
        value: (q) => q.price,
        key: (q) => q.code,
        maxRatio: 0.2,
        store,
        rememberMs: 3_600_000,
        ...(options.storeTimeoutMs !== undefined ? { storeTimeoutMs: options.storeTimeoutMs } : {}),
      }),
    ],
  });
}

describe('memoryStore', () => {
  it('evicts the key set longest ago once it holds maxEntries keys', () => {
    const store = memoryStore<number>({ maxEntries: 3 });
    for (const [key, value] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ] as const)
      store.set(key, value);
    store.set('a', 10); // setting again makes `a` the newest
    store.set('d', 4);
    expect([store.get('a'), store.get('b'), store.get('c'), store.get('d')]).toEqual([10, undefined, 3, 4]);
    expect(store.size).toBe(3);
  });

  it('forgets a value once its TTL has passed on its clock', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore<string>({ clock });
    store.set('short', 'x', 1000);
    store.set('forever', 'y');
    await clock.advance(999);
    expect(store.get('short')).toBe('x');
    await clock.advance(1);
    expect(store.get('short')).toBeUndefined();
    expect(store.get('forever')).toBe('y');
    expect(store.size).toBe(1);
    store.set('forever', 'z', 10);
    store.set('forever', 'w'); // a set without TTL clears the old one
    await clock.advance(20);
    expect(store.get('forever')).toBe('w');
  });

  it('deletes and clears', () => {
    const store = memoryStore<number>();
    store.set('a', 1, 5);
    expect(store.delete('a')).toBe(true);
    expect(store.delete('a')).toBe(false);
    store.set('b', 2);
    store.clear();
    expect(store.size).toBe(0);
  });

  it('rejects bad options, naming them', () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(/expected `maxEntries` to be an integer >= 1, got 0/);
    expect(() => memoryStore({ clock: {} as never })).toThrow(/expected `clock` to be a Clock/);
  });
});

describe('maxChange on a Keyv store', () => {
  it('takes a Keyv as it is (in memory here), and times out a store that does not answer', async () => {
    const keyv = new Keyv<LastGood>();
    const quotes = quotesOn(keyv);
    expect(quotes.isGate).toBe(false);
    await quotes.execute(async () => ({ code: 'A', price: 70 }));
    expect(await keyv.get('max-change:A')).toMatchObject({ value: 70 });
    await expect(quotes.execute(async () => ({ code: 'A', price: 140 }))).rejects.toMatchObject({ rule: 'max-change' });

    const clock = new VirtualClock();
    const silent: KeyValueStore<LastGood> = {
      get: () => new Promise(() => undefined),
      set: () => new Promise(() => undefined),
    };
    const stuck = quotesOn(silent, { clock, storeTimeoutMs: 500 });
    const errors: ValidateEvent[] = [];
    stuck.onEvent((e) => errors.push(e));
    const call = stuck.execute(async () => ({ code: 'A', price: 70 }));
    await clock.advance(500); // the read times out: the value passes, then the write times out
    await clock.advance(500);
    await expect(call).resolves.toEqual({ code: 'A', price: 70 });
    expect(errors.map((e) => e.type === 'store-error' && String(e.error))).toEqual([
      'Error: @bulwark/validate: the last-good store did not answer a read within 500 ms',
      'Error: @bulwark/validate: the last-good store did not answer a write within 500 ms',
    ]);
    expect(clock.pending).toBe(0);
  });
});

describeRedis('maxChange on Redis, shared by several instances (one connection each)', () => {
  const prefix = uniquePrefix('validate');
  const stores: Keyv<LastGood>[] = [];
  const open = (): Keyv<LastGood> => {
    const keyv = new Keyv<LastGood>({ store: new KeyvRedis(redisUrl()), namespace: prefix, throwOnErrors: true });
    stores.push(keyv);
    return keyv;
  };

  afterAll(async () => {
    const [first] = stores;
    if (first !== undefined) await first.delete(['max-change:WTI_USD', 'max-change:BRENT_CRUDE_USD']);
    await Promise.all(stores.map((s) => s.disconnect()));
  });

  it('judges every instance against the same last good value, and expires it after rememberMs', async () => {
    const a = quotesOn(open());
    const b = quotesOn(open());
    await a.execute(async () => ({ code: 'WTI_USD', price: 70 }));
    await expect(b.execute(async () => ({ code: 'WTI_USD', price: 140 }))).rejects.toMatchObject({
      rule: 'max-change',
      bound: { previous: 70, maxRatio: 0.2 },
    });
    await b.execute(async () => ({ code: 'WTI_USD', price: 75 }));
    await expect(a.execute(async () => ({ code: 'WTI_USD', price: 59 }))).rejects.toMatchObject({
      bound: { previous: 75 },
    });
    // Redis was asked to expire the key after rememberMs.
    const stored = await open().get('max-change:WTI_USD', { raw: true });
    expect(stored?.expires).toBeGreaterThan(Date.now() + 3_500_000);
  });
});

describeRedis('maxChange when Redis fails', () => {
  let redis: PrivateRedis;
  let keyv: Keyv<LastGood>;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    keyv = new Keyv<LastGood>({ store: new KeyvRedis(redis.url), throwOnErrors: true });
  }, 20_000);
  afterAll(async () => {
    await keyv.disconnect().catch(() => undefined);
    await redis.stop();
  });

  it('reports store-error, lets values pass while Redis is down, and judges again once it is back', async () => {
    const clock = new VirtualClock();
    const quotes = quotesOn(keyv, { clock, storeTimeoutMs: 1000 });
    const storeErrors: StoreErrorEvent[] = [];
    quotes.onEvent((e) => void (e.type === 'store-error' && storeErrors.push(e)));
    await quotes.execute(async () => ({ code: 'A', price: 70 }));
    await expect(quotes.execute(async () => ({ code: 'A', price: 140 }))).rejects.toMatchObject({ rule: 'max-change' });
    expect(storeErrors).toEqual([]);

    await redis.stop();
    const whileDown = quotes.execute(async () => ({ code: 'A', price: 140 }));
    for (let i = 0; i < 3; i++) {
      await settle();
      await clock.advance(1000);
    }
    await expect(whileDown).resolves.toEqual({ code: 'A', price: 140 });
    expect(storeErrors.length).toBeGreaterThanOrEqual(1);
    expect(storeErrors[0]).toMatchObject({ type: 'store-error', policy: 'validate', rule: 'max-change' });

    await redis.start(); // empty; writes the client queued while it was down land once it reconnects
    // The client reconnects with its own backoff (real time): wait until it answers.
    for (let waited = 0; ; waited += 50) {
      if ((await keyv.set('probe', { value: 0, at: 0 }).catch(() => false)) === true) break;
      if (waited > 10_000) throw new Error('the client did not reconnect within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const before = storeErrors.length;
    await quotes.execute(async () => ({ code: 'B', price: 70 }));
    await expect(quotes.execute(async () => ({ code: 'B', price: 140 }))).rejects.toMatchObject({ rule: 'max-change' });
    expect(storeErrors.length).toBe(before);
  }, 30_000);
});
