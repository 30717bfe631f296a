import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { redisTestsEnabled, redisUrl, startPrivateRedis, uniquePrefix, untilIo, VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';
import { createClient, type RedisClientType } from 'redis';

import {
  isRateLimitedError,
  memoryStore,
  rateLimit,
  redisStore,
  slidingWindow,
  tokenBucket,
  type RateLimitEvent,
} from '../src/index.js';

const describeRedis = redisTestsEnabled() ? describe : describe.skip;

const noHooks = { name: 'test', onError: () => undefined, onRecover: () => undefined };

/** Whether `times` (sorted) ever has more than `limit` in a window `[t, t + windowMs)`. */
function worstWindow(times: readonly number[], windowMs: number): number {
  let worst = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while ((times[j] as number) - (times[i] as number) >= windowMs) i++;
    worst = Math.max(worst, j - i + 1);
  }
  return worst;
}

describeRedis('redisStore on the shared Redis', () => {
  const client: RedisClientType = createClient({ url: redisUrl() });
  const prefix = uniquePrefix('ratelimit');

  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(keys);
    client.destroy();
  });

  it('enforces 10 per minute and 100 per hour with exact retryAfterMs (on the limiter clock)', async () => {
    const clock = new VirtualClock(1_000_000);
    const limiter = rateLimit({
      limits: [slidingWindow({ limit: 10, windowMs: 60_000 }), slidingWindow({ limit: 100, windowMs: 3_600_000 })],
      store: redisStore({ client, prefix, time: 'limiter', onUnavailable: 'fail-closed' }),
      name: 'flask',
      clock,
    });
    let admitted = 0;
    let firstRetryAfter: number | undefined;
    for (let t = 0; t < 150; t++) {
      await limiter
        .acquire('client-1')
        .then(() => admitted++)
        .catch((error: unknown) => {
          if (!isRateLimitedError(error)) throw error;
          firstRetryAfter ??= error.retryAfterMs;
        });
      await clock.advance(2_000);
    }
    // 300 s at one call per 2 s: 10 per minute lets 10 + 10 + 10 + 10 + 10 through.
    expect(admitted).toBe(50);
    expect(firstRetryAfter).toBe(40_000);
  });

  it('refuses with a RateLimitedError whose stack is its first line alone, leaving the stack limit as it was', async () => {
    const limiter = rateLimit({
      limits: [slidingWindow({ limit: 1, windowMs: 60_000 })],
      store: redisStore({ client, prefix, onUnavailable: 'fail-closed' }),
      name: 'stackless',
    });
    const limitBefore = Error.stackTraceLimit;
    await limiter.acquire('k');
    const refusal = await limiter.acquire('k').catch((error: unknown) => error);
    expect(isRateLimitedError(refusal)).toBe(true);
    expect((refusal as Error).stack).toBe(`RateLimited: ${(refusal as Error).message}`);
    expect(Error.stackTraceLimit).toBe(limitBefore);
  });

  it('decides alike with a script written for its limits and with the general one (more than 32 limits)', async () => {
    const clock = new VirtualClock(2_000_000);
    const decisions = async (name: string, limits: Parameters<typeof rateLimit>[0]['limits']): Promise<number[]> => {
      const store = redisStore({ client, prefix, time: 'limiter', onUnavailable: 'fail-closed' }).open(limits, {
        ...noHooks,
        name,
      });
      const waits: number[] = [];
      for (let i = 0; i < 4; i++) {
        waits.push(await store.reserve('k', clock.now(), 0));
        await clock.advance(100);
      }
      return waits;
    };
    const binding = [
      tokenBucket({ rate: 1, intervalMs: 1000, burst: 2 }),
      slidingWindow({ limit: 3, windowMs: 60_000 }),
    ];
    const loose = Array.from({ length: 40 }, (_, i) => slidingWindow({ limit: 100 + i, windowMs: 1000 }));
    const few = await decisions('few', binding);
    expect(few).toEqual([0, 0, -800, -700]);
    expect(await decisions('many', [...binding, ...loose])).toEqual(few);
  });

  it('decides exactly as the in-memory store, fractional waits included (compiled and general scripts)', async () => {
    // Redis expires keys on its own wall clock, however far the limiter's time has moved: every
    // window and token here outlives a run by far, so no key expires under a run.
    const interval = fc.integer({ min: 10_000, max: 30_000 });
    const bucket = fc
      .record({ rate: fc.integer({ min: 1, max: 7 }), intervalMs: interval, burst: fc.integer({ min: 1, max: 3 }) })
      .map((o) => tokenBucket(o));
    const window = fc
      .record({ limit: fc.integer({ min: 1, max: 4 }), windowMs: interval })
      .map((o) => slidingWindow(o));
    const limitsArb = fc.array(fc.oneof(bucket, window), { minLength: 1, maxLength: 3 });
    // Limiter times with fractions, as a virtual or performance clock gives them.
    const gaps = fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 5000, noNaN: true })), {
      minLength: 1,
      maxLength: 12,
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(limitsArb, gaps, fc.integer({ min: 0, max: 50_000 }), async (limits, steps, maxWaitMs) => {
        run++;
        // 33 limits (one never binding) take the general script.
        const general = [
          ...limits,
          ...Array.from({ length: 32 }, () => slidingWindow({ limit: 1_000_000, windowMs: 1 })),
        ];
        const memory = memoryStore().open(limits, noHooks);
        const open = (name: string, of: typeof limits) =>
          redisStore({ client, prefix, time: 'limiter', onUnavailable: 'fail-closed' }).open(of, { ...noHooks, name });
        const [compiled, full] = [open(`laws-${run}`, limits), open(`laws-general-${run}`, general)];
        let now = 1_000_000;
        for (const gap of steps) {
          now += gap;
          const expected = memory.reserve('k', now, maxWaitMs);
          expect([await compiled.reserve('k', now, maxWaitMs), await full.reserve('k', now, maxWaitMs)]).toEqual([
            expected,
            expected,
          ]);
        }
      }),
      {
        numRuns: 40,
        examples: [
          [[tokenBucket({ rate: 3, burst: 1 })], [0, 0, 0, 0], 60_000], // waits of 333.33… ms
          [[tokenBucket({ rate: 1, intervalMs: 10_000, burst: 1 })], [0, 9999.5], 0], // refused: 1 ms
          [[tokenBucket({ rate: 1, intervalMs: 10_000, burst: 1 })], [0, 9999.5], 1], // a wait of 0.5 ms
        ],
      },
    );
  }, 60_000);

  it('keeps a token bucket atomically and gives its keys TTLs', async () => {
    const clock = new VirtualClock(5_000);
    const store = redisStore({ client, prefix, time: 'limiter', onUnavailable: 'fail-closed' }).open(
      [tokenBucket({ rate: 1, intervalMs: 1000, burst: 3 }), slidingWindow({ limit: 5, windowMs: 10_000 })],
      { ...noHooks, name: 'ttl' },
    );
    const waits = [];
    for (let i = 0; i < 4; i++) waits.push(await store.reserve('k', clock.now(), 0));
    expect(waits).toEqual([0, 0, 0, -1000]);
    const ttlHash = await client.pTTL(`${prefix}ttl:{k}:h`);
    const ttlSet = await client.pTTL(`${prefix}ttl:{k}:z`);
    expect(ttlHash).toBeGreaterThan(0);
    expect(ttlHash).toBeLessThanOrEqual(3_001);
    expect(ttlSet).toBeGreaterThan(9_000);
    expect(ttlSet).toBeLessThanOrEqual(10_001);
    expect(await client.zCard(`${prefix}ttl:{k}:z`)).toBe(3);
  });

  it('waits in FIFO order across limiters sharing the key (wait mode on Redis reservations)', async () => {
    const clock = new VirtualClock(0);
    const make = (): ReturnType<typeof rateLimit> =>
      rateLimit({
        limits: [slidingWindow({ limit: 2, windowMs: 1000 })],
        mode: 'wait',
        store: redisStore({ client, prefix, time: 'limiter', onUnavailable: 'fail-closed' }),
        name: 'fifo',
        clock,
      });
    const [a, b] = [make(), make()];
    const starts: string[] = [];
    const calls = [a, b, a, b, a, b].map((limiter, i) =>
      limiter.execute(async () => void starts.push(`${i}@${clock.now()}`)),
    );
    // Redis answers over the network, which the virtual clock does not wait for: let the four
    // reservations that must wait arrive (their sleeps are timers) before moving time.
    await untilIo(() => clock.pending >= 4);
    await clock.run(Promise.all(calls));
    expect(starts).toEqual(['0@0', '1@0', '2@1000', '3@1000', '4@2000', '5@2000']);
  });

  it('several processes hammering one key never admit more than the limit in any window', async () => {
    const key = 'shared';
    const script = join(__dirname, 'fixtures', 'hammer.ts');
    const run = (): Promise<{ admitted: number[]; refused: number }> =>
      new Promise((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', '--conditions=@bulwark/source', script, redisUrl(), prefix, key, '1500'],
          { cwd: join(__dirname, '..'), timeout: 60_000 },
          (error, stdout, stderr) => {
            if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
            else
              resolve(JSON.parse(stdout.trim().split('\n').pop() as string) as { admitted: number[]; refused: number });
          },
        );
      });
    const results = await Promise.all([run(), run(), run(), run()]);
    const times = results.flatMap((r) => r.admitted).sort((x, y) => x - y);
    const refused = results.reduce((sum, r) => sum + r.refused, 0);
    expect(refused).toBeGreaterThan(0);
    expect(times.length).toBeGreaterThan(20);
    expect(worstWindow(times, 300)).toBeLessThanOrEqual(20);
    expect(worstWindow(times, 1000)).toBeLessThanOrEqual(50);
    // Every process got some: the limit is shared, not per process.
    for (const r of results) expect(r.admitted.length + r.refused).toBeGreaterThan(0);
  }, 90_000);
});

describeRedis('redisStore when the caller aborts while Redis decides', () => {
  it('acquire rejects at once, a call when the answer comes; the call never runs, though Redis admits both and their slots are spent', async () => {
    const redis = await startPrivateRedis();
    const client: RedisClientType = createClient({ url: redis.url });
    const pauser: RedisClientType = createClient({ url: redis.url });
    await Promise.all([client.connect(), pauser.connect()]);
    try {
      // The store's timeout runs on the virtual clock: it never fires while Redis is paused.
      const clock = new VirtualClock(1_000_000);
      const limiter = rateLimit({
        limits: [slidingWindow({ limit: 4, windowMs: 60_000 })],
        clock,
        store: redisStore({ client, time: 'limiter', onUnavailable: 'fail-closed', clock }),
      });
      await limiter.acquire('k'); // loads the script
      // Scripts wait while Redis is paused for writes; the pauser's own commands do not.
      await pauser.sendCommand(['CLIENT', 'PAUSE', '60000', 'WRITE']);
      const controller = new AbortController();
      let ran = false;
      const outcomes: unknown[] = [];
      const record = (promise: Promise<unknown>): void =>
        void promise.then(
          () => outcomes.push('admitted'),
          (error: unknown) => outcomes.push(error),
        );
      record(limiter.acquire('k', controller.signal));
      record(limiter.forKey('k').execute(async () => (ran = true), controller.signal));
      await new Promise((resolve) => setImmediate(resolve)); // the decisions are written to Redis
      controller.abort('gave up');
      // acquire raced the answer against its signal; the call checks its scope when the answer comes.
      await untilIo(() => outcomes.length === 1);
      expect(outcomes).toEqual(['gave up']);

      await pauser.sendCommand(['CLIENT', 'UNPAUSE']);
      await untilIo(() => outcomes.length === 2);
      expect(outcomes).toEqual(['gave up', 'gave up']);
      // Answered in order on the one connection: the aborted decisions were answered before this one.
      await expect(limiter.acquire('k')).resolves.toBeUndefined();
      expect(ran).toBe(false);
      // Redis admitted both aborted calls: their slots are spent (4 = 1 + 2 aborted + 1).
      await expect(limiter.acquire('k')).rejects.toMatchObject({ reason: 'limit' });
    } finally {
      client.destroy();
      pauser.destroy();
      await redis.stop();
    }
  }, 30_000);
});

describeRedis('redisStore when Redis stops and comes back', () => {
  it('fails open, closed or local as configured, with events, and recovers', async () => {
    const redis = await startPrivateRedis();
    const client: RedisClientType = createClient({
      url: redis.url,
      socket: { reconnectStrategy: () => 50 },
      disableOfflineQueue: true,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const limits = [slidingWindow({ limit: 2, windowMs: 60_000 })];
      const make = (onUnavailable: 'fail-open' | 'fail-closed' | 'local', name: string) =>
        rateLimit({ limits, name, store: redisStore({ client, onUnavailable, timeoutMs: 500 }) });
      const open = make('fail-open', 'open');
      const closed = make('fail-closed', 'closed');
      const local = make('local', 'local');
      const events: RateLimitEvent[] = [];
      for (const limiter of [open, closed, local]) limiter.onEvent((e) => events.push(e));

      await open.acquire('k');
      await open.acquire('k');
      await expect(open.acquire('k')).rejects.toMatchObject({ reason: 'limit' });

      await redis.stop();
      // Fail open: admitted, although the limit was reached before Redis stopped.
      await expect(open.acquire('k')).resolves.toBeUndefined();
      expect(open.health().status).toBe('degraded');
      // Fail closed: refused, with the store's error as the cause.
      const refused = await closed.acquire('k').catch((error: unknown) => error);
      expect(refused).toMatchObject({ _tag: 'RateLimited', reason: 'store-unavailable', retryAfterMs: 1000 });
      expect(closed.health().status).toBe('unhealthy');
      // Local: the limits hold in this process.
      await local.acquire('k');
      await local.acquire('k');
      await expect(local.acquire('k')).rejects.toMatchObject({ reason: 'limit' });
      expect(events.filter((e) => e.type === 'store-error').map((e) => (e as { failOpen: boolean }).failOpen)).toEqual([
        true,
        false,
        true,
        true,
        true,
      ]);

      await redis.start();
      for (let i = 0; i < 100 && !client.isReady; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(client.isReady).toBe(true);
      // Redis came back empty: the script is reloaded (NOSCRIPT) and the limits start afresh.
      await expect(closed.acquire('k')).resolves.toBeUndefined();
      await expect(open.acquire('k')).resolves.toBeUndefined();
      expect(closed.health().status).toBe('healthy');
      expect(events.filter((e) => e.type === 'store-recovered').map((e) => e.policy)).toEqual(['closed', 'open']);
    } finally {
      client.destroy();
      await redis.stop();
    }
  }, 30_000);
});
