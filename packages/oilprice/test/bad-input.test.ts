// What a server (or a proxy in front of it) may send that no API documents: bodies with keys that
// would replace a prototype, bodies that echo the key back, bodies too large to hold, bodies that
// drip a byte at a time. Each must end in a typed error, with nothing polluted, nothing cached,
// nothing of the key in any text, and no socket left.
import { inspect } from 'node:util';

import { afterEach, describe, expect, it } from '@jest/globals';
import { isBulwarkError, noop } from '@bulwark/core';
import { redisTestsEnabled, redisUrl, rejectionOf, uniquePrefix, untilIo, VirtualClock } from '@bulwark/testkit';
import { seededRandom, startFakeOilPrice } from '@bulwark/testkit/fake-oilprice';
import { createClient } from '@keyv/redis';

import {
  defaultPipeline,
  isOilPriceApiError,
  isOilPriceResponseError,
  OilPriceClient,
  type OilPriceClientOptions,
} from '../src/index.js';
import { clientAgainstFake, closeLater, closeOpened } from './against-fake.js';
import { drive } from './drive.js';

afterEach(closeOpened);

/** A client with no policy (unless `clientOptions` gives one) against a fresh fake with its defaults. */
const bare = (clientOptions: Partial<OilPriceClientOptions> = {}): ReturnType<typeof clientAgainstFake> =>
  clientAgainstFake({}, clientOptions);

/** A 200 answer to `latest` whose price record holds `extra` as its raw JSON text. */
const latestWith = (extra: string): string =>
  `{"status":"success","data":{"code":"WTI_USD","price":71.5,"currency":"USD",${extra}}}`;

/** Every text a caller could see of an error: message, fields, cause chain, inspection. */
const everything = (value: unknown): string => `${String(value)} ${inspect(value, { depth: 8, showHidden: true })}`;

describe('prototype-polluting keys', () => {
  it('a __proto__ key in a body is a typed error naming it, and pollutes nothing', async () => {
    const { fake, client } = await bare();
    fake.inject({ kind: 'respond', status: 200, body: latestWith('"__proto__":{"polluted":"yes"}') });
    const error = await rejectionOf(client.latest('WTI_USD'));
    expect(isOilPriceResponseError(error)).toBe(true);
    expect(error).toMatchObject({ problem: 'unexpected-shape', retryable: false });
    expect((error as { paths: string[] }).paths.join('\n')).toContain('__proto__');
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    // Deeper in a series, too.
    fake.inject({
      kind: 'respond',
      status: 200,
      body: '{"status":"success","data":{"prices":[{"code":"WTI_USD","price":1,"__proto__":{"admin":true}}]}}',
    });
    expect(await rejectionOf(client.history('WTI_USD', 'day'))).toMatchObject({ problem: 'unexpected-shape' });
    expect((await client.latest('WTI_USD')).code).toBe('WTI_USD');
  });

  (redisTestsEnabled() ? it : it.skip)('caches nothing of such a body, in Redis', async () => {
    // On the real clock: Redis answers over real I/O, which the virtual-clock driver cannot see.
    const namespace = uniquePrefix('oilprice-proto').slice(0, -1);
    const fake = await startFakeOilPrice();
    closeLater(fake);
    const policy = defaultPipeline({ redisUrl: redisUrl(), namespace, telemetry: false });
    const client = new OilPriceClient({ apiKey: fake.apiKey, baseUrl: fake.url, policy });
    closeLater(client, policy);
    const redis = createClient({ url: redisUrl() });
    await redis.connect();
    const stored = async (): Promise<string[]> => redis.keys(`*${namespace}*`);
    try {
      fake.inject({ kind: 'respond', status: 200, body: latestWith('"__proto__":{"polluted":"yes"}') });
      expect(isOilPriceResponseError(await rejectionOf(client.latest('WTI_USD')))).toBe(true);
      expect(await stored()).toEqual([]);
      // The same key answered well is cached: the search above would have seen it.
      await client.latest('WTI_USD');
      expect((await stored()).length).toBeGreaterThan(0);
    } finally {
      await (policy.parts.cache as { invalidateAll(): Promise<void> } | undefined)?.invalidateAll();
      await redis.quit();
    }
  });
});

describe('the key echoed back', () => {
  it('is in no error, even where a text was cut off in the middle of it', async () => {
    const { fake, client } = await bare();
    const key = fake.apiKey;
    // The key straddles the 300th character, where the body snippet is cut.
    const body = `${'x'.repeat(300 - Math.floor(key.length / 2))} ${key} rejected`;
    fake.inject({ kind: 'respond', status: 502, body, headers: { 'Content-Type': 'text/html' } });
    const snippetError = await rejectionOf(client.latest('WTI_USD'));
    expect(isOilPriceApiError(snippetError)).toBe(true);
    // The key where a wrong type is reported: a value shown cut at 40 characters (the last `price` wins).
    fake.inject({ kind: 'respond', status: 200, body: latestWith(`"price":"${'u'.repeat(30)} ${key}"`) });
    const shapeError = await rejectionOf(client.latest('WTI_USD'));
    expect(shapeError).toMatchObject({ problem: 'unexpected-shape' });
    // The key at the end of a long API message, which is cut at 500 characters.
    const message = `${'m'.repeat(495)}${key}`;
    fake.inject({ kind: 'respond', status: 400, body: JSON.stringify({ status: 'error', message }) });
    const messageError = await rejectionOf(client.latest('WTI_USD'));
    // The key where JSON breaks off: the parser's own message quotes the text around the fault.
    fake.inject({ kind: 'respond', status: 200, body: `{"status":"success","data":{"note":"${key}` });
    const parseError = await rejectionOf(client.latest('WTI_USD'));
    expect(parseError).toMatchObject({ problem: 'malformed-json' });
    fake.inject({ kind: 'respond', status: 200, body: `{"status":"success","data":${key}}` });
    const tokenError = await rejectionOf(client.latest('WTI_USD'));
    expect(tokenError).toMatchObject({ problem: 'malformed-json' });
    for (const error of [snippetError, shapeError, messageError, parseError, tokenError]) {
      const text = everything(error);
      expect(text).not.toContain(key.slice(0, 8));
    }
  });

  it('is in no field of an error answer, whichever field the server put it in', async () => {
    const { fake, client } = await bare();
    const key = fake.apiKey;
    const events: unknown[] = [];
    client.onEvent((event) => events.push({ ...event, context: undefined }));
    const answers = [
      // In the machine code and the request id (both go into the message), and in a header.
      {
        status: 401,
        body: { error: { code: `INVALID_API_KEY:${key}`, message: 'bad key', request_id: `req-${key}` } },
        headers: { 'X-Request-Id': `hdr-${key}`, 'X-RateLimit-State': key, 'X-RateLimit-Window': key },
      },
      // In the plan fields and links, as a dashboard link might carry it.
      {
        status: 403,
        body: {
          error: {
            code: 'PLAN_UPGRADE_REQUIRED',
            remediation_url: `https://oilpriceapi.com/dashboard/billing?api_key=${key}`,
            docs_url: `https://docs.oilpriceapi.com/?k=${key}`,
            current_plan: key,
            required_plan: key,
            required_feature: key,
            field: key,
          },
        },
      },
      // In the codes it did not know and the ones it suggests (which go into the message).
      {
        status: 400,
        body: { status: 'fail', data: { error: 'invalid_code', invalid_codes: [key], suggestions: [key] } },
      },
      // As the whole `error` of the fail/data shape (read as the code).
      { status: 400, body: { status: 'fail', data: { error: key } } },
    ];
    for (const { status, body, headers } of answers) {
      fake.inject({ kind: 'respond', status, body: JSON.stringify(body), headers: headers ?? {} });
      const error = await rejectionOf(client.latest('WTI_USD'));
      expect(isOilPriceApiError(error)).toBe(true);
      expect(everything(error)).not.toContain(key);
      expect(JSON.stringify(error)).toContain('***');
    }
    expect(inspect(events, { depth: 8 })).not.toContain(key);
  });
});

describe('inspection', () => {
  it('shows no key through util.inspect, console.log or JSON.stringify of a client', async () => {
    const { fake, client } = await bare();
    const key = fake.apiKey;
    const shown = [
      inspect(client, { depth: 10, showHidden: true, getters: true }),
      inspect(client),
      JSON.stringify(client),
      Object.values(client)
        .map((value) => inspect(value, { depth: 4 }))
        .join('\n'),
    ];
    for (const text of shown) expect(text).not.toContain(key);
    // It still authenticates.
    expect((await client.latest('WTI_USD')).code).toBe('WTI_USD');
  });
});

describe('huge bodies', () => {
  it('cuts an answer longer than maxResponseBytes off with a typed error, and the pool carries on', async () => {
    const { fake, client } = await bare({ maxResponseBytes: 4096 });
    fake.inject({ kind: 'respond', status: 200, body: latestWith(`"unit":"${'x'.repeat(200_000)}"`) });
    const error = await rejectionOf(client.latest('WTI_USD'));
    expect(isOilPriceResponseError(error)).toBe(true);
    expect(error).toMatchObject({ problem: 'too-large' });
    expect((await client.latest('WTI_USD')).code).toBe('WTI_USD');
  });

  it('reads only the start of an error answer longer than maxResponseBytes, and keeps its status', async () => {
    const { fake, client } = await bare({ maxResponseBytes: 4096 });
    const events: string[] = [];
    client.onEvent((event) => events.push(event.type === 'response' ? `response ${event.status}` : event.type));
    const page = `<html><body>${'Service Unavailable '.repeat(5000)}</body></html>`;
    fake.inject({
      kind: 'respond',
      status: 503,
      body: page,
      headers: { 'Content-Type': 'text/html', 'Retry-After': '1' },
    });
    const error = await rejectionOf(client.latest('WTI_USD'));
    expect(isOilPriceApiError(error)).toBe(true);
    expect(error).toMatchObject({ status: 503, kind: 'server', retryable: true, retryAfterMs: 1000 });
    expect((error as { bodySnippet: string }).bodySnippet).toMatch(/^<html><body>Service Unavailable/);
    expect(events).toEqual(['response 503']);
    // A JSON error body cut off is read for what its headers say, and the pool carries on.
    fake.inject({
      kind: 'respond',
      status: 400,
      body: JSON.stringify({
        error: { code: 'invalid_code', suggestions: Array.from({ length: 1000 }, () => 'WTI_USD') },
      }),
    });
    expect(await rejectionOf(client.latest('WTI_USD'))).toMatchObject({ status: 400, kind: 'bad-request' });
    expect((await client.latest('WTI_USD')).code).toBe('WTI_USD');
  });

  it('reads 16 MiB by default, and checks the option at construction', () => {
    expect(() => new OilPriceClient({ apiKey: 'key', policy: noop, maxResponseBytes: 0 })).toThrow(
      /`maxResponseBytes`/,
    );
    expect(() => new OilPriceClient({ apiKey: 'key', policy: noop, maxResponseBytes: 'big' as never })).toThrow(
      TypeError,
    );
    expect(() => new OilPriceClient({ apiKey: 'key', policy: noop, maxResponseBytes: Number.NaN })).toThrow(
      /`maxResponseBytes`/,
    );
  });
});

describe('slow loris', () => {
  it('the default pipeline ends a body that drips at its timeout, each attempt, with a TimeoutError', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 15, 12));
    const fake = await startFakeOilPrice({ clock });
    closeLater(fake);
    const policy = defaultPipeline({ clock, random: seededRandom(7), redisUrl: '', telemetry: false });
    const client = new OilPriceClient({ apiKey: fake.apiKey, baseUrl: fake.url, policy, clock });
    closeLater(client);
    // A byte a second: a body of a few hundred bytes would take minutes.
    const drip = { kind: 'slow-body', intervalMs: 1000, bytes: 1 } as const;
    fake.inject(drip, drip, drip);
    const started = clock.now();
    const error = await rejectionOf(drive(client.latest('WTI_USD'), clock, fake, client));
    expect(isBulwarkError(error) && error._tag).toBe('Timeout');
    expect(fake.requests).toHaveLength(3);
    // Three attempts of 15 s and the retry's two waits (1 s and 2 s, + at most 30 %): not the drip's minutes.
    expect(clock.now() - started).toBeLessThanOrEqual(3 * 15_000 + 1_300 + 2_600);
    // Nothing is left reading: the sockets of the dripping answers were closed.
    await drive(Promise.resolve(), clock, fake, client);
    expect(client.inFlight).toBe(0);
    await untilIo(() => fake.openConnections <= 1);
  });
});

describe('the default pipeline', () => {
  it('opens no Redis connection when an option is bad', () => {
    // A bad part after the cache: checked before the cache (and its connection) is made.
    expect(() => defaultPipeline({ redisUrl: redisUrl(), timeout: 15_000 as never })).toThrow(/`timeout`/);
    expect(() => defaultPipeline({ redisUrl: redisUrl(), telemetry: { name: 5 as never } })).toThrow(
      /`telemetry\.name`/,
    );
    // Jest's open-handle detection (and the end of this file's run) would find a connection left open.
  });
});
