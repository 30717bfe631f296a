/**
 * The breaker's closed-state success path, beside a bare async call and the breakers of cockatiel 3
 * and opossum 9 (timeout off, so that it times the breaker and not a timer per call). With Redis
 * answering at REDIS_URL, also a breaker sharing its state through Redis: its success path must
 * cost what a local one does, since it never waits on Redis.
 */

import { breaker, consecutiveFailures, countWindow, timeWindow } from '@bulwark/breaker';
import { definePolicy, PASS } from '@bulwark/core';
import { redisBreakerStore } from '@bulwark/breaker/redis';
import { circuitBreaker, ConsecutiveBreaker, CountBreaker, handleAll } from 'cockatiel';
import CircuitBreaker from 'opossum';
import { createClient } from 'redis';

import { compare, compareAllocation, compareCpuTime, type Case, type Suite } from '../harness.js';
import { handWrittenBreaker } from '../tasks.js';

const bare = async (): Promise<number> => 1;

/** A connected client, or undefined when Redis does not answer within a second. */
async function tryRedis(): Promise<ReturnType<typeof createClient> | undefined> {
  const client = createClient({
    url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    socket: { connectTimeout: 1000, reconnectStrategy: false },
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch {
    return undefined;
  }
}

export const breakerSuite: Suite = {
  name: 'breaker',
  run: async (ctx) => {
    const consecutive = breaker({ strategy: consecutiveFailures(5) });
    const counting = breaker({ strategy: countWindow({ size: 100 }) });
    const timed = breaker({ strategy: timeWindow({ windowMs: 10_000, buckets: 10 }) });
    const wrapped = consecutive.wrap(bare);
    const cockatielConsecutive = circuitBreaker(handleAll, {
      halfOpenAfter: 60_000,
      breaker: new ConsecutiveBreaker(5),
    });
    const cockatielCount = circuitBreaker(handleAll, {
      halfOpenAfter: 60_000,
      breaker: new CountBreaker({ threshold: 0.5, size: 100 }),
    });
    const opossum = new CircuitBreaker(bare, { timeout: false, resetTimeout: 60_000 });

    // The floor: a gate that does nothing, through core's runner (what any gate policy costs).
    const emptyGate = definePolicy('empty gate', [{ gate: { enter: () => 0, exit: () => PASS } }]);

    // The calibration: one plain async wrapper (about 1.5x on a quiet machine, see ADR 0001).
    const wrapper = async (): Promise<number> => await bare();
    const byHand = handWrittenBreaker(5);

    const cases: Case[] = [
      { name: 'one async wrapper (calibration)', run: wrapper },
      { name: 'a breaker written by hand, one `then` (calibration)', run: () => byHand(bare) },
      { name: 'an empty gate (core’s floor for a gate)', run: () => emptyGate.execute(bare) },
      { name: 'bulwark consecutiveFailures(5).execute', run: () => consecutive.execute(bare), target: '< 1.5x' },
      { name: 'bulwark consecutiveFailures(5).wrap(fn)(…)', run: wrapped, target: '< 1.5x' },
      { name: 'bulwark countWindow(100).execute', run: () => counting.execute(bare) },
      { name: 'bulwark timeWindow(10 s).execute', run: () => timed.execute(bare) },
      { name: 'cockatiel ConsecutiveBreaker(5).execute', run: () => cockatielConsecutive.execute(bare) },
      { name: 'cockatiel CountBreaker(100).execute', run: () => cockatielCount.execute(bare) },
      { name: 'opossum fire() (timeout off)', run: () => opossum.fire() },
    ];

    const client = await tryRedis();
    const store =
      client !== undefined ? redisBreakerStore(client, { prefix: `bulwark-bench:${process.pid}:` }) : undefined;
    const shared =
      store !== undefined ? breaker({ name: 'bench', strategy: consecutiveFailures(5), store }) : undefined;
    if (shared !== undefined) {
      cases.push({ name: 'bulwark consecutiveFailures(5) shared through Redis', run: () => shared.execute(bare) });
    }
    const baseline = { name: 'bare async call', run: bare };
    try {
      return [
        ...(await compare('breaker', baseline, cases, ctx)),
        ...(await compareCpuTime('breaker cpu, tight loop', baseline, cases, ctx.quick)),
        ...(await compareAllocation(
          'breaker memory',
          baseline,
          cases.map(({ name, run }) => ({ name, run })),
          ctx,
        )),
      ];
    } finally {
      opossum.shutdown();
      shared?.dispose();
      store?.close();
      client?.destroy();
    }
  },
};
