/**
 * Hedged reads from two replicas, the first one sometimes slow, with a fallback to a cached value when
 * both fail. The hedge waits for the p80 latency of recent reads (at least 20 ms): the slow reads are
 * hedged, the fast ones never, and the slow originals are aborted when the hedge wins.
 *
 * Run: pnpm --filter @bulwark/examples example src/fallback-hedge.ts
 */

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { pipeline, type Context } from '@bulwark/core';
import { fallback, hedge, isHedgeLostError, type HedgeEvent } from '@bulwark/fallback';

/** Replica 1 answers in 5 ms, except every tenth read, which takes 200 ms. Replica 2 always takes 5 ms. */
let reads = 0;
let aborted = 0;
let down = false;
async function readPrice(ctx: Context): Promise<number> {
  const n = reads++;
  const ms = ctx.attempt === 1 && n % 10 === 9 ? 200 : 5;
  try {
    await sleep(ms, undefined, { signal: ctx.signal });
  } catch (error) {
    if (isHedgeLostError(ctx.signal.reason)) aborted++;
    throw error;
  }
  if (down) throw new Error(`replica ${ctx.attempt} is down`);
  return 71.2;
}

const hedged = hedge({ percentile: { p: 80, windowSize: 50, minSamples: 5, minDelayMs: 20, maxDelayMs: 50 } });
const events: HedgeEvent[] = [];
hedged.onEvent((event) => events.push(event));
const price = pipeline(fallback(70.0), hedged);

const started = performance.now();
for (let i = 0; i < 30; i++) assert.equal(await price.execute(readPrice), 71.2);
const took = performance.now() - started;

// The three slow reads were hedged, the hedges won, and the slow originals were aborted.
const won = events.filter((e) => e.type === 'hedge-won' && e.attempt === 2).length;
assert.ok(won >= 3, `expected the slow reads to be hedged, saw ${won}`);
assert.ok(aborted >= 3);
assert.ok(hedged.delayMs >= 20 && hedged.delayMs <= 50); // p80 of ~5 ms reads, raised to minDelayMs
console.log(`30 reads in ${took.toFixed(0)} ms (3 of them slow: 600 ms unhedged); ${won} won by the hedge`);

// Both replicas down: every attempt fails, the fallback answers.
down = true;
assert.equal(await price.execute(readPrice), 70.0);
console.log('both replicas down: fell back to 70.0');
