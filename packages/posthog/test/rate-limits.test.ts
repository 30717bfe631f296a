// "A burst of 1,000 list calls never draws a 429 from the fake's throttle": the client-side limiters
// queue each bucket's requests under PostHog's published limits, measured by the fake's own DRF
// throttles at their real rates, on the virtual clock.
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { noop } from '@bulwark/core';
import { redisStore } from '@bulwark/ratelimit';
import { redisTestsEnabled, redisUrl, uniquePrefix, VirtualClock } from '@bulwark/testkit';
import { createClient, type RedisClientType } from 'redis';
import { startFakePostHog, type FakePostHog } from '@bulwark/testkit/fake-posthog';

import { posthog, type PostHog } from '../src/index.js';

let fake: FakePostHog | undefined;
afterEach(async () => fake?.close());

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs the clock while `work` is pending, moving it only while nothing is `busy` (no request on the wire). */
async function runWhile<A>(clock: VirtualClock, busy: () => boolean, work: Promise<A>): Promise<A> {
  let done = false;
  const tracked = work.finally(() => (done = true));
  tracked.catch(() => undefined);
  while (!done) {
    await tick();
    if (busy()) continue;
    if (!done) await clock.next();
  }
  return tracked;
}

describe('client-side rate limits', () => {
  it.each([
    ['insights', 'analytics', 240],
    ['cohorts', 'crud', 480],
  ] as const)(
    'a burst of 1,000 %s list calls (%s bucket) draws no 429 and takes the time the limits imply',
    async (kind, _bucket, perMinute) => {
      const clock = new VirtualClock(Date.UTC(2026, 0, 1));
      fake = await startFakePostHog({ clock, entities: { [kind]: 5 } });
      const ph: PostHog = posthog({ personalApiKey: fake.personalApiKey, apiHost: fake.apiUrl, clock });
      const started = clock.now();
      const server = fake;
      const lists = await runWhile(
        clock,
        () => ph.stats.activeRequests > 0 || server.stats.inFlight > 0,
        Promise.all(Array.from({ length: 1000 }, () => ph.listObjects(kind))),
      );
      expect(lists.every((rows) => rows.length === 5)).toBe(true);
      expect(fake.stats.throttled).toBe(0);
      expect(fake.stats.answers.get('api:429')).toBeUndefined();
      expect(fake.stats.answers.get('api:200')).toBe(1000);
      // The limiter spreads them out, no more than the published rate (plus its margin) allows.
      const minutes = (clock.now() - started) / 60_000;
      expect(minutes).toBeGreaterThanOrEqual(Math.floor(999 / perMinute));
      expect(minutes).toBeLessThan(Math.ceil(1000 / perMinute) + 1);
    },
    60_000,
  );

  it('without the client-side limits, the same burst is throttled by the fake', async () => {
    const clock = new VirtualClock();
    fake = await startFakePostHog({ clock });
    // Without the default retry too: each 429 comes back as it was sent.
    const ph = posthog({
      personalApiKey: fake.personalApiKey,
      apiHost: fake.apiUrl,
      clock,
      rateLimits: false,
      apiPolicy: noop,
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 300 }, () => ph.listObjects('insights')));
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(60);
    expect(fake.stats.throttled).toBe(60);
  });

  it('runs at most three HogQL queries at once, the rest in order', async () => {
    const clock = new VirtualClock();
    fake = await startFakePostHog({ clock });
    const ph = posthog({ personalApiKey: fake.personalApiKey, apiHost: fake.apiUrl, clock });
    fake.faults.next('api', { kind: 'delay', ms: 1000 }, { path: '/api/projects/@current/query/', times: 10 });
    const queries = Array.from({ length: 10 }, () => ph.query('select event from events'));
    let peak = 0;
    for (let i = 0; i < 100 && fake.stats.answers.get('api:200') !== 10; i++) {
      await tick();
      await tick();
      peak = Math.max(peak, fake.stats.inFlight);
      await clock.advance(100);
    }
    await Promise.all(queries);
    expect(peak).toBe(3);
    const health = ph.components.map((c) => [c.name, c.health().status]);
    expect(health).toEqual([
      ['posthog.ingestion', 'healthy'],
      ['posthog.api', 'healthy'],
      ['posthog.analytics', 'healthy'],
      ['posthog.query', 'healthy'],
      ['posthog.crud', 'healthy'],
      ['posthog.queries', 'healthy'],
    ]);
  });
});

const describeRedis = redisTestsEnabled() ? describe : describe.skip;

describeRedis('rate limits shared through Redis', () => {
  const prefix = uniquePrefix('posthog');
  const clients: RedisClientType[] = [];
  afterAll(async () => {
    const [first] = clients;
    if (first !== undefined) {
      const keys = await first.keys(`${prefix}*`);
      if (keys.length > 0) await first.del(keys);
    }
    for (const client of clients) client.destroy();
  });

  it('two drivers with their own limiters draw from one budget: 1,000 calls between them, no 429', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1));
    fake = await startFakePostHog({ clock, throttleScope: 'project' });
    const drivers: PostHog[] = [];
    for (let i = 0; i < 2; i++) {
      const client: RedisClientType = createClient({ url: redisUrl() });
      await client.connect();
      clients.push(client);
      drivers.push(
        posthog({
          personalApiKey: fake.personalApiKey,
          apiHost: fake.apiUrl,
          clock,
          // A burst of 1,000 decisions queues in Redis: give each more than the default second.
          rateLimitStore: redisStore({
            client,
            prefix,
            time: 'limiter',
            onUnavailable: 'fail-closed',
            timeoutMs: 20_000,
          }),
        }),
      );
    }
    const [a, b] = drivers as [PostHog, PostHog];
    const calls = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? a : b).listObjects('persons'));
    await runWhile(
      clock,
      () => a.stats.activeRequests + b.stats.activeRequests + fake!.stats.inFlight > 0,
      Promise.all(calls),
    );
    expect(fake.stats.throttled).toBe(0);
    expect(fake.stats.answers.get('api:200')).toBe(1000);
  }, 60_000);
});
