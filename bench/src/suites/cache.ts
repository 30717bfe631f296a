/**
 * The cost of the cache policy: a hit through it against a raw Keyv get (in memory, and on Redis when
 * one answers) and against cache-manager's `wrap`; a hit from its L1 against a Map lookup; and 1,000
 * concurrent misses of one key, coalesced into one origin call, against 1,000 uncoalesced origin calls.
 */

import { cache } from '@bulwark/cache';
import { noop } from '@bulwark/core';
import { pingRedis, redisUrl, uniquePrefix } from '@bulwark/testkit';
import KeyvRedis from '@keyv/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';

import { compare, type Figure, type Suite } from '../harness.js';

const quote = { code: 'WTI', usd: 78.12, at: '2026-11-26T12:00:00Z', source: 'oilpriceapi' };
type Quote = typeof quote;
// What the origin would do, minus the network: the benchmarks never reach it once the entry is stored.
const fetchQuote = async (code: string): Promise<Quote> => ({ ...quote, code });

/** A simulated origin call that takes one turn of the event loop, as I/O would. */
const slowQuote = (code: string): Promise<Quote> =>
  new Promise((resolve) => setImmediate(() => resolve({ ...quote, code })));

async function hits(ctx: { quick: boolean }): Promise<Figure[]> {
  const raw = new Keyv();
  await raw.set('WTI', quote);
  // A Keyv set up as the cache sets up its own: plain JSON both ways (no @keyv/serialize reviver).
  const rawJson = new Keyv({ serialize: JSON.stringify, deserialize: (text: string) => JSON.parse(text) as never });
  await rawJson.set('WTI', quote);
  const viaPolicy = cache({ key: (code: string) => code }).wrap(fetchQuote);
  await viaPolicy('WTI');
  const manager = createCache({ stores: [new Keyv()] });
  const managerWrap = (code: string): Promise<Quote> => manager.wrap(code, () => fetchQuote(code), 300_000);
  await managerWrap('WTI');
  return compare(
    'cache: hit, in-memory Keyv',
    { name: 'raw keyv.get', run: () => raw.get('WTI') },
    [
      { name: 'raw keyv.get, plain JSON serializer', run: () => rawJson.get('WTI') },
      { name: 'cache(…).wrap(fn)(key)', run: () => viaPolicy('WTI') },
      { name: 'cache-manager wrap (peer)', run: () => managerWrap('WTI') },
    ],
    ctx,
  );
}

async function l1Hits(ctx: { quick: boolean }): Promise<Figure[]> {
  const map = new Map<string, Quote>([['WTI', quote]]);
  const viaL1 = cache({ key: (code: string) => code, l1: { ttlMs: Infinity } }).wrap(fetchQuote);
  const mapViaNoop = noop.wrap(async (code: string) => map.get(code));
  await viaL1('WTI');
  return compare(
    'cache: hit, L1',
    { name: 'Map.get', run: () => map.get('WTI') },
    [
      // What core's `wrap` costs around the same lookup, for scale: the rest is the cache's own work.
      { name: 'noop.wrap(Map.get)', run: () => mapViaNoop('WTI') },
      { name: 'cache({ l1 }).wrap(fn)(key)', run: () => viaL1('WTI') },
    ],
    ctx,
  );
}

async function redisHits(ctx: { quick: boolean }): Promise<Figure[]> {
  const url = redisUrl();
  if (!(await pingRedis(url, 500))) {
    console.log('  (no Redis at REDIS_URL: the Redis figures are skipped)');
    return [];
  }
  const prefix = uniquePrefix('bench-cache');
  const rawAdapter = new KeyvRedis(url);
  const raw = new Keyv(rawAdapter, { namespace: `${prefix}raw` });
  const policyAdapter = new KeyvRedis(url);
  try {
    await raw.set('WTI', quote);
    const viaPolicy = cache({ store: policyAdapter, namespace: `${prefix}policy`, key: (code: string) => code }).wrap(
      fetchQuote,
    );
    await viaPolicy('WTI');
    return await compare(
      'cache: hit, Redis',
      { name: 'raw keyv.get', run: () => raw.get('WTI') },
      [{ name: 'cache({ store: KeyvRedis }).wrap(fn)(key)', run: () => viaPolicy('WTI') }],
      ctx,
    );
  } finally {
    const client = await rawAdapter.getClient();
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(keys);
    await rawAdapter.disconnect();
    await policyAdapter.disconnect();
  }
}

async function stampede(ctx: { quick: boolean }): Promise<Figure[]> {
  const N = 1000;
  let originCalls = 0;
  const coalesced = cache({ key: (code: string) => code }).wrap((code: string) => {
    originCalls++;
    return slowQuote(code);
  });
  let batch = 0;
  let batches = 0;
  const figures = await compare(
    'cache: 1,000 concurrent misses of one key',
    { name: '1,000 origin calls, no cache', run: () => Promise.all(Array.from({ length: N }, () => slowQuote('WTI'))) },
    [
      {
        name: '1,000 calls through the cache (one origin call)',
        run: () => {
          batches++;
          const key = `k${batch++}`;
          return Promise.all(Array.from({ length: N }, () => coalesced(key)));
        },
      },
    ],
    ctx,
  );
  if (originCalls !== batches) throw new Error(`expected one origin call per batch: ${originCalls} for ${batches}`);
  return figures.map((f) => ({ ...f, unit: 'ns/1,000 calls' }));
}

export const cacheSuite: Suite = {
  name: 'cache',
  run: async (ctx) => [
    ...(await hits(ctx)),
    ...(await l1Hits(ctx)),
    ...(await redisHits(ctx)),
    ...(await stampede(ctx)),
  ],
};
