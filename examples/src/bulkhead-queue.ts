/**
 * A bulkhead in front of a slow service: 2 calls at once, 2 more waiting, the rest shed at once;
 * a waiting caller who gives up leaves the queue without running.
 *
 * Run: pnpm --filter @bulwark/examples example src/bulkhead-queue.ts
 */

import assert from 'node:assert/strict';

import { bulkhead, isBulkheadRejectedError } from '@bulwark/bulkhead';

const pool = bulkhead({ capacity: 2, queueSize: 2, name: 'slow-service' });
const ran: number[] = [];
const slow = (n: number) => async (): Promise<number> => {
  ran.push(n);
  await new Promise((resolve) => setTimeout(resolve, 20));
  return n;
};

const impatient = new AbortController();
const calls = [
  pool.execute(slow(1)),
  pool.execute(slow(2)),
  pool.execute(slow(3), impatient.signal),
  pool.execute(slow(4)),
];
assert.deepEqual([pool.running, pool.queued, pool.free], [2, 2, 0]);
const shed = await pool.execute(slow(5)).catch((error: unknown) => error);
assert.ok(isBulkheadRejectedError(shed));

impatient.abort(new Error('caller gave up'));
const settled = await Promise.allSettled(calls);
assert.deepEqual(
  settled.map((s) => s.status),
  ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
);
assert.deepEqual(ran, [1, 2, 4]);
console.log(`ran ${ran.join(', ')}; call 3 left the queue, call 5 was shed (${String(shed)})`);
