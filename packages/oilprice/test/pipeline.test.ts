// The client under its default pipeline, against the fake OilPriceAPI over real HTTP, with one virtual
// clock for the fake and every policy: each fault of the profile must end in the typed outcome the
// pipeline promises (retried and answered, refused without a retry, served from cache, failed fast).
import { afterEach, describe, expect, it } from '@jest/globals';
import { definePolicy, isBulwarkError, PASS, type Policy, type PolicyEvent } from '@bulwark/core';
import { metrics } from '@bulwark/telemetry';
import { redisTestsEnabled, redisUrl, uniquePrefix, VirtualClock, rejectionOf } from '@bulwark/testkit';
import {
  seededRandom,
  startFakeOilPrice,
  type Fault,
  type FakeOilPrice,
  type FakeOilPriceOptions,
} from '@bulwark/testkit/fake-oilprice';

import {
  defaultPipeline,
  isOilPriceApiError,
  isOilPriceNetworkError,
  isOilPriceResponseError,
  OilPriceClient,
  PIPELINE_PARTS,
  type DefaultPipelineOptions,
  type OilPricePipeline,
  type PartName,
} from '../src/index.js';
import { closeLater, closeOpened } from './against-fake.js';
import { drive } from './drive.js';

afterEach(closeOpened);

interface Setup {
  readonly fake: FakeOilPrice;
  readonly client: OilPriceClient;
  readonly clock: VirtualClock;
  readonly events: PolicyEvent[];
  /** Runs a call to its end, moving the clock as it needs. */
  run<A>(call: Promise<A>): Promise<A>;
  /** Runs a call that must fail, and returns its error. */
  fail(call: Promise<unknown>): Promise<unknown>;
}

async function setup(
  fakeOptions: FakeOilPriceOptions = {},
  pipelineOptions: Omit<DefaultPipelineOptions, 'clock' | 'random'> = {},
  clientOptions: { readonly connections?: number } = {},
): Promise<Setup> {
  const clock = new VirtualClock(Date.UTC(2026, 0, 15, 12));
  const fake = await startFakeOilPrice({ clock, ...fakeOptions });
  closeLater(fake);
  // In memory unless a test says otherwise, whatever REDIS_URL says.
  const policy = defaultPipeline({ clock, random: seededRandom(42), redisUrl: '', ...pipelineOptions });
  const client = new OilPriceClient({ apiKey: fake.apiKey, baseUrl: fake.url, policy, clock, ...clientOptions });
  closeLater(client);
  const events: PolicyEvent[] = [];
  policy.onEvent((event) => events.push(event));
  const run = <A>(call: Promise<A>): Promise<A> => drive(call, clock, fake, client);
  const fail = (call: Promise<unknown>): Promise<unknown> => rejectionOf(run(call));
  return { fake, client, clock, events, run, fail };
}

const tagOf = (error: unknown): string | undefined => (isBulwarkError(error) ? error._tag : undefined);

// A part whose policy package is not in this build has no default; its tests say so and are skipped
// (they run as soon as the package lands and its default is wired in src/pipeline.ts).
const unavailable = new Set<PartName>(defaultPipeline({ telemetry: false, redisUrl: '' }).unavailable);
const needs = (...parts: PartName[]): typeof describe => {
  const missing = parts.filter((part) => unavailable.has(part));
  if (missing.length === 0) return describe;
  return ((name: string, fn: () => void) =>
    describe.skip(`${name} [not in this build: ${missing.join(', ')}]`, fn)) as typeof describe;
};

needs('retry')('retry', () => {
  it.each<[string, Fault]>([
    ['a 500', { kind: 'server-error', status: 500 }],
    ['a 503', { kind: 'server-error', status: 503 }],
    ['a 504 with a minimal body', { kind: 'server-error', status: 504, body: 'minimal' }],
    ['a 502 HTML page', { kind: 'bad-gateway-html' }],
    ['a connection reset', { kind: 'connection-reset' }],
    ['a reset mid-body', { kind: 'connection-reset', phase: 'mid-body' }],
    ['cut-off JSON', { kind: 'malformed-json' }],
    ['a 429 burst', { kind: 'rate-limit', retryAfterS: 1 }],
    [
      'the hourly circuit breaker with a short Retry-After',
      { kind: 'quota-exhausted', window: 'hourly_circuit_breaker', retryAfterS: 2 },
    ],
  ])('retries %s and answers', async (_, fault) => {
    const { fake, client, run } = await setup();
    fake.inject(fault, fault);
    const price = await run(client.latest('WTI_USD'));
    expect(price.price).toBe(fake.priceAt('WTI_USD'));
    expect(fake.requests).toHaveLength(3);
  });

  it('waits with jitter: the two waits of one call differ from a bare doubling', async () => {
    const { fake, client, run } = await setup();
    fake.inject({ kind: 'server-error' }, { kind: 'server-error' });
    await run(client.latest('WTI_USD'));
    const [a, b, c] = fake.requests.map((r) => r.atMs);
    const first = (b as number) - (a as number);
    const second = (c as number) - (b as number);
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(second).not.toBe(2 * first);
  });

  it('waits at least what Retry-After asks', async () => {
    const { fake, client, run } = await setup();
    fake.inject({ kind: 'rate-limit', retryAfterS: 7 });
    await run(client.latest('WTI_USD'));
    const [first, second] = fake.requests;
    expect((second?.atMs ?? 0) - (first?.atMs ?? 0)).toBeGreaterThanOrEqual(7000);
  });

  it.each(['daily_counter', 'monthly_counter', 'trial_counter'] as const)(
    'never retries a quota exhausted in the %s window',
    async (window) => {
      const { fake, client, fail } = await setup();
      fake.inject({ kind: 'quota-exhausted', window });
      const error = await fail(client.latest('WTI_USD'));
      expect(isOilPriceApiError(error) && error.quotaExhausted).toBe(true);
      expect(fake.requests).toHaveLength(1);
    },
  );

  it('never retries a 402', async () => {
    const { fake, client, fail } = await setup();
    fake.inject({ kind: 'quota-exhausted', status: 402 });
    expect(await fail(client.latest('WTI_USD'))).toMatchObject({ kind: 'payment-required' });
    expect(fake.requests).toHaveLength(1);
  });

  it('gives up at once on a Retry-After longer than 60 s', async () => {
    const { fake, client, fail } = await setup();
    fake.inject({ kind: 'quota-exhausted', window: 'hourly_circuit_breaker' });
    expect(await fail(client.latest('WTI_USD'))).toMatchObject({ kind: 'rate-limited', retryAfterMs: 1_050_000 });
    expect(fake.requests).toHaveLength(1);
  });

  it('never retries other 4xx, and they do not trip the breaker', async () => {
    const { fake, client, fail, run } = await setup();
    for (let i = 0; i < 8; i++) {
      expect(await fail(client.latest(`NOT_A_CODE_${i}`))).toMatchObject({ kind: 'bad-request' });
    }
    expect(fake.requests).toHaveLength(8);
    expect((await run(client.latest('WTI_USD'))).code).toBe('WTI_USD');
  });

  it('never retries wrong types', async () => {
    const { fake, client, fail } = await setup();
    fake.inject({ kind: 'wrong-types', variant: 'price-string' });
    const error = await fail(client.latest('WTI_USD'));
    expect(isOilPriceResponseError(error) && error.problem).toBe('unexpected-shape');
    expect(fake.requests).toHaveLength(1);
  });

  it('gives up after 3 attempts with the last error', async () => {
    const { fake, client, fail } = await setup();
    fake.inject({ kind: 'server-error' }, { kind: 'server-error' }, { kind: 'connection-reset' });
    expect(isOilPriceNetworkError(await fail(client.latest('WTI_USD')))).toBe(true);
    expect(fake.requests).toHaveLength(3);
  });
});

needs('timeout', 'retry')('timeout', () => {
  it('ends an attempt that hangs at 15 s, and the retry answers', async () => {
    const { fake, client, run } = await setup();
    fake.inject({ kind: 'hang' });
    const price = await run(client.latest('WTI_USD'));
    expect(price.code).toBe('WTI_USD');
    const [first, second] = fake.requests;
    expect((second?.atMs ?? 0) - (first?.atMs ?? 0)).toBeGreaterThanOrEqual(15_000);
  });

  it('ends slow answers at 15 s each: three of them fail with a timeout', async () => {
    const { fake, client, fail, clock } = await setup();
    const slow: Fault = { kind: 'latency', ms: 25_000 };
    fake.inject(slow, slow, slow);
    const started = clock.now();
    expect(tagOf(await fail(client.latest('WTI_USD')))).toBe('Timeout');
    expect(fake.requests).toHaveLength(3);
    expect(clock.now() - started).toBeLessThan(3 * 25_000);
  });
});

needs('validate')('validation', () => {
  it('rejects an implausible price with a data-quality error, and does not cache it', async () => {
    const { fake, client, fail, run } = await setup();
    fake.inject({ kind: 'implausible-price', factor: 10 });
    const error = await fail(client.latest('WTI_USD'));
    expect(tagOf(error)).toBe('DataQuality');
    expect(error).toMatchObject({ rule: 'price-range', key: 'WTI_USD', bound: { min: -50, max: 500 } });
    const price = await run(client.latest('WTI_USD'));
    expect(price.price).toBe(fake.priceAt('WTI_USD'));
    expect(fake.requests).toHaveLength(2);
  });

  it('rejects a spike against the last good price of the code', async () => {
    const { fake, client, fail, run, clock } = await setup();
    await run(client.latest('BRENT_CRUDE_USD'));
    await clock.advance(6 * 60_000); // past the cache's TTL
    fake.inject({ kind: 'implausible-price', factor: 1.4 }); // within crude's bounds, but +40 %
    const error = await fail(client.latest('BRENT_CRUDE_USD'));
    expect(tagOf(error)).toBe('DataQuality');
    expect(error).toMatchObject({ rule: 'price-spike', key: 'BRENT_CRUDE_USD' });
  });

  it('rejects implausible rows of a series', async () => {
    const { fake, client, fail } = await setup();
    fake.inject({ kind: 'implausible-price', factor: 20 });
    const error = await fail(client.history('WTI_USD', 'week', { interval: 'daily' }));
    expect(error).toMatchObject({
      _tag: 'DataQuality',
      rule: 'price-range',
      reason: expect.stringMatching(/^item 0:/),
    });
  });
});

needs('cache')('cache', () => {
  it('answers a repeated call from cache within 5 minutes', async () => {
    const { fake, client, run, clock } = await setup();
    const first = await run(client.latest('WTI_USD'));
    await clock.advance(4 * 60_000);
    expect(await run(client.latest('WTI_USD'))).toEqual(first);
    expect(fake.requests).toHaveLength(1);
    await clock.advance(2 * 60_000);
    await run(client.latest('WTI_USD'));
    expect(fake.requests).toHaveLength(2);
  });

  it('serves a stale answer when the API fails, up to an hour, then a CacheExpired error', async () => {
    const { fake, client, run, fail, clock, events } = await setup({}, { breaker: false });
    const first = await run(client.latest('WTI_USD'));
    fake.setProfile({ outages: [{ startMs: 0, durationMs: 10 * 3_600_000, fault: { kind: 'connection-reset' } }] });
    await clock.advance(10 * 60_000);
    expect(await run(client.latest('WTI_USD'))).toEqual(first);
    expect(events.some((e) => e.type === 'stale')).toBe(true);
    await clock.advance(55 * 60_000);
    const error = await fail(client.latest('WTI_USD'));
    expect(tagOf(error)).toBe('CacheExpired');
    expect(isOilPriceNetworkError((error as Error).cause)).toBe(true);
  });

  it('shares one origin request among concurrent misses of one key', async () => {
    const { fake, client, run } = await setup({ profile: { latency: { kind: 'constant', ms: 500 } } });
    const prices = await run(Promise.all(Array.from({ length: 20 }, () => client.latest('WTI_USD'))));
    expect(new Set(prices.map((p) => p.price)).size).toBe(1);
    expect(fake.requests).toHaveLength(1);
  });
});

const describeRedis = redisTestsEnabled() ? needs('cache') : describe.skip;

describeRedis('cache in Redis', () => {
  // On the real clock: Redis answers over real I/O, which the virtual-clock driver cannot see.
  it('shares answers between two clients (two processes) through Redis, under its namespace', async () => {
    const namespace = uniquePrefix('oilprice').slice(0, -1);
    const fakes = [await startFakeOilPrice(), await startFakeOilPrice()];
    closeLater(...fakes);
    const pipelines = fakes.map(() => defaultPipeline({ redisUrl: redisUrl(), namespace }));
    const clients = fakes.map(
      (fake, i) =>
        new OilPriceClient({ apiKey: fake.apiKey, baseUrl: fake.url, policy: pipelines[i] as OilPricePipeline }),
    );
    closeLater(...clients);
    try {
      const answer = await (clients[0] as OilPriceClient).latest('WTI_USD');
      expect(await (clients[1] as OilPriceClient).latest('WTI_USD')).toEqual(answer);
      expect(fakes[0]?.requests).toHaveLength(1);
      expect(fakes[1]?.requests).toHaveLength(0);
    } finally {
      await (pipelines[0]?.parts.cache as { invalidateAll(): Promise<void> } | undefined)?.invalidateAll();
      await Promise.all(pipelines.map((p) => p.close()));
    }
  });
});

needs('breaker')('breaker', () => {
  it('opens after 5 failures in a row during an outage, fails fast without requests, probes after 60 s and closes', async () => {
    const { fake, client, fail, run, clock, events } = await setup(
      { profile: { outages: [{ startMs: 0, durationMs: 50_000, fault: { kind: 'connection-reset' } }] } },
      { cache: false },
    );
    // With or without a retry in the pipeline, exactly 5 requests fail before the breaker opens.
    let error: unknown;
    for (let call = 0; call < 10 && tagOf(error) !== 'BrokenCircuit'; call++)
      error = await fail(client.latest('WTI_USD'));
    expect(tagOf(error)).toBe('BrokenCircuit');
    expect(fake.requests).toHaveLength(5);
    expect(tagOf(await fail(client.latest('BRENT_CRUDE_USD')))).toBe('BrokenCircuit');
    expect(fake.requests).toHaveLength(5);
    await clock.advance(60_000); // the outage is over, and the breaker may probe
    for (const code of ['WTI_USD', 'BRENT_CRUDE_USD', 'DIESEL_USD', 'COAL_USD']) {
      expect((await run(client.latest(code))).code).toBe(code);
    }
    expect(events.filter((e) => e.type === 'state-change').map((e) => (e as unknown as { to: string }).to)).toEqual([
      'open',
      'half-open',
      'closed',
    ]);
  });

  it('does not count refusals: 4xx and an exhausted quota leave it closed', async () => {
    const { fake, client, fail, run } = await setup({}, { cache: false });
    for (let i = 0; i < 6; i++)
      expect(await fail(client.latest(`NOT_A_CODE_${i}`))).toMatchObject({ kind: 'bad-request' });
    for (let i = 0; i < 6; i++) {
      fake.inject({ kind: 'quota-exhausted' });
      expect(await fail(client.latest('WTI_USD'))).toMatchObject({ kind: 'quota-exhausted' });
    }
    expect((await run(client.latest('WTI_USD'))).code).toBe('WTI_USD');
  });
});

needs('bulkhead')('bulkhead and pool', () => {
  it('keeps at most 100 requests in flight, even over a larger pool; the rest wait their turn and all answer', async () => {
    const { fake, client, run, events } = await setup(
      { profile: { latency: { kind: 'constant', ms: 1000 } }, rateLimit: false },
      { cache: false },
      { connections: 300 },
    );
    const to = Date.UTC(2026, 0, 1);
    const calls = Array.from({ length: 150 }, (_, i) =>
      client.history(
        'WTI_USD',
        { from: new Date(to - (i + 2) * 86_400_000), to: new Date(to) },
        { interval: 'daily', perPage: 1000 },
      ),
    );
    const results = await run(Promise.all(calls));
    expect(results.map((rows) => rows.length)).toEqual(Array.from({ length: 150 }, (_, i) => i + 3));
    expect(fake.requests).toHaveLength(150);
    // Every answer takes 1 s: the first 100 arrive at once, the other 50 only as slots free.
    expect(fake.requests.filter((r) => r.atMs === 0)).toHaveLength(100);
    expect(fake.requests.filter((r) => r.atMs === 1000)).toHaveLength(50);
    expect(events.filter((e) => e.type === 'queued')).toHaveLength(50);
  });
});

describe('secrets', () => {
  it('puts the key in no event, metric or error of the pipeline or the client', async () => {
    const { fake, client, run, events } = await setup();
    const transport: unknown[] = [];
    client.onEvent((event) => transport.push(event));
    const errors: unknown[] = [];
    const faults: Fault[] = [
      { kind: 'server-error' },
      { kind: 'rate-limit', retryAfterS: 1 },
      { kind: 'quota-exhausted' },
      { kind: 'respond', status: 401, body: JSON.stringify({ message: `bad key ${fake.apiKey}` }) },
    ];
    for (const [i, fault] of faults.entries()) {
      fake.inject(fault);
      // With a retry in the pipeline the first two calls end well; either way, keep what came back.
      await run(client.latest(['WTI_USD', 'BRENT_CRUDE_USD', 'DIESEL_USD', 'COAL_USD'][i] as string)).catch(
        (error: unknown) => errors.push(error),
      );
    }
    const text = JSON.stringify([...events, ...transport, ...errors], (key, value: unknown) =>
      key === 'context'
        ? undefined
        : value instanceof Error
          ? { ...value, message: value.message, stack: value.stack }
          : value,
    );
    expect(transport.length).toBeGreaterThanOrEqual(3);
    expect(text).toContain('bad key ***');
    expect(text).not.toContain(fake.apiKey);
    expect((client.policy as OilPricePipeline).metrics?.report()).not.toContain(fake.apiKey);
  });
});

needs('retry')('without retry', () => {
  it('a 5xx reaches the caller at once', async () => {
    const { fake, client, fail } = await setup({}, { retry: false });
    fake.inject({ kind: 'server-error' });
    expect(await fail(client.latest('WTI_USD'))).toMatchObject({ kind: 'server' });
    expect(fake.requests).toHaveLength(1);
  });
});

needs('validate')('without validation', () => {
  it('an implausible price comes through', async () => {
    const { fake, client, run } = await setup({}, { validate: false });
    fake.inject({ kind: 'implausible-price', factor: 10 });
    expect((await run(client.latest('WTI_USD'))).price).toBeCloseTo(fake.priceAt('WTI_USD') * 10, 1);
  });
});

describe('composition', () => {
  it('holds the parts of this build in order, and only those not left out', () => {
    const all = defaultPipeline({ redisUrl: '' });
    expect([...Object.keys(all.parts), ...all.unavailable].sort()).toEqual([...PIPELINE_PARTS].sort());
    const some = defaultPipeline({ retry: false, cache: false, redisUrl: '' });
    expect(some.parts.retry).toBeUndefined();
    expect(some.parts.cache).toBeUndefined();
    expect(some.unavailable).not.toContain('retry');
  });

  it('rejects a bad option naming it, before making any part', () => {
    expect(() => defaultPipeline({ redisUrl: 'localhost:6379' })).toThrow(/`redisUrl`/);
    expect(() => defaultPipeline({ redisUrl: 'redis://:hunter2@x', cache: 5 as never })).toThrow(/`cache`/);
    expect(() => defaultPipeline({ redisUrl: '', breaker: true as never })).toThrow(/`breaker`/);
    expect(() => defaultPipeline({ redisUrl: '', clock: {} as never })).toThrow(/`clock`/);
    expect(() => defaultPipeline({ redisUrl: '', telemetry: { sinks: [{}] as never } })).toThrow(/`telemetry\.sinks`/);
    expect(() => defaultPipeline({ redisUrl: '', telemetry: 'on' as never })).toThrow(/`telemetry`/);
  });

  it('puts a policy given for a part in that part’s place', async () => {
    const trace: string[] = [];
    const tracing = (name: string): Policy =>
      definePolicy(name, [{ gate: { enter: () => void trace.push(`>${name}`), exit: () => PASS } }]);
    const policy = defaultPipeline({
      telemetry: false,
      redisUrl: '',
      ...Object.fromEntries(PIPELINE_PARTS.map((part) => [part, tracing(part)])),
    });
    await policy.execute(async () => 'ok');
    expect(trace).toEqual(PIPELINE_PARTS.map((part) => `>${part}`));
    expect(policy.unavailable).toEqual([]);
  });

  it('records every call in its metrics, failures by error tag', async () => {
    const { fake, client, run, fail } = await setup();
    await run(client.latest('WTI_USD'));
    fake.inject({ kind: 'wrong-types' });
    await fail(client.latest('BRENT_CRUDE_USD'));
    const metricsOf = (client.policy as OilPricePipeline).metrics?.snapshot().policies[0];
    expect(metricsOf).toMatchObject({ policy: 'oilprice', calls: 2, successes: 1, failures: 1 });
    expect(metricsOf?.failuresByType).toEqual({ OilPriceResponse: 1 });
  });

  it('sends telemetry to the sinks given instead', async () => {
    const stats = metrics();
    const { client, run } = await setup({}, { telemetry: { sinks: [stats], name: 'prices' } });
    await run(client.latest('WTI_USD'));
    expect((client.policy as OilPricePipeline).metrics).toBeUndefined();
    expect(stats.snapshot().policies[0]).toMatchObject({ policy: 'prices', calls: 1 });
  });
});
