/**
 * The oil-price recipe with @bulwark/cache: prices are fresh for 5 minutes; when the price server fails,
 * an answer up to 1 hour old stands in for the error; past that, the call fails with a
 * `CacheExpiredError` carrying the entry's age and the server's error. Concurrent requests for one
 * price make one call to the server.
 *
 * The clock is the test kit's virtual clock, so the hours pass in microseconds; in production leave
 * `clock` out. To share entries between processes, give `store: new KeyvRedis(process.env.REDIS_URL)`.
 *
 * Run: pnpm --filter @bulwark/examples example src/cache-oil-price.ts
 */

import assert from 'node:assert/strict';

import { cache, isCacheExpiredError, type CacheEvent } from '@bulwark/cache';
import { VirtualClock } from '@bulwark/testkit';

const MINUTE = 60_000;
const clock = new VirtualClock(Date.UTC(2026, 10, 26, 12));

// A stand-in for the price server: it answers until `serverDown` is set.
let serverCalls = 0;
let serverDown = false;
async function fetchPrice(code: string): Promise<{ code: string; usd: number; at: string }> {
  serverCalls++;
  await clock.sleep(120); // the round trip
  if (serverDown) throw new Error('502 Bad Gateway');
  return { code, usd: 78.12, at: new Date(clock.now()).toISOString() };
}

const prices = cache({
  name: 'oil-prices',
  key: (code: string) => code,
  ttlMs: 5 * MINUTE,
  maxStaleAgeMs: 60 * MINUTE,
  clock,
});
const seen: string[] = [];
prices.onEvent((event: CacheEvent) => seen.push(event.type === 'stale' ? `stale (${event.reason})` : event.type));
const price = prices.wrap(fetchPrice);

// 50 requests at once for a price nobody has asked for yet: one call to the server.
const burst = await clock.run(Promise.all(Array.from({ length: 50 }, () => price('WTI_USD'))));
assert.equal(serverCalls, 1);
assert.ok(burst.every((quote) => quote.usd === 78.12));

// Within 5 minutes: answered from the cache.
await clock.advance(4 * MINUTE);
await clock.run(price('WTI_USD'));
assert.equal(serverCalls, 1);

// The server goes down. 40 minutes on, the cached price (40 minutes old) stands in for the error.
serverDown = true;
await clock.advance(36 * MINUTE);
const stale = await clock.run(price('WTI_USD'));
assert.equal(stale.usd, 78.12);

// Past one hour, the old price is no longer passed off as current.
await clock.advance(25 * MINUTE);
const error = await clock.run(price('WTI_USD')).catch((e: unknown) => e);
if (!isCacheExpiredError(error)) throw new Error(`expected a CacheExpiredError, got ${String(error)}`);
assert.equal(error.ageMs, 65 * MINUTE + 240); // the price was stored at 120 ms, the last failure came at 65 min + 360 ms
assert.equal(error.maxStaleAgeMs, 60 * MINUTE);
assert.equal((error.cause as Error).message, '502 Bad Gateway');

// The server is back: a fresh price, cached again.
serverDown = false;
const fresh = await clock.run(price('WTI_USD'));
assert.equal(fresh.at, new Date(clock.now()).toISOString());

assert.deepEqual(seen, [...Array<string>(50).fill('miss'), 'hit', 'stale (error)', 'miss']);
console.log(
  `server calls: ${serverCalls}; events: ${[...new Set(seen)].join(', ')}; ` +
    `past an hour: ${error.name} (${Math.round(error.ageMs / MINUTE)} min old, cause: ${(error.cause as Error).message})`,
);
