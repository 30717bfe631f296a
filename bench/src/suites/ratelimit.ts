/**
 * The rate limiter: throughput of the Redis store against rate-limiter-flexible on the same Redis
 * (10,000 decisions, 50 in flight, one key whose limit admits them all, then one whose limit refuses
 * most), and the per-call cost of the in-memory limiter against rate-limiter-flexible's.
 */

import { rateLimit, redisStore, slidingWindow, tokenBucket } from '@bulwark/ratelimit';
import { randomBytes } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { createClient } from 'redis';

import { compare, compareRuns, type BenchContext, type Figure, type Suite } from '../harness.js';

const IN_FLIGHT = 50;

/** Runs `n` calls of `call`, `IN_FLIGHT` at a time; refusals count as done. */
async function pump(n: number, call: () => Promise<unknown>): Promise<void> {
  let left = n;
  const worker = async (): Promise<void> => {
    while (left-- > 0) await call().catch(() => undefined);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

async function redisFigures(ctx: BenchContext): Promise<Figure[]> {
  const client = createClient({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch {
    console.log('ratelimit: Redis does not answer; the Redis figures are skipped');
    return [];
  }
  const prefix = `bulwark-bench:${randomBytes(4).toString('hex')}:`;
  const n = ctx.quick ? 500 : 10_000;
  const rounds = ctx.quick ? 1 : 5;
  const figures: Figure[] = [];
  try {
    for (const [label, points] of [
      ['all admitted', 1_000_000],
      ['most refused', 100],
    ] as const) {
      const flexible = new RateLimiterRedis({
        storeClient: client,
        useRedisPackage: true,
        keyPrefix: `${prefix}rlf`,
        points,
        duration: 3600,
      });
      const window = rateLimit({
        name: 'window',
        limits: [slidingWindow({ limit: points, windowMs: 3_600_000 })],
        store: redisStore({ client, prefix, onUnavailable: 'fail-closed' }),
      });
      const bucket = rateLimit({
        name: 'bucket',
        limits: [tokenBucket({ rate: points, intervalMs: 3_600_000, burst: points })],
        store: redisStore({ client, prefix, onUnavailable: 'fail-closed' }),
      });
      const both = rateLimit({
        name: 'both',
        limits: [
          slidingWindow({ limit: points, windowMs: 60_000 }),
          slidingWindow({ limit: points, windowMs: 3_600_000 }),
        ],
        store: redisStore({ client, prefix, onUnavailable: 'fail-closed' }),
      });
      let round = 0;
      const key = (): string => `k${round++}`;
      figures.push(
        ...(await compareRuns(
          `ratelimit on Redis, ${n.toLocaleString('en-US')} decisions, ${label}`,
          {
            name: 'rate-limiter-flexible 11 (fixed window)',
            run: () => {
              const k = key();
              return pump(n, () => flexible.consume(k));
            },
          },
          [
            {
              name: 'bulwark token bucket',
              run: () => {
                const k = key();
                return pump(n, () => bucket.acquire(k));
              },
            },
            {
              name: 'bulwark sliding window (exact)',
              run: () => {
                const k = key();
                return pump(n, () => window.acquire(k));
              },
            },
            {
              name: 'bulwark two sliding windows',
              run: () => {
                const k = key();
                return pump(n, () => both.acquire(k));
              },
            },
          ],
          rounds,
          { unit: 'decisions/s', value: (ms) => n / (ms / 1000), better: 'higher' },
        )),
      );
    }
  } finally {
    const keys = await client.keys(`${prefix}*`);
    for (let i = 0; i < keys.length; i += 1000) await client.del(keys.slice(i, i + 1000));
    client.destroy();
  }
  return figures;
}

function memoryFigures(ctx: BenchContext): Promise<Figure[]> {
  const big = 1_000_000_000;
  const window = rateLimit({ limits: [slidingWindow({ limit: 100_000, windowMs: 1 })] });
  const bucket = rateLimit({ limits: [tokenBucket({ rate: big, intervalMs: 1, burst: big })] });
  const flexible = new RateLimiterMemory({ points: big, duration: 1 });
  const task = async (): Promise<number> => 1;
  return compare(
    'ratelimit in memory: one admitted call',
    { name: 'bare async call', run: task },
    [
      { name: 'bulwark token bucket (execute)', run: () => bucket.execute(task) },
      { name: 'bulwark sliding window (execute)', run: () => window.execute(task) },
      { name: 'rate-limiter-flexible 11 memory (consume)', run: () => flexible.consume('k') },
    ],
    ctx,
  );
}

export const ratelimitSuite: Suite = {
  name: 'ratelimit',
  async run(ctx) {
    return [...(await redisFigures(ctx)), ...(await memoryFigures(ctx))];
  },
};
