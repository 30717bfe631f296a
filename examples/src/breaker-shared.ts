/**
 * Two processes (here: two Redis clients in one program) share a breaker named "payments" through
 * Redis. When one trips, the other fails fast within the store's sync interval, without a Redis round
 * trip on its calls. Needs Redis at REDIS_URL (default redis://127.0.0.1:6379); without it, the example
 * says so and stops (under CI=true it fails instead).
 *
 * Run: pnpm --filter @bulwark/examples example src/breaker-shared.ts
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { breaker, consecutiveFailures, isBrokenCircuitError } from '@bulwark/breaker';
import { redisBreakerStore } from '@bulwark/breaker/redis';
import { createClient } from 'redis';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `bulwark-example:${randomBytes(4).toString('hex')}:`;

async function connect(): Promise<ReturnType<typeof createClient> | undefined> {
  const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch {
    return undefined;
  }
}

const first = await connect();
const second = await connect();
if (first === undefined || second === undefined) {
  if (process.env['CI'] === 'true') throw new Error(`Redis does not answer at ${url}`);
  console.log(`Redis does not answer at ${url}: skipping the shared-breaker example`);
  process.exit(0);
}

const options = { name: 'payments', strategy: consecutiveFailures(2), halfOpenAfterMs: 30_000 };
const storeA = redisBreakerStore(first, { prefix, syncIntervalMs: 100 });
const storeB = redisBreakerStore(second, { prefix, syncIntervalMs: 100 });
const inA = breaker({ ...options, store: storeA });
const inB = breaker({ ...options, store: storeB });

try {
  const decline = (): Promise<never> => Promise.reject(new Error('payment gateway timeout'));
  await inA.execute(decline).catch(() => undefined);
  await inA.execute(decline).catch(() => undefined);
  assert.equal(inA.state, 'open');

  const start = Date.now();
  while (inB.state !== 'open' && Date.now() - start < 2000) await new Promise((r) => setTimeout(r, 5));
  const learntAfterMs = Date.now() - start;
  assert.equal(inB.state, 'open');
  const refused = await inB.execute(async () => 'charged').catch((error: unknown) => error);
  assert.ok(isBrokenCircuitError(refused));
  console.log(`process B learnt that "payments" opened after ${learntAfterMs} ms; it now fails fast`);
} finally {
  inA.reset(); // closes the fleet again
  inA.dispose();
  inB.dispose();
  storeA.close();
  storeB.close();
  const keys = await first.keys(`${prefix}*`);
  if (keys.length > 0) await first.del(keys);
  first.destroy();
  second.destroy();
}
