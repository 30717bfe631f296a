/**
 * A circuit breaker around a flaky dependency: it trips after 3 failures in a row, refuses calls for
 * its open wait (which doubles on each failed probe), then closes after a successful probe. Time is
 * a virtual clock, so the minutes of waiting take no time.
 *
 * Run: pnpm --filter @bulwark/examples example src/breaker-basics.ts
 */

import assert from 'node:assert/strict';

import { breaker, consecutiveFailures, isBrokenCircuitError } from '@bulwark/breaker';
import { VirtualClock } from '@bulwark/testkit';

const clock = new VirtualClock();
const inventory = breaker({
  name: 'inventory',
  strategy: consecutiveFailures(3),
  halfOpenAfterMs: 30_000,
  maxHalfOpenAfterMs: 120_000,
  clock,
});
const transitions: string[] = [];
inventory.onEvent((event) => {
  if (event.type === 'state-change') transitions.push(`${event.from} → ${event.to}`);
});

let healthy = false;
const stock = inventory.wrap(async (sku: string): Promise<number> => {
  if (!healthy) throw new Error(`inventory service unavailable (${sku})`);
  return 7;
});

for (let i = 0; i < 3; i++) await stock('sku-1').catch(() => undefined);
assert.equal(inventory.state, 'open');

const refused = await stock('sku-1').catch((error: unknown) => error);
assert.ok(isBrokenCircuitError(refused));
assert.equal(refused.retryAfterMs, 30_000);

await clock.advance(30_000);
await stock('sku-1').catch(() => undefined); // the probe fails: open again, for twice as long
assert.equal(inventory.health().details['retryAfterMs'], 60_000);

healthy = true;
await clock.advance(60_000);
assert.equal(await stock('sku-1'), 7); // the probe succeeds: closed
assert.equal(inventory.state, 'closed');
assert.deepEqual(transitions, [
  'closed → open',
  'open → half-open',
  'half-open → open',
  'open → half-open',
  'half-open → closed',
]);
console.log(`inventory breaker: ${transitions.join(', ')}`);
