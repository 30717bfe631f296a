// The cache on a real Redis through @keyv/redis: entries shared between caches (as between processes),
// corrupt entries, invalidation, and a Redis stopped mid-run and started again.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { systemClock } from '@bulwark/core';
import {
  redisTestsEnabled,
  redisUrl,
  startPrivateRedis,
  uniquePrefix,
  VirtualClock,
  type PrivateRedis,
} from '@bulwark/testkit';
import KeyvRedis from '@keyv/redis';
import { createClient } from 'redis';

import { cache, type CacheOptions } from '../src/index.js';
import { recorder } from './helpers.js';

const describeRedis = redisTestsEnabled() ? describe : describe.skip;

const adapters: KeyvRedis<unknown>[] = [];
/** A KeyvRedis on `url`, disconnected after the test. */
function redisAdapter(url: string, fastFail = false): KeyvRedis<unknown> {
  // The recommended client for a cache: commands fail at once while Redis is away (no offline queue),
  // and the client reconnects in the background.
  const adapter = fastFail
    ? new KeyvRedis({ url, disableOfflineQueue: true, socket: { connectTimeout: 500, reconnectStrategy: () => 50 } })
    : new KeyvRedis(url);
  adapters.push(adapter);
  return adapter;
}

afterEach(async () => {
  await Promise.all(adapters.splice(0).map((adapter) => adapter.disconnect(true).catch(() => undefined)));
});

/** Polls `attempt` until it returns true: for waiting on a Redis to come back, never for timing a policy. */
async function eventually(attempt: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await attempt())) {
    if (Date.now() > deadline) throw new Error('still not true after 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeRedis('the cache on the shared Redis', () => {
  const client = createClient({ url: redisUrl() });
  const prefix = uniquePrefix('cache');

  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(keys);
    client.destroy();
  });

  const shared = (namespace: string, options: CacheOptions<[string]> = {}) => {
    const clock = new VirtualClock(Date.now());
    const policy = cache<[string]>({
      store: redisAdapter(redisUrl()),
      namespace,
      key: (code) => code,
      clock,
      ...options,
    });
    const events = recorder();
    policy.onEvent(events.listener);
    let calls = 0;
    const price = policy.wrap(async (code: string) => ({ code, call: ++calls }));
    return { policy, price, events, clock, calls: () => calls };
  };

  it('shares entries between caches (processes) on one namespace, with the store TTL on the key', async () => {
    const namespace = `${prefix}shared`;
    const a = shared(namespace);
    const b = shared(namespace);
    expect(await a.price('WTI')).toEqual({ code: 'WTI', call: 1 });
    expect(await b.price('WTI')).toEqual({ code: 'WTI', call: 1 });
    expect(b.calls()).toBe(0);
    expect(b.events.of('hit')).toEqual([expect.objectContaining({ key: 'WTI', source: 'store' })]);
    const keys = await client.keys(`${namespace}*`);
    expect(keys).toEqual([`${namespace}::${namespace}:WTI`]);
    const ttl = await client.pTTL(keys[0] as string);
    // The default retention: twice the longest servable age (one hour of stale-if-error).
    expect(ttl).toBeGreaterThan(2 * 3_600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(2 * 3_600_000);
  });

  it('never serves a corrupt entry: a miss, a store-error, and the origin result takes its place', async () => {
    const namespace = `${prefix}corrupt`;
    const { price, events, calls } = shared(namespace);
    const redisKey = `${namespace}::${namespace}:WTI`;
    await client.set(redisKey, 'this is not JSON {');
    expect(await price('WTI')).toEqual({ code: 'WTI', call: 1 });
    await client.set(
      `${namespace}::${namespace}:BRENT`,
      '{"value":{"t":0,"v":{"__proto__":{"polluted":true}}},"expires":null}',
    );
    expect(await price('BRENT')).toEqual({ code: 'BRENT', call: 2 });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(events.of('store-error').map((e) => [e.operation, e.key])).toEqual([
      ['decode', 'WTI'],
      ['decode', 'BRENT'],
    ]);
    expect(calls()).toBe(2);
    expect(JSON.parse((await client.get(redisKey)) as string)).toMatchObject({
      value: { v: { code: 'WTI', call: 1 } },
    });
  });

  it('invalidates one key, or its namespace and no other', async () => {
    const mine = shared(`${prefix}mine`);
    const theirs = shared(`${prefix}theirs`);
    await mine.price('WTI');
    await mine.price('BRENT');
    await theirs.price('WTI');
    await mine.policy.invalidate('WTI');
    expect(await client.keys(`${prefix}mine*`)).toHaveLength(1);
    await mine.price('WTI');
    expect(mine.calls()).toBe(3);
    await mine.policy.invalidateAll();
    expect(await client.keys(`${prefix}mine*`)).toHaveLength(0);
    expect(await client.keys(`${prefix}theirs*`)).toHaveLength(1);
    await theirs.price('WTI');
    expect(theirs.calls()).toBe(1);
  });

  it('makes one origin call for 1,000 concurrent misses, through Redis', async () => {
    const { price, calls } = shared(`${prefix}flight`);
    const answers = await Promise.all(Array.from({ length: 1000 }, () => price('WTI')));
    expect(calls()).toBe(1);
    expect(answers.every((a) => a.call === 1)).toBe(true);
  });
});

describeRedis('the cache when its Redis stops and comes back', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  }, 15_000);
  afterAll(async () => {
    await redis.stop();
  });

  async function outage(fastFail: boolean): Promise<void> {
    if (!redis.running) await redis.start();
    const adapter = redisAdapter(redis.url, fastFail);
    const policy = cache<[string]>({
      store: adapter,
      namespace: `outage-${String(fastFail)}`,
      key: (code) => code,
      clock: systemClock,
      storeTimeoutMs: 200,
      l1: { ttlMs: 0 },
    });
    const events = recorder();
    policy.onEvent(events.listener);
    let calls = 0;
    let failing = false;
    const price = policy.wrap(async (code: string) => {
      calls++;
      if (failing) throw new Error('502 Bad Gateway');
      return { code, call: calls };
    });

    expect(await price('WTI')).toEqual({ code: 'WTI', call: 1 });
    expect(await price('WTI')).toEqual({ code: 'WTI', call: 1 });
    expect(calls).toBe(1);

    await redis.stop();
    // Redis is gone: calls go to the origin and succeed; the failures are events, never the call's.
    expect(await price('BRENT')).toEqual({ code: 'BRENT', call: 2 });
    expect(events.of('store-error').length).toBeGreaterThan(0);
    // The L1 keeps what the origin gave (its own TTL is 0, so it is never asked first): with Redis
    // unreadable, its copy stands in for Redis's entry.
    expect(await price('BRENT')).toEqual({ code: 'BRENT', call: 2 });
    expect(events.of('hit').at(-1)).toMatchObject({ key: 'BRENT', source: 'l1' });
    expect(policy.health().status).toBe('degraded');
    // And with the origin down too, the L1's copy of WTI (past its own TTL) stands in for Redis.
    failing = true;
    expect(await price('WTI')).toEqual({ code: 'WTI', call: 1 });
    failing = false;

    await redis.start(); // empty: a private Redis keeps nothing on disk
    // Once the client has reconnected, results are stored in Redis and served from it again.
    await eventually(async () => {
      await price('GAS');
      const last = events.events.at(-1);
      return last?.type === 'hit' && last.source === 'store';
    });
    expect(policy.health().status).toBe('healthy');
  }

  it('goes on without it, then uses it again (a client that fails fast)', async () => {
    await outage(true);
  }, 30_000);

  it('goes on without it, then uses it again (the default client: the store timeout bounds each wait)', async () => {
    await outage(false);
  }, 30_000);
});
