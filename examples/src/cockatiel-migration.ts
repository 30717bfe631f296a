/**
 * Migrating from cockatiel piece by piece: a cockatiel retry inside a Bulwark pipeline, and that
 * pipeline back inside cockatiel's wrap(), with a caller's abort reaching the task.
 *
 * Run: pnpm --filter @bulwark/examples example src/cockatiel-migration.ts
 */

import assert from 'node:assert/strict';

import { fromCockatiel, toCockatiel } from '@bulwark/cockatiel';
import { pipeline } from '@bulwark/core';
import { ConstantBackoff, handleAll, retry, wrap } from 'cockatiel';

let calls = 0;
const flaky = async (): Promise<string> => {
  calls++;
  if (calls < 3) throw new Error(`failure ${calls}`);
  return `ok after ${calls} calls`;
};

const bulwark = pipeline(fromCockatiel(retry(handleAll, { maxAttempts: 2, backoff: new ConstantBackoff(1) })));
assert.equal(await bulwark.execute(flaky), 'ok after 3 calls');

const cockatiel = wrap(retry(handleAll, { maxAttempts: 1, backoff: new ConstantBackoff(1) }), toCockatiel(bulwark));
const controller = new AbortController();
const pending = cockatiel.execute(
  ({ signal }) =>
    new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
  controller.signal,
);
controller.abort(new Error('caller left'));
await assert.rejects(pending, /caller left/);
console.log('cockatiel and Bulwark policies compose both ways, and aborts cross the boundary');
