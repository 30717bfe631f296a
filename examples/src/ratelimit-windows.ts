/**
 * The Flask seed's limits (10 per minute AND 100 per hour, per client) on a virtual clock, and a
 * waiting limiter that spaces calls out instead of refusing them.
 *
 * Run: pnpm --filter @bulwark/examples example src/ratelimit-windows.ts
 */

import assert from 'node:assert/strict';

import { isRateLimitedError, rateLimit, slidingWindow } from '@bulwark/ratelimit';
import { VirtualClock } from '@bulwark/testkit';

const clock = new VirtualClock();
const perClient = rateLimit({
  limits: [slidingWindow({ limit: 10, windowMs: 60_000 }), slidingWindow({ limit: 100, windowMs: 3_600_000 })],
  clock,
});

let admitted = 0;
let retryAfterMs = 0;
for (let i = 0; i < 12; i++) {
  await perClient.acquire('client-7').then(
    () => admitted++,
    (error: unknown) => {
      if (!isRateLimitedError(error)) throw error;
      retryAfterMs = error.retryAfterMs;
    },
  );
}
assert.equal(admitted, 10);
assert.equal(retryAfterMs, 60_000);
await perClient.acquire('client-8'); // another client has its own budget

const spaced = rateLimit({ limits: [slidingWindow({ limit: 2, windowMs: 1000 })], mode: 'wait', clock });
const started = await clock.run(Promise.all([1, 2, 3, 4, 5].map(() => spaced.execute(async () => clock.now()))));
assert.deepEqual(started, [0, 0, 1000, 1000, 2000]);
console.log(
  `client-7: ${admitted} admitted, retry after ${retryAfterMs} ms; waiting calls started at ${started.join(', ')} ms`,
);
