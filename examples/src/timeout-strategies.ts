/**
 * The two timeout strategies side by side, on a task that honours its signal and on one that ignores
 * it: aggressive bounds both, cooperative waits for the one that ignores it. Real timers, small limits.
 *
 * Run: pnpm --filter @bulwark/examples example src/timeout-strategies.ts
 */

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Context } from '@bulwark/core';
import { isTimeoutError, timeout, type TimeoutStrategy } from '@bulwark/timeout';

const LIMIT_MS = 50;
const TASK_MS = 300;

/** Passes its signal on: at the deadline the sleep stops. */
const honours = (ctx: Context): Promise<string> => sleep(TASK_MS, 'done', { signal: ctx.signal });
/** Ignores its signal: runs its full time whatever happens. */
const ignores = (): Promise<string> => sleep(TASK_MS, 'done');

async function measure(strategy: TimeoutStrategy, task: (ctx: Context) => Promise<string>): Promise<number> {
  const policy = timeout({ timeoutMs: LIMIT_MS, strategy });
  const events: string[] = [];
  policy.onEvent((event) => events.push(`${event.type} after ${event.timeoutMs} ms (${event.strategy})`));
  const started = performance.now();
  const error = await policy.execute(task).catch((e: unknown) => e);
  const took = performance.now() - started;
  assert.ok(isTimeoutError(error), `${strategy}: expected a TimeoutError`);
  assert.deepEqual(events, [`timeout after ${LIMIT_MS} ms (${strategy})`]);
  console.log(
    `${strategy.padEnd(11)} ${task === honours ? 'honours' : 'ignores'} its signal: rejected after ${took.toFixed(0)} ms`,
  );
  return took;
}

// Aggressive (the default) rejects at the deadline either way.
assert.ok((await measure('aggressive', honours)) < TASK_MS);
assert.ok((await measure('aggressive', ignores)) < TASK_MS);
// Cooperative stops a task that listens at the deadline, and waits for one that does not.
assert.ok((await measure('cooperative', honours)) < TASK_MS);
assert.ok((await measure('cooperative', ignores)) >= TASK_MS - 1);

// In time, the value comes back unchanged, and nothing is aborted.
let signal: AbortSignal | undefined;
const value = await timeout(LIMIT_MS).execute(async (ctx) => {
  signal = ctx.signal;
  return 'fast';
});
assert.equal(value, 'fast');
assert.equal(signal?.aborted, false);
