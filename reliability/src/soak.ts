/**
 * The soak run: `pnpm soak [--quick] [--calls N]`.
 *
 * Drives N calls (default 1,000,000; `--quick` 50,000) through the soak stack, 64 at a time, with 1 %
 * of them failing and 1 % aborted by their caller while queued or running. The heap is measured after
 * forced garbage collections once a warm-up has run and again at the end; the run fails (exit 1) when
 * it grew by more than 5 MB, when a call ended in anything but its own outcome or a policy's typed
 * refusal, or when anything is left in flight. Prints calls per second and the heap figures.
 *
 * Needs `node --expose-gc` (the package script passes it).
 *
 * @module
 */

import { isBulwarkError } from '@bulwark/core';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { soakStack } from './stack.js';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, calls: { type: 'string' } },
});
const CALLS = Number(values.calls ?? (values.quick === true ? 50_000 : 1_000_000));
const WARM_UP = Math.min(20_000, Math.ceil(CALLS / 10));
const CONCURRENCY = 64;
const MAX_GROWTH_BYTES = 5 * 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined || !Number.isSafeInteger(CALLS) || CALLS < 1) {
  console.error('soak: run with node --expose-gc, and --calls a positive integer (pnpm soak does both)');
  process.exit(2);
}

/** A call's own failure (1 % of calls). */
class SoakFailure extends Error {}
/** A caller's abort reason (1 % of calls). */
class SoakAbort extends Error {}

const { policy, description, metrics } = soakStack();
const tally = { ok: 0, failed: 0, aborted: 0, refused: 0, unexpected: 0 };
let firstUnexpected: unknown;

const succeed = async (): Promise<number> => {
  await Promise.resolve();
  return 1;
};
const fail = async (): Promise<never> => {
  await Promise.resolve();
  throw new SoakFailure('planned failure');
};
/** Runs until its caller aborts: the abort reaches it through its context's signal. */
const waitForAbort = (ctx: { readonly signal: AbortSignal }): Promise<never> =>
  new Promise((_, reject) => {
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
  });

/** Call `n`: every hundredth fails, and every hundredth (others) is aborted by its caller at once. */
async function call(n: number): Promise<void> {
  const kind = n % 100;
  try {
    if (kind === 37) {
      await policy.execute(fail);
    } else if (kind === 73) {
      const caller = new AbortController();
      const pending = policy.execute(waitForAbort, caller.signal);
      caller.abort(new SoakAbort('the caller gave up'));
      await pending;
    } else {
      await policy.execute(succeed);
    }
    tally.ok++;
  } catch (error) {
    if (error instanceof SoakFailure) tally.failed++;
    else if (error instanceof SoakAbort) tally.aborted++;
    // A breaker's or bulkhead's typed refusal: part of the contract, not a fault.
    else if (isBulwarkError(error)) tally.refused++;
    else {
      tally.unexpected++;
      firstUnexpected ??= error;
    }
  }
}

/** Makes `count` calls from call number `from`, `CONCURRENCY` at a time. */
async function drive(from: number, count: number): Promise<void> {
  let next = from;
  const end = from + count;
  const lane = async (): Promise<void> => {
    while (next < end) await call(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
}

/** Heap in use after full collections, with a turn of the event loop between them for finalizers. */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await nextTurn();
  }
  return process.memoryUsage().heapUsed;
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const count = (n: number): string => n.toLocaleString('en-US');

await drive(0, WARM_UP);
const heapBefore = await settledHeap();
Object.assign(tally, { ok: 0, failed: 0, aborted: 0, refused: 0 });
const started = performance.now();
await drive(WARM_UP, CALLS);
const seconds = (performance.now() - started) / 1000;
const heapAfter = await settledHeap();
const growth = heapAfter - heapBefore;

const row = metrics.snapshot().policies.find((p) => p.policy === 'soak');
const settled = tally.ok + tally.failed + tally.aborted + tally.refused + tally.unexpected;
const problems: string[] = [];
if (settled !== CALLS) problems.push(`${count(CALLS - settled)} calls did not settle`);
if (tally.unexpected > 0)
  problems.push(`${count(tally.unexpected)} calls ended in an unexpected error: ${String(firstUnexpected)}`);
if (row?.calls !== WARM_UP + CALLS)
  problems.push(`telemetry counted ${count(row?.calls ?? 0)} calls, not ${count(WARM_UP + CALLS)}`);
if (growth > MAX_GROWTH_BYTES) problems.push(`the heap grew by ${mb(growth)}, more than ${mb(MAX_GROWTH_BYTES)}`);

console.log(
  `soak: ${count(CALLS)} calls (1 % failing, 1 % aborted by their caller), ${CONCURRENCY} at a time, through telemetry → ${description}`,
);
console.log(
  `  settled: ${count(tally.ok)} ok, ${count(tally.failed)} failed, ${count(tally.aborted)} aborted, ${count(tally.refused)} refused by a policy, ${count(tally.unexpected)} unexpected`,
);
console.log(`  ${count(CALLS)} calls in ${seconds.toFixed(2)} s: ${count(Math.round(CALLS / seconds))} calls/s`);
console.log(
  `  heap after GC: ${mb(heapBefore)} after warm-up, ${mb(heapAfter)} at the end: ${growth >= 0 ? '+' : ''}${mb(growth)} (limit +${mb(MAX_GROWTH_BYTES)})`,
);
for (const problem of problems) console.error(`soak: FAILED: ${problem}`);
process.exit(problems.length === 0 ? 0 : 1);
