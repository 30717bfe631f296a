// The client with no policy against the fake OilPriceAPI over real HTTP on loopback: every shape the
// API answers with, and every fault the fake can inject, must come out as the typed value or error.
import { afterEach, describe, expect, it } from '@jest/globals';
import { type Breaker } from '@bulwark/breaker';
import { definePolicy, noop, PASS } from '@bulwark/core';
import { rejectionOf, settle, untilIo, VirtualClock } from '@bulwark/testkit';
import { fakeCatalogue, seededRandom, startFakeOilPrice } from '@bulwark/testkit/fake-oilprice';

import {
  defaultPipeline,
  isOilPriceApiError,
  isOilPriceClosedError,
  isOilPriceNetworkError,
  isOilPriceResponseError,
  isQuotaExhausted,
  type OilPriceApiError,
  OilPriceClient,
} from '../src/index.js';
import { clientAgainstFake, closeLater, closeOpened } from './against-fake.js';
import { drive } from './drive.js';

afterEach(closeOpened);

const setup = clientAgainstFake;

async function apiError(promise: Promise<unknown>): Promise<OilPriceApiError> {
  const error = await rejectionOf(promise);
  if (!isOilPriceApiError(error)) throw new Error(`expected an OilPriceApiError, got ${String(error)}`);
  return error;
}

describe('answers', () => {
  it('reads the latest price, authenticating with a Token header and never putting the key in a URL', async () => {
    const { fake, client } = await setup();
    const price = await client.latest('BRENT_CRUDE_USD');
    expect(price).toMatchObject({ code: 'BRENT_CRUDE_USD', currency: 'USD', unit: 'barrel', type: 'spot_price' });
    expect(price.price).toBe(fake.priceAt('BRENT_CRUDE_USD'));
    expect(Date.parse(price.createdAt ?? '')).toBeLessThanOrEqual(Date.now());
    // Unknown keys (metadata, updated_at) are dropped: the value is plain JSON.
    expect(JSON.parse(JSON.stringify(price))).toEqual(price);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ auth: 'token', url: '/v1/prices/latest?by_code=BRENT_CRUDE_USD' });
    expect(fake.requests[0]?.url).not.toContain(fake.apiKey);
  });

  it('reads a historical series across pages, newest first, following X-Has-Next', async () => {
    const { fake, client } = await setup();
    const pages = [];
    for await (const page of client.historyPages('WTI_USD', 'week', { interval: 'daily', perPage: 3 }))
      pages.push(page);
    const rows = pages.flatMap((page) => page.prices);
    expect(pages.length).toBe(pages[0]?.totalPages);
    expect(rows.length).toBe(pages[0]?.total);
    expect(rows.length).toBeGreaterThanOrEqual(7);
    const times = rows.map((row) => Date.parse(row.createdAt ?? ''));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(pages.map((page) => page.page)).toEqual(pages.map((_, i) => i + 1));
    expect(fake.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('page'))).toEqual(
      pages.map((_, i) => String(i + 1)),
    );
  });

  it('paginates from X-Total-Pages when there is no body meta, and uses date ranges', async () => {
    const { fake, client } = await setup({ paginationMeta: false });
    const to = new Date(Date.now() - 86_400_000);
    const from = new Date(to.getTime() - 20 * 86_400_000);
    const rows = await client.history('NATURAL_GAS_USD', { from, to }, { interval: 'daily', perPage: 7 });
    expect(rows).toHaveLength(21);
    expect(rows[0]?.createdAt?.slice(0, 10)).toBe(to.toISOString().slice(0, 10));
    expect(rows[20]?.createdAt?.slice(0, 10)).toBe(from.toISOString().slice(0, 10));
    expect(fake.requests[0]?.url).toContain('/v1/prices/past_month?');
    expect(fake.requests).toHaveLength(3);
  });

  it('runs each page as one call of the policy', async () => {
    let calls = 0;
    const counting = definePolicy('counting', [{ gate: { enter: () => calls++, exit: () => PASS } }]);
    const { client } = await setup({}, { policy: counting });
    const rows = await client.history('WTI_USD', 'day', { interval: 'hourly', perPage: 10 });
    expect(rows.length).toBeGreaterThanOrEqual(24);
    expect(calls).toBe(Math.ceil(rows.length / 10));
  });

  it('reads the catalogue and one entry', async () => {
    const { client } = await setup();
    const all = await client.commodities();
    expect(all.map((c) => c.code)).toEqual(fakeCatalogue.map((c) => c.code));
    const ttf = await client.commodity('DUTCH_TTF_EUR');
    expect(ttf).toMatchObject({ code: 'DUTCH_TTF_EUR', currency: 'EUR', unit: 'mwh', category: 'natural_gas' });
    expect(ttf.validRange?.max).toBeGreaterThan(ttf.validRange?.min ?? Infinity);
  });
});

describe('errors the API raises', () => {
  it('an unknown code: 400 in the fail/data shape, with suggestions and the header request id', async () => {
    const { fake, client } = await setup();
    const error = await apiError(client.latest('BRENNT_CRUDE_USD'));
    expect(error).toMatchObject({
      status: 400,
      kind: 'bad-request',
      code: 'invalid_code',
      retryable: false,
      quotaExhausted: false,
      invalidCodes: ['BRENNT_CRUDE_USD'],
      requestId: fake.requests[0]?.requestId,
    });
    expect(error.suggestions).toContain('BRENT_CRUDE_USD');
    expect(error.message).toContain('did you mean BRENT_CRUDE_USD');
  });

  it('an unknown code before 2026-07: 404 with valid_commodities as suggestions', async () => {
    const { client } = await setup({ unknownCodeStatus: 404 });
    const error = await apiError(client.latest('WTII_USD'));
    expect(error).toMatchObject({ status: 404, kind: 'not-found', code: 'COMMODITY_NOT_FOUND' });
    expect(error.suggestions).toContain('WTI_USD');
  });

  it('a wrong key: 401, and the key appears nowhere in the error', async () => {
    const fake = await startFakeOilPrice();
    closeLater(fake);
    const secret = 'opa_live_this_is_secret_123';
    const client = new OilPriceClient({ apiKey: secret, baseUrl: fake.url, policy: noop });
    closeLater(client);
    const error = await apiError(client.latest('WTI_USD'));
    expect(error).toMatchObject({ status: 401, kind: 'unauthorized', code: 'INVALID_API_KEY', retryable: false });
    const everything = `${error.message} ${error.stack ?? ''} ${JSON.stringify(error)}`;
    expect(everything).not.toContain(secret);
    expect(fake.requests[0]?.auth).toBe('invalid');
  });

  it('redacts the key if a server echoes it back', async () => {
    const { fake, client } = await setup();
    fake.inject({
      kind: 'respond',
      status: 401,
      body: JSON.stringify({ message: `key ${fake.apiKey} is revoked`, error_code: 'EXPIRED_API_KEY' }),
    });
    const error = await apiError(client.latest('WTI_USD'));
    expect(error.code).toBe('EXPIRED_API_KEY');
    expect(error.apiMessage).toBe('key *** is revoked');
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(fake.apiKey);
  });

  it('a premium series: 403 with the plan fields', async () => {
    const { client } = await setup();
    const error = await apiError(client.latest('US_RIG_COUNT'));
    expect(error).toMatchObject({
      status: 403,
      kind: 'forbidden',
      code: 'PLAN_UPGRADE_REQUIRED',
      currentPlan: 'developer',
      requiredPlan: 'professional',
      requiredFeature: 'drilling_intelligence',
      remediationUrl: 'https://oilpriceapi.com/dashboard/billing',
      retryable: false,
    });
    expect(error.docsUrl).toMatch(/^https:\/\/docs\.oilpriceapi\.com\//);
  });

  it('a bad parameter: 422 with field and value', async () => {
    const { fake, client } = await setup();
    fake.inject({
      kind: 'respond',
      status: 422,
      body: JSON.stringify({
        error: { code: 'VALIDATION_ERROR', message: 'bad', field: 'start_date', value: '2026-13-01' },
      }),
    });
    const error = await apiError(client.latest('WTI_USD'));
    expect(error).toMatchObject({ kind: 'unprocessable', field: 'start_date', value: '2026-13-01', retryable: false });
  });

  it('the rate limit: 429 with Retry-After and X-RateLimit-Remaining 0, retryable', async () => {
    const { client } = await setup({ rateLimit: { limit: 2, windowMs: 60_000 } });
    await client.latest('WTI_USD');
    await client.latest('WTI_USD');
    const error = await apiError(client.latest('WTI_USD'));
    expect(error).toMatchObject({ status: 429, kind: 'rate-limited', retryable: true, quotaExhausted: false });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(error.rateLimit).toMatchObject({ limit: 2, remaining: 0 });
    expect(error.rateLimit.resetAtMs).toBeGreaterThan(Date.now() - 1000);
  });

  it('the quota used up: 429 exhausted in a monthly window, not retryable', async () => {
    const { client } = await setup({ quota: { limit: 1 } });
    await client.latest('WTI_USD');
    const error = await apiError(client.latest('WTI_USD'));
    expect(error).toMatchObject({ status: 429, kind: 'quota-exhausted', retryable: false, quotaExhausted: true });
    expect(error.rateLimit).toMatchObject({ state: 'exhausted', window: 'monthly_counter' });
    expect(isQuotaExhausted(error)).toBe(true);
  });

  it('the quota used up, as a 402', async () => {
    const { fake, client } = await setup({ quota: { limit: 10, status: 402 } });
    fake.setQuotaUsed(10);
    const error = await apiError(client.latest('WTI_USD'));
    expect(error).toMatchObject({
      status: 402,
      kind: 'payment-required',
      code: 'MONTHLY_QUOTA_EXCEEDED',
      quotaExhausted: true,
    });
    expect(error.retryable).toBe(false);
  });
});

describe('faults the fake injects', () => {
  it('5xx with a canonical body: server, retryable, with code and request id', async () => {
    const { fake, client } = await setup();
    fake.inject({ kind: 'server-error', status: 500 });
    const error = await apiError(client.latest('WTI_USD'));
    expect(error).toMatchObject({ status: 500, kind: 'server', code: 'INTERNAL_SERVER_ERROR', retryable: true });
    expect(error.requestId).toBe(fake.requests[0]?.requestId);
  });

  it('503 with Retry-After', async () => {
    const { fake, client } = await setup();
    fake.inject({ kind: 'server-error', status: 503, retryAfterS: 2 });
    const error = await apiError(client.latest('WTI_USD'));
    expect(error).toMatchObject({ status: 503, kind: 'server', retryAfterMs: 2000, retryable: true });
  });

  it('504 with a minimal body', async () => {
    const { fake, client } = await setup();
    fake.inject({ kind: 'server-error', status: 504, body: 'minimal' });
    const error = await apiError(client.latest('WTI_USD'));
    expect(error).toMatchObject({ status: 504, kind: 'server', retryable: true });
    expect(error.apiMessage).toMatch(/did not answer in time/);
    expect(error.code).toBeUndefined();
  });

  it('a 502 HTML page: server, retryable, the page kept as a snippet', async () => {
    const { fake, client } = await setup();
    fake.inject({ kind: 'bad-gateway-html' });
    const error = await apiError(client.latest('WTI_USD'));
    expect(error).toMatchObject({ status: 502, kind: 'server', retryable: true, contentType: 'text/html' });
    expect(error.bodySnippet).toContain('502 Bad Gateway');
    expect(error.requestId).toBe(fake.requests[0]?.requestId);
  });

  it.each(['legacy', 'canonical', 'minimal', 'fail-data'] as const)(
    'a 429 burst with a %s body: rate-limited with retryAfterMs',
    async (body) => {
      const { fake, client } = await setup();
      fake.inject({ kind: 'rate-limit', retryAfterS: 7, body });
      const error = await apiError(client.latest('WTI_USD'));
      expect(error).toMatchObject({ status: 429, kind: 'rate-limited', retryable: true, retryAfterMs: 7000 });
      expect(error.requestId).toBe(fake.requests[0]?.requestId);
      if (body !== 'minimal') expect(error.code?.toLowerCase()).toBe('rate_limit_exceeded');
    },
  );

  it('a 429 from the hourly circuit breaker is exhausted but retryable', async () => {
    const { fake, client } = await setup();
    fake.inject({ kind: 'quota-exhausted', window: 'hourly_circuit_breaker' });
    const error = await apiError(client.latest('WTI_USD'));
    expect(error).toMatchObject({
      kind: 'rate-limited',
      retryable: true,
      quotaExhausted: false,
      retryAfterMs: 1_050_000,
    });
  });

  it.each(['daily_counter', 'monthly_counter', 'trial_counter'] as const)(
    'a 429 exhausted in the %s window is not retryable',
    async (window) => {
      const { fake, client } = await setup();
      fake.inject({ kind: 'quota-exhausted', window });
      const error = await apiError(client.latest('WTI_USD'));
      expect(error).toMatchObject({ kind: 'quota-exhausted', retryable: false, quotaExhausted: true });
    },
  );

  it.each(['before-headers', 'mid-body'] as const)(
    'a connection reset %s: a retryable network error',
    async (phase) => {
      const { fake, client } = await setup();
      fake.inject({ kind: 'connection-reset', phase });
      const error = await rejectionOf(client.latest('WTI_USD'));
      expect(isOilPriceNetworkError(error)).toBe(true);
      expect((error as { retryable: boolean }).retryable).toBe(true);
      // The pool recovers: the next request goes through.
      expect((await client.latest('WTI_USD')).code).toBe('WTI_USD');
    },
  );

  it('malformed JSON: a retryable response error', async () => {
    const { fake, client } = await setup();
    fake.inject({ kind: 'malformed-json' });
    const error = await rejectionOf(client.latest('WTI_USD'));
    expect(isOilPriceResponseError(error)).toBe(true);
    expect(error).toMatchObject({ problem: 'malformed-json', retryable: true });
  });

  it.each([
    ['price-string', 'data.price'],
    ['price-boolean', 'data.price'],
    ['code-number', 'data.code'],
  ] as const)('wrong types (%s): a response error naming %s', async (variant, path) => {
    const { fake, client } = await setup();
    fake.inject({ kind: 'wrong-types', variant });
    const error = await rejectionOf(client.latest('WTI_USD'));
    expect(error).toMatchObject({ problem: 'unexpected-shape', retryable: false });
    expect((error as { paths: string[] }).paths.join('\n')).toContain(path);
  });

  it('wrong types in a series: the prices array replaced by an object', async () => {
    const { fake, client } = await setup();
    fake.inject({ kind: 'wrong-types', variant: 'prices-object' });
    const error = await rejectionOf(client.history('WTI_USD', 'day'));
    expect(error).toMatchObject({ problem: 'unexpected-shape' });
    expect((error as { paths: string[] }).paths.join('\n')).toContain('data.prices');
  });

  it('a body that is not JSON', async () => {
    const { fake, client } = await setup();
    fake.inject({ kind: 'respond', status: 200, body: 'OK', headers: { 'Content-Type': 'text/plain' } });
    expect(await rejectionOf(client.latest('WTI_USD'))).toMatchObject({ problem: 'not-json' });
  });

  it('an implausible price goes through a bare client unchanged (validation is the pipeline’s job)', async () => {
    const { fake, client } = await setup();
    fake.inject({ kind: 'implausible-price', factor: 10 });
    const price = await client.latest('WTI_USD');
    expect(price.price).toBeCloseTo(fake.priceAt('WTI_USD') * 10, 1);
  });

  it('latency on the fake’s clock: the answer waits until the clock moves', async () => {
    const clock = new VirtualClock(Date.now());
    const { fake, client } = await setup({ clock });
    fake.inject({ kind: 'latency', ms: 20_000 });
    let done = false;
    const call = client.latest('WTI_USD').then((price) => {
      done = true;
      return price;
    });
    await untilIo(() => fake.requests.length === 1);
    await clock.advance(19_999);
    await settle();
    expect(done).toBe(false);
    await clock.advance(1);
    expect((await call).code).toBe('WTI_USD');
  });

  it('a hang: nothing until the caller aborts, which rejects with its reason', async () => {
    const clock = new VirtualClock(Date.now());
    const { fake, client } = await setup({ clock });
    fake.inject({ kind: 'hang' });
    const controller = new AbortController();
    const call = rejectionOf(client.latest('WTI_USD', { signal: controller.signal }));
    await untilIo(() => fake.requests.length === 1);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await call).toBe(reason);
  });

  it('a hang that ends in a reset: a network error', async () => {
    const clock = new VirtualClock(Date.now());
    const { fake, client } = await setup({ clock });
    fake.inject({ kind: 'hang', ms: 30_000 });
    const call = rejectionOf(client.latest('WTI_USD'));
    await untilIo(() => fake.requests.length === 1);
    await clock.advance(30_000);
    expect(isOilPriceNetworkError(await call)).toBe(true);
  });

  it('an outage from the profile, on the fake’s clock: resets during it, answers before and after', async () => {
    const clock = new VirtualClock(Date.now());
    const { client } = await setup({
      clock,
      profile: { outages: [{ startMs: 1000, durationMs: 5000, fault: { kind: 'connection-reset' } }] },
    });
    expect((await client.latest('WTI_USD')).code).toBe('WTI_USD');
    await clock.advance(1000);
    expect(isOilPriceNetworkError(await rejectionOf(client.latest('WTI_USD')))).toBe(true);
    await clock.advance(4999);
    expect(isOilPriceNetworkError(await rejectionOf(client.latest('WTI_USD')))).toBe(true);
    await clock.advance(1);
    expect((await client.latest('WTI_USD')).code).toBe('WTI_USD');
  });

  it('a 429 burst from the profile says in Retry-After how long the burst has left', async () => {
    const clock = new VirtualClock(Date.now());
    const { fake, client } = await setup({
      clock,
      profile: { bursts: [{ probability: 1, durationMs: 5_000, fault: { kind: 'rate-limit' } }] },
    });
    expect(await apiError(client.latest('WTI_USD'))).toMatchObject({ kind: 'rate-limited', retryAfterMs: 5000 });
    await clock.advance(2_500);
    expect(await apiError(client.latest('WTI_USD'))).toMatchObject({ retryAfterMs: 3000 });
    expect(fake.requests.map((r) => r.fault)).toEqual(['rate-limit', 'rate-limit']);
  });
});

describe('how requests are named', () => {
  it('as `METHOD /path` in events and errors, without the query (which may carry what a caller passed)', async () => {
    const { fake, client } = await setup();
    const named: string[] = [];
    client.onEvent((event) => named.push(event.request));
    fake.inject({ kind: 'server-error', status: 500 }, { kind: 'connection-reset' }, { kind: 'malformed-json' });
    const errors = [
      await rejectionOf(client.latest('WTI_USD')),
      await rejectionOf(client.history('WTI_USD', 'day', { type: 'daily_average_price' })),
      await rejectionOf(client.latest('WTI_USD')),
    ];
    expect(errors.map((error) => (error as { _tag: string })._tag)).toEqual([
      'OilPriceApi',
      'OilPriceNetwork',
      'OilPriceResponse',
    ]);
    const expected = ['GET /v1/prices/latest', 'GET /v1/prices/past_day', 'GET /v1/prices/latest'];
    expect(errors.map((error) => (error as { request: string }).request)).toEqual(expected);
    expect(named).toEqual(expected);
    for (const error of errors) expect((error as Error).message).not.toMatch(/by_code|by_type|\?/);
  });
});

describe('the connection pool', () => {
  it('closes once: a second close() resolves too, and a call after it fails at once, typed, sending nothing', async () => {
    const { fake, client } = await setup();
    await client.latest('WTI_USD');
    await client.close();
    await expect(client.close()).resolves.toBeUndefined();
    const error = await rejectionOf(client.latest('WTI_USD'));
    expect(isOilPriceClosedError(error)).toBe(true);
    expect(error).toMatchObject({ retryable: false, message: expect.stringMatching(/closed/) });
    expect(isOilPriceClosedError(await rejectionOf(client.history('WTI_USD', 'day')))).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  it('close() ends a call waiting between retries at once: no more attempts, no breaker failure, no timer', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 15, 12));
    const fake = await startFakeOilPrice({ clock });
    closeLater(fake);
    const policy = defaultPipeline({ clock, random: seededRandom(7), redisUrl: '', telemetry: false });
    // The pipeline is the test's, so that its breaker can still be read after the client closes.
    closeLater(policy);
    const client = new OilPriceClient({ apiKey: fake.apiKey, baseUrl: fake.url, policy, clock });
    closeLater(client);
    const breakerFailures = (): unknown => (policy.parts.breaker as Breaker).health().details?.['failures'];
    fake.inject({ kind: 'server-error', status: 503 });
    let outcome: unknown = 'pending';
    void client.latest('WTI_USD').then(
      () => (outcome = 'fulfilled'),
      (error: unknown) => (outcome = error),
    );
    // The 503 came back; the retry now waits its backoff on the clock.
    await untilIo(() => fake.requests.length === 1 && client.inFlight === 0 && clock.pendingKeepAlive > 0);
    expect(breakerFailures()).toBe(1);
    await client.close();
    await settle();
    expect(isOilPriceClosedError(outcome)).toBe(true);
    // No timer that holds a process (the timeout's own 1 ms tick, unreferenced, may remain).
    expect(clock.pendingKeepAlive).toBe(0);
    await clock.runAll();
    expect(fake.requests).toHaveLength(1);
    expect(breakerFailures()).toBe(1);
    // A call after close() fails before the policy: it counts for nothing either.
    expect(isOilPriceClosedError(await rejectionOf(client.latest('WTI_USD')))).toBe(true);
    expect(breakerFailures()).toBe(1);
  });

  it('close() ends a request in flight at once instead of waiting for its answer', async () => {
    const clock = new VirtualClock(Date.now());
    const { fake, client } = await setup({ clock });
    fake.inject({ kind: 'hang' });
    let outcome: unknown = 'pending';
    void client.latest('WTI_USD').then(
      () => (outcome = 'fulfilled'),
      (error: unknown) => (outcome = error),
    );
    await untilIo(() => fake.requests.length === 1);
    let closed = false;
    void client.close().then(() => (closed = true));
    await untilIo(() => closed);
    expect(isOilPriceClosedError(outcome)).toBe(true);
    expect(client.inFlight).toBe(0);
  });

  it('opens at most `connections` sockets, and keeps at most `keepAlive` open afterwards', async () => {
    const clock = new VirtualClock(Date.now());
    const { fake, client } = await setup(
      { clock, profile: { latency: { kind: 'constant', ms: 1000 } } },
      { connections: 6, keepAlive: 2 },
    );
    const calls = Array.from({ length: 20 }, () => client.latest('WTI_USD'));
    for (let round = 0; round < 4; round++) {
      await untilIo(() => fake.requests.length >= Math.min(20, (round + 1) * 6));
      expect(fake.openConnections).toBeLessThanOrEqual(6);
      await clock.advance(1000);
    }
    await Promise.all(calls);
    expect(fake.peakConnections).toBe(6);
    await untilIo(() => fake.openConnections <= 2);
    expect(fake.openConnections).toBeLessThanOrEqual(2);
  });

  it('reuses every busy connection under sustained load, even beyond `keepAlive` in flight', async () => {
    const clock = new VirtualClock(Date.now());
    const { fake, client } = await setup(
      { clock, profile: { latency: { kind: 'constant', ms: 100 } } },
      { connections: 6, keepAlive: 2 },
    );
    // 6 callers, each calling again as soon as its last call settles: 6 requests in flight throughout.
    const caller = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) await client.latest('WTI_USD');
    };
    await drive(Promise.all(Array.from({ length: 6 }, () => caller())), clock, fake, client);
    expect(fake.requests).toHaveLength(30);
    // One connection per caller, kept for all its calls (asking for `Connection: close` beyond
    // `keepAlive` in flight, as the client once did, opened 28 for these 30 calls).
    expect(fake.connectionsOpened).toBe(6);
  });
});

describe('options', () => {
  it('rejects bad options at construction, never showing a key', () => {
    expect(() => new OilPriceClient({ apiKey: '', policy: noop })).toThrow(TypeError);
    expect(() => new OilPriceClient({ apiKey: 'k\nx', policy: noop })).toThrow(/a line break/);
    expect(() => new OilPriceClient({ apiKey: 'key', baseUrl: 'ftp://x', policy: noop })).toThrow(/baseUrl/);
    expect(() => new OilPriceClient({ apiKey: 'key', baseUrl: 'https://x/?api_key=secret', policy: noop })).toThrow(
      /not shown/,
    );
    expect(() => new OilPriceClient({ apiKey: 'key', connections: 0, policy: noop })).toThrow(RangeError);
    expect(() => new OilPriceClient({ apiKey: 'key', keepAlive: -1, policy: noop })).toThrow(/keepAlive/);
    expect(() => new OilPriceClient({ apiKey: 'key', userAgent: 'x\r\nX-Evil: 1', policy: noop })).toThrow(/userAgent/);
    expect(() => new OilPriceClient(undefined as never)).toThrow(/`apiKey`/);
    expect(() => new OilPriceClient({ apiKey: 'key', policy: {} as never })).toThrow(/`policy`/);
    expect(() => new OilPriceClient({ apiKey: 'key', policy: noop, clock: {} as never })).toThrow(/`clock`/);
    expect(() => new OilPriceClient({ apiKey: 'key', policy: noop, dispatcher: {} as never })).toThrow(/`dispatcher`/);
  });

  it('rejects a key no header can carry at construction, naming the option and never showing the key', () => {
    // A NUL, a dash pasted from a document, a space inside or around it, a tab: undici refuses to send
    // such a header, and every call would fail as a retryable network error.
    for (const apiKey of [
      'opa_live_abc\u0000def123',
      'opa_live_abc\u2013def123',
      'opa_live abc',
      ' opa_live_abc',
      'opa\tx',
    ]) {
      let thrown: unknown;
      try {
        new OilPriceClient({ apiKey, policy: noop });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(RangeError);
      expect((thrown as Error).message).toMatch(/`apiKey`.*visible ASCII/);
      expect((thrown as Error).message).not.toContain('abc');
    }
    // Any visible ASCII is accepted.
    closeLater(new OilPriceClient({ apiKey: 'opa_live_0123456789abcdef!"#~', policy: noop }));
    expect(() => new OilPriceClient({ apiKey: 'key', userAgent: 'app/1 \u0000', policy: noop })).toThrow(/userAgent/);
    expect(() => new OilPriceClient({ apiKey: 'key', userAgent: 'app/1 \u2013', policy: noop })).toThrow(/userAgent/);
  });

  it('rejects bad arguments before any request', async () => {
    const { fake, client } = await setup();
    await expect(client.latest('bad code!')).rejects.toThrow(/`code`/);
    await expect(client.history('WTI_USD', 'week', { perPage: 0 })).rejects.toThrow(/perPage/);
    await expect(client.history('WTI_USD', { from: '2026-02-30x' })).rejects.toThrow(/range\.from/);
    await expect(client.history('WTI_USD', { from: '2026-03-02', to: '2026-03-01' })).rejects.toThrow(/range/);
    await expect(client.history('WTI_USD', 'decade' as 'day')).rejects.toThrow(/range/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('the test driver', () => {
  it('moves the shared virtual clock only when every request waits on it', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 15, 12));
    const { fake, client } = await setup({ clock, profile: { latency: { kind: 'constant', ms: 1500 } } });
    const started = clock.now();
    const calls = [client.latest('WTI_USD'), client.latest('BRENT_CRUDE_USD'), client.commodities()];
    await drive(Promise.all(calls), clock, fake, client);
    expect(clock.now() - started).toBe(1500);
    expect(fake.requests).toHaveLength(3);
  });
});
