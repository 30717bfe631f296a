import { afterEach, describe, expect, it } from '@jest/globals';
import { gzipSync } from 'node:zlib';

import { POSTHOG_RATE_LIMITS, Throttle, startFakePostHog, type FakePostHog } from '../src/fake-posthog/index.js';
import { VirtualClock } from '../src/virtual-clock.js';
import { untilIo } from '../src/drive.js';

const KEY = 'phx_fake_personal_key';

interface Page {
  readonly count?: number;
  readonly next?: string | null;
  readonly has_next?: boolean;
  readonly results: { readonly id?: string; readonly name?: string; readonly property_type?: string }[];
}
let fake: FakePostHog | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const uuid = (n: number): string => `0190b1a4-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function get(url: string, key: string | null = KEY): Promise<{ status: number; body: Page; headers: Headers }> {
  const res = await fetch(url, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as Page, headers: res.headers };
}

describe('fake PostHog ingestion host', () => {
  it('accepts a batch, raw or gzipped, and counts events by UUID with duplicates apart', async () => {
    fake = await startFakePostHog();
    const batch = {
      api_key: 'phc_project',
      batch: [
        { event: 'a', distinct_id: 'u1', uuid: uuid(1) },
        { event: 'b', distinct_id: 'u2', uuid: uuid(2) },
      ],
    };
    expect(await post(`${fake.ingestionUrl}/batch/`, batch)).toMatchObject({ status: 200, text: '{"status":"Ok"}' });
    const zipped = await post(`${fake.ingestionUrl}/batch/`, gzipSync(JSON.stringify(batch)), {
      'content-encoding': 'gzip',
    });
    expect(zipped.status).toBe(200);
    expect(fake.received.unique).toBe(2);
    expect(fake.received.deliveries).toBe(4);
    expect(fake.received.duplicates).toBe(2);
    expect(fake.received.deliveriesOf(uuid(1))).toBe(2);
    expect(fake.received.list()[0]).toMatchObject({ event: 'a', distinctId: 'u1', token: 'phc_project' });
  });

  it('takes single events on /i/v0/e/ and /capture/, with distinct_id in properties, and 204 for beacons', async () => {
    fake = await startFakePostHog();
    expect(
      (await post(`${fake.ingestionUrl}/i/v0/e/`, { api_key: 'phc_p', event: 'x', properties: { distinct_id: 'u' } }))
        .status,
    ).toBe(200);
    expect(
      (await post(`${fake.ingestionUrl}/capture/?beacon=1`, { token: 'phc_p', event: 'y', distinct_id: 'u' })).status,
    ).toBe(204);
    expect(fake.received.unique).toBe(2);
    expect(fake.received.withoutUuid).toBe(2);
  });

  it.each([
    [{ batch: [{ event: 'a', distinct_id: 'u' }] }, 401, 'event submitted without an api_key'],
    [
      { api_key: 'phx_personal', batch: [{ event: 'a', distinct_id: 'u' }] },
      401,
      'API key is not valid: personal_api_key',
    ],
    [{ api_key: '', batch: [{ event: 'a', distinct_id: 'u' }] }, 401, 'API key is not valid: empty'],
    [
      { api_key: `phc_${'x'.repeat(70)}`, batch: [{ event: 'a', distinct_id: 'u' }] },
      401,
      'API key is not valid: too_long',
    ],
    [
      { api_key: 'phc_a', batch: [{ event: 'a', distinct_id: 'u', api_key: 'phc_b' }] },
      401,
      'batch submitted with inconsistent api_key values',
    ],
    [{ api_key: 'phc_a', batch: [] }, 400, 'request holds no event'],
    [{ api_key: 'phc_a', batch: [{ distinct_id: 'u' }] }, 400, 'event submitted with an empty event name'],
    [{ api_key: 'phc_a', batch: [{ event: 'a' }] }, 400, 'event submitted without a distinct_id'],
    [
      { api_key: 'phc_a', batch: [{ event: 'a', distinct_id: 'u', timestamp: 'yesterday' }] },
      400,
      'event submitted with invalid timestamp',
    ],
  ])('answers %j with %i and plain text', async (body, status, text) => {
    fake = await startFakePostHog();
    const res = await post(`${fake.ingestionUrl}/batch/`, body);
    expect(res.status).toBe(status);
    expect(res.text).toBe(text);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(fake.received.deliveries).toBe(0);
  });

  it('answers malformed JSON and bad gzip with 400 decode/parse errors', async () => {
    fake = await startFakePostHog();
    const parse = await post(`${fake.ingestionUrl}/batch/`, '{"api_key":');
    expect(parse.status).toBe(400);
    expect(parse.text).toMatch(/^failed to parse request: /);
    const decode = await post(`${fake.ingestionUrl}/batch/`, 'not gzip', { 'content-encoding': 'gzip' });
    expect(decode.status).toBe(400);
    expect(decode.text).toMatch(/^failed to decode request: /);
  });

  it('drops events without a name with a 200 when told to (the documented behaviour)', async () => {
    fake = await startFakePostHog({ missingFieldStatus: 200 });
    const res = await post(`${fake.ingestionUrl}/batch/`, {
      api_key: 'phc_a',
      batch: [{ distinct_id: 'u' }, { event: 'ok', distinct_id: 'u' }],
    });
    expect(res.status).toBe(200);
    expect(fake.received.unique).toBe(1);
    expect(fake.stats.droppedByServer).toBe(1);
  });

  it('answers 413 for an oversize event or body, recording nothing', async () => {
    fake = await startFakePostHog({ maxEventBytes: 200, maxBodyBytes: 1000 });
    const big = await post(`${fake.ingestionUrl}/batch/`, {
      api_key: 'phc_a',
      batch: [
        { event: 'a', distinct_id: 'u' },
        { event: 'b', distinct_id: 'u', properties: { pad: 'x'.repeat(300) } },
      ],
    });
    expect(big.status).toBe(413);
    expect(big.text).toMatch(/^maximum event size exceeded/);
    const many = Array.from({ length: 30 }, (_, i) => ({ event: 'e', distinct_id: `u${i}` }));
    expect((await post(`${fake.ingestionUrl}/batch/`, { api_key: 'phc_a', batch: many })).status).toBe(413);
    expect(fake.received.deliveries).toBe(0);
  });

  it('injects scripted statuses, resets, and resets after receiving (which make duplicates)', async () => {
    fake = await startFakePostHog();
    const body = { api_key: 'phc_a', batch: [{ event: 'a', distinct_id: 'u', uuid: uuid(7) }] };
    fake.faults
      .next('ingestion', { kind: 'status', status: 503 })
      .next('ingestion', { kind: 'reset' })
      .next('ingestion', { kind: 'reset-after-receive' });
    const first = await post(`${fake.ingestionUrl}/batch/`, body);
    expect(first).toMatchObject({ status: 503, text: 'transient error, please retry' });
    await expect(post(`${fake.ingestionUrl}/batch/`, body)).rejects.toThrow();
    expect(fake.received.deliveries).toBe(0);
    await expect(post(`${fake.ingestionUrl}/batch/`, body)).rejects.toThrow();
    expect(fake.received.deliveries).toBe(1);
    expect((await post(`${fake.ingestionUrl}/batch/`, body)).status).toBe(200);
    expect(fake.received.unique).toBe(1);
    expect(fake.received.duplicates).toBe(1);
    expect(fake.faults.injected.get('ingestion:status:503')).toBe(1);
    expect(fake.faults.injectedOn('ingestion')).toBe(3);
  });

  it('answers a byte at a time on its clock for a slow-body fault, and stops when the client goes', async () => {
    const clock = new VirtualClock();
    fake = await startFakePostHog({ clock });
    fake.faults.next('ingestion', { kind: 'slow-body', intervalMs: 1000, bytes: 4 });
    const body = { api_key: 'phc_a', batch: [{ event: 'a', distinct_id: 'u', uuid: uuid(8) }] };
    const answer = post(`${fake.ingestionUrl}/batch/`, body);
    await untilIo(() => fake?.sleeping === 1);
    // '{"status":"Ok"}' is 15 bytes: 4 at a time, with a wait of a second between chunks (none after).
    for (let second = 0; second < 3; second++) await clock.advance(1000);
    expect(await answer).toMatchObject({ status: 200, text: '{"status":"Ok"}' });
    fake.faults.next('ingestion', { kind: 'slow-body' });
    const caller = new AbortController();
    const abandoned = fetch(`${fake.ingestionUrl}/batch/`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: caller.signal,
    }).then((res) => res.text());
    await untilIo(() => fake?.sleeping === 1);
    caller.abort();
    await expect(abandoned).rejects.toThrow();
    await untilIo(() => fake?.sleeping === 0);
    expect(clock.pending).toBe(0);
  });

  it('resets every request during an outage on its clock, and none after it', async () => {
    const clock = new VirtualClock();
    fake = await startFakePostHog({ clock });
    fake.faults.outage('ingestion', 30_000);
    const body = { api_key: 'phc_a', batch: [{ event: 'a', distinct_id: 'u' }] };
    await expect(post(`${fake.ingestionUrl}/batch/`, body)).rejects.toThrow();
    await clock.advance(29_999);
    await expect(post(`${fake.ingestionUrl}/batch/`, body)).rejects.toThrow();
    await clock.advance(1);
    expect((await post(`${fake.ingestionUrl}/batch/`, body)).status).toBe(200);
  });

  it('draws random faults from its seed reproducibly', async () => {
    const outcomes: number[][] = [];
    for (let run = 0; run < 2; run++) {
      fake = await startFakePostHog({ seed: 42 });
      fake.faults.random('ingestion', 0.5, [
        { kind: 'status', status: 502 },
        { kind: 'status', status: 500 },
      ]);
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++)
        statuses.push(
          (await post(`${fake.ingestionUrl}/batch/`, { api_key: 'phc_a', batch: [{ event: 'a', distinct_id: 'u' }] }))
            .status,
        );
      outcomes.push(statuses);
      await fake.close();
      fake = undefined;
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(new Set(outcomes[0])).toEqual(new Set([200, 500, 502]));
  });
});

describe('fake PostHog private API', () => {
  it('authenticates personal keys with DRF envelopes', async () => {
    fake = await startFakePostHog();
    const none = await get(`${fake.apiUrl}/api/projects/1/cohorts/`, null);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({
      type: 'authentication_error',
      code: 'not_authenticated',
      detail: 'Authentication credentials were not provided.',
      attr: null,
    });
    const bad = await get(`${fake.apiUrl}/api/projects/1/cohorts/`, 'phx_wrong');
    expect(bad.body).toEqual({
      type: 'authentication_error',
      code: 'authentication_failed',
      detail: 'Personal API key found in request Authorization header is invalid.',
      attr: null,
    });
    const other = await get(`${fake.apiUrl}/api/projects/2/cohorts/`);
    expect(other.status).toBe(403);
    expect((await get(`${fake.apiUrl}/api/projects/@current/cohorts/`)).status).toBe(200);
    expect((await get(`${fake.apiUrl}/api/projects/1/nothing/`)).body).toMatchObject({
      type: 'invalid_request',
      code: 'not_found',
    });
  });

  it('paginates with absolute next links: limit/offset with count, cursors, before=, has_next', async () => {
    fake = await startFakePostHog({
      pageSize: 100,
      entities: { feature_flags: 250, persons: 150, session_recordings: 120 },
    });
    const first = await get(`${fake.apiUrl}/api/projects/1/feature_flags/`);
    expect(first.body.count).toBe(250);
    expect(first.body.results).toHaveLength(100);
    expect(first.body.next).toBe(`${fake.apiUrl}/api/projects/1/feature_flags/?limit=100&offset=100`);
    const third = await get(`${fake.apiUrl}/api/projects/1/feature_flags/?limit=100&offset=200`);
    expect(third.body.results).toHaveLength(50);
    expect(third.body.next).toBeNull();

    const persons = await get(`${fake.apiUrl}/api/projects/1/persons/`);
    expect(persons.body.count).toBeUndefined();
    expect(persons.body.next).toMatch(/cursor=/);
    expect((await get(String(persons.body.next))).body.results).toHaveLength(50);

    const recordings = await get(`${fake.apiUrl}/api/projects/1/session_recordings/?limit=100`);
    expect(recordings.body).toMatchObject({ has_next: true });
    expect(recordings.body.next).toBeUndefined();
  });

  it('lists received events newest first with a before= cursor, and learns property definitions', async () => {
    fake = await startFakePostHog();
    const batch = Array.from({ length: 5 }, (_, i) => ({
      event: i % 2 === 0 ? 'even' : 'odd',
      distinct_id: `u${i}`,
      uuid: uuid(i),
      timestamp: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      properties: { n: i, plan: 'pro' },
    }));
    await post(`${fake.ingestionUrl}/batch/`, { api_key: 'phc_a', batch });
    const page = await get(`${fake.apiUrl}/api/projects/1/events/?limit=3`);
    expect(page.body.count).toBeUndefined();
    expect(page.body.results.map((e) => e.id)).toEqual([uuid(4), uuid(3), uuid(2)]);
    const rest = await get(String(page.body.next));
    expect(rest.body.results.map((e) => e.id)).toEqual([uuid(1), uuid(0)]);
    expect(rest.body.next).toBeNull();
    const defs = await get(`${fake.apiUrl}/api/projects/1/property_definitions/?type=event`);
    expect(defs.body.results.map((d) => [d.name, d.property_type])).toEqual([
      ['n', 'Numeric'],
      ['plan', 'String'],
    ]);
  });

  it('runs HogQL over received events, with columns, types and hasMore', async () => {
    fake = await startFakePostHog();
    const batch = Array.from({ length: 150 }, (_, i) => ({
      event: i < 100 ? '$pageview' : '$identify',
      distinct_id: `u${i % 7}`,
      properties: { $set: { i } },
    }));
    await post(`${fake.ingestionUrl}/batch/`, { api_key: 'phc_a', batch });
    const query = (hogql: string): Promise<{ status: number; text: string }> =>
      post(
        `${fake!.apiUrl}/api/projects/1/query/`,
        { query: { kind: 'HogQLQuery', query: hogql } },
        { authorization: `Bearer ${KEY}` },
      );
    const counts: unknown = JSON.parse(
      (await query('select event, count() from events group by event order by count() desc')).text,
    );
    expect(counts).toMatchObject({
      results: [
        ['$pageview', 100],
        ['$identify', 50],
      ],
      columns: ['event', 'count()'],
      types: [
        ['event', 'String'],
        ['count()', 'UInt64'],
      ],
      hasMore: false,
    });
    const capped = JSON.parse((await query('SELECT distinct_id FROM events')).text) as {
      results: unknown[];
      hasMore: boolean;
    };
    expect(capped.results).toHaveLength(100);
    expect(capped.hasMore).toBe(true);
    const bad = await query('select nope from events');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toEqual({
      type: 'validation_error',
      code: 'invalid_input',
      detail: 'Unable to resolve field: nope',
      attr: null,
    });
    expect((await query('select from')).status).toBe(400);
  });

  it('throttles each bucket at its published limits with Retry-After, on its clock', async () => {
    const clock = new VirtualClock();
    fake = await startFakePostHog({ clock });
    for (let i = 0; i < 240; i++) expect((await get(`${fake.apiUrl}/api/projects/1/insights/`)).status).toBe(200);
    const refused = await get(`${fake.apiUrl}/api/projects/1/insights/`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(refused.body).toEqual({
      type: 'throttled_error',
      code: 'throttled',
      detail: 'Request was throttled. Expected available in 60 seconds.',
      attr: null,
    });
    // Another bucket is not affected.
    expect((await get(`${fake.apiUrl}/api/projects/1/cohorts/`)).status).toBe(200);
    await clock.advance(60_000);
    expect((await get(`${fake.apiUrl}/api/projects/1/insights/`)).status).toBe(200);
    expect(fake.stats.throttled).toBe(1);
  });

  it('keeps DRF throttle arithmetic: sustained limits across windows, waits spread over free slots', () => {
    const throttle = new Throttle(POSTHOG_RATE_LIMITS);
    let refusals = 0;
    // 240 a minute for five minutes fills the 1,200/hour sustained window.
    for (let minute = 0; minute < 6; minute++) {
      for (let i = 0; i < 240; i++) if (!throttle.check('analytics', 'k', minute * 60_000 + i).allowed) refusals++;
    }
    expect(refusals).toBe(240);
    const decision = throttle.check('analytics', 'k', 6 * 60_000);
    expect(decision.allowed).toBe(false);
    expect(!decision.allowed && decision.retryAfterS).toBe(3600 - 360);
  });

  it('answers injected API faults with envelopes and Retry-After', async () => {
    fake = await startFakePostHog();
    fake.faults
      .next('api', { kind: 'status', status: 429, retryAfterS: 7 })
      .next('api', { kind: 'status', status: 502, body: '<html>Bad gateway</html>' });
    const throttled = await get(`${fake.apiUrl}/api/projects/1/cohorts/`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    const html = await fetch(`${fake.apiUrl}/api/projects/1/cohorts/`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(html.status).toBe(502);
    expect(await html.text()).toBe('<html>Bad gateway</html>');
  });
});
