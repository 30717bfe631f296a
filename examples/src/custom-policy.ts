/**
 * Writing a policy of your own with @bulwark/core: a gate that counts calls in flight, composed with
 * `pipeline` and used through `wrap`, which keeps the wrapped function's type.
 *
 * Run: pnpm --filter @bulwark/examples example src/custom-policy.ts
 */

import assert from 'node:assert/strict';

import { definePolicy, noop, PASS, pipeline } from '@bulwark/core';

let inFlight = 0;
let peakInFlight = 0;
const counting = definePolicy('in-flight', [
  {
    gate: {
      enter: () => {
        inFlight++;
        peakInFlight = Math.max(peakInFlight, inFlight);
      },
      exit: () => {
        inFlight--;
        return PASS;
      },
    },
  },
]);

const square = async (n: number): Promise<number> => {
  await new Promise((resolve) => setImmediate(resolve));
  return n * n;
};

const guarded = pipeline(noop, counting).wrap(square);
const results = await Promise.all([1, 2, 3].map((n) => guarded(n)));

assert.deepEqual(results, [1, 4, 9]);
assert.equal(peakInFlight, 3);
assert.equal(inFlight, 0);
console.log(`squares: ${results.join(', ')}; at most ${peakInFlight} calls were in flight at once`);
