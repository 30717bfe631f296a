import { afterEach, describe, expect, it } from '@jest/globals';
import { noop } from '@bulwark/core';
import { untilIo, VirtualClock } from '@bulwark/testkit';

import { ENTITY_KINDS, isPostHogDecodeError, isPostHogHttpError, posthog } from '../src/index.js';
import { closeDriver, drive, driverAgainstFake, PROJECT_KEY } from './against-fake.js';

afterEach(closeDriver);
const setup = driverAgainstFake;

describe('capture', () => {
  it('delivers captured events with stable UUIDs, gzipped, in batches', async () => {
    const { fake, ph, events } = await setup({}, { flushAt: 10, maxBatchSize: 10 });
    const uuids = Array.from({ length: 25 }, (_, i) =>
      ph.capture({ event: 'clicked', distinctId: `u${i}`, properties: { i } }),
    );
    const result = await ph.flush();
    expect(result).toEqual({ sent: 25, dropped: 0, queued: 0 });
    expect(fake.received.unique).toBe(25);
    expect(uuids.every((uuid) => fake.received.has(uuid))).toBe(true);
    expect(events.filter((e) => e.type === 'flushed').map((e) => (e.type === 'flushed' ? e.count : 0))).toEqual([
      10, 10, 5,
    ]);
    const first = fake.received.list()[0];
    expect(first?.properties).toMatchObject({ i: 0, $lib: 'bulwark-posthog', $geoip_disable: true });
    expect(first?.token).toBe(PROJECT_KEY);
  });

  it('identify sets person properties the private API then shows', async () => {
    const { fake, ph } = await setup();
    ph.identify('person-9', { email: 'p9@example.com' });
    await ph.flush();
    expect(fake.received.list()[0]).toMatchObject({ event: '$identify', distinctId: 'person-9' });
    const persons = await ph.listObjects('persons');
    expect(persons.find((p) => p.distinct_ids?.includes('person-9'))?.properties).toMatchObject({
      email: 'p9@example.com',
    });
  });

  it('keeps events queued through 5xx and resets and delivers them on a later flush, duplicates counted by the fake', async () => {
    const { fake, ph, events } = await setup({}, { flushAt: 1000, maxBatchSize: 5 });
    for (let i = 0; i < 12; i++) ph.capture({ event: 'e', distinctId: 'u' });
    fake.faults.next('ingestion', { kind: 'status', status: 503 }).next('ingestion', { kind: 'reset-after-receive' });
    const failed = await ph.flush();
    expect(failed).toMatchObject({ sent: 0, queued: 12 });
    const again = await ph.flush();
    expect(again).toMatchObject({ sent: 0, queued: 12 });
    expect(await ph.flush()).toMatchObject({ sent: 12, queued: 0 });
    expect(fake.received.unique).toBe(12);
    expect(fake.received.duplicates).toBe(5);
    expect(events.filter((e) => e.type === 'flush-failed')).toHaveLength(2);
    expect(events.some((e) => e.type === 'dropped')).toBe(false);
  });

  it('splits a batch answered 413 and drops only the event too large alone, reported', async () => {
    const { fake, ph, events } = await setup({ maxEventBytes: 2000 }, { flushAt: 1000, maxBatchSize: 8 });
    const uuids = Array.from({ length: 8 }, (_, i) =>
      ph.capture({ event: 'e', distinctId: 'u', properties: { pad: i === 5 ? 'x'.repeat(3000) : 'small' } }),
    );
    const result = await ph.flush();
    expect(result).toEqual({ sent: 7, dropped: 1, queued: 0 });
    expect(fake.received.unique).toBe(7);
    expect(fake.received.has(uuids[5] as string)).toBe(false);
    const dropped = events.filter((e) => e.type === 'dropped');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ reason: 'too-large', count: 1, events: [{ uuid: uuids[5] }] });
    expect(events.filter((e) => e.type === 'batch-split').length).toBeGreaterThanOrEqual(3);
    expect(ph.stats.batchSize).toBeLessThan(8);
  });

  it('drops a batch rejected for good (bad project key) and says so', async () => {
    const { ph, events } = await setup({}, { projectApiKey: `phc_${'k'.repeat(80)}` });
    ph.capture({ event: 'e', distinctId: 'u' });
    expect(await ph.flush()).toMatchObject({ sent: 0, dropped: 1 });
    const dropped = events.find((e) => e.type === 'dropped');
    expect(dropped).toMatchObject({ reason: 'rejected', count: 1 });
    expect(isPostHogHttpError(dropped?.type === 'dropped' ? dropped.error : undefined)).toBe(true);
  });

  it('reports events that find the queue full of in-flight events, in one event with the count', async () => {
    const { ph, events } = await setup({}, { flushAt: 100, maxQueueSize: 100, flushIntervalMs: 60_000 });
    // The 100th capture starts a flush; the ones after find the queue full of in-flight events.
    const uuids = Array.from({ length: 150 }, () => ph.capture({ event: 'e', distinctId: 'u' }));
    await Promise.resolve();
    const dropped = events.filter((e) => e.type === 'dropped');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ reason: 'queue-full', count: 50 });
    expect(dropped[0]?.type === 'dropped' && dropped[0].events.map((e) => e.uuid)).toEqual(uuids.slice(100));
  });

  it('flushes on the interval through the injected clock, with a timer that does not keep the process alive', async () => {
    const clock = new VirtualClock();
    const { fake, ph } = await setup({}, { clock, flushIntervalMs: 5000 });
    ph.capture({ event: 'e', distinctId: 'u' });
    expect(clock.pending).toBe(1);
    expect(clock.pendingKeepAlive).toBe(0);
    await clock.advance(4999);
    expect(fake.received.unique).toBe(0);
    await clock.advance(1);
    await untilIo(() => ph.stats.inFlight === 0 && ph.stats.queued === 0);
    expect(fake.received.unique).toBe(1);
  });

  it('waits out the Retry-After of a 429 on a flush or batch, sending nothing sooner, then sends', async () => {
    const clock = new VirtualClock();
    const { fake, ph, events } = await setup({ clock }, { clock, flushAt: 1000, flushIntervalMs: 1000 });
    fake.faults.next('ingestion', { kind: 'status', status: 429, retryAfterS: 30 });
    ph.capture({ event: 'e', distinctId: 'u' });
    expect(await ph.flush()).toEqual({ sent: 0, dropped: 0, queued: 1 });
    await clock.advance(10_000);
    const settled: unknown[] = [];
    void ph.batch([{ event: 'f', distinctId: 'u' }]).then((result) => settled.push(result));
    // A second flush shares the run: a `while (queued) await flush()` loop waits, it does not spin.
    void ph.flush().then((result) => settled.push(result));
    await clock.advance(19_999);
    expect(settled).toEqual([]);
    expect(fake.stats.answers.get('ingestion:429')).toBe(1);
    expect(fake.stats.answers.get('ingestion:200')).toBeUndefined();
    await clock.advance(1);
    await untilIo(() => settled.length === 2);
    expect(settled).toEqual([
      { sent: 2, dropped: 0, queued: 0 },
      { sent: 2, dropped: 0, queued: 0 },
    ]);
    expect(fake.received.unique).toBe(2);
    expect(events.map((event) => event.type)).toEqual(['flush-failed', 'flushed']);
  });

  it('a shutdown deadline ends a flush waiting out a Retry-After, which says how long was left', async () => {
    const clock = new VirtualClock();
    const { fake, ph } = await setup({ clock }, { clock, flushAt: 1000 });
    fake.faults.next('ingestion', { kind: 'status', status: 429, retryAfterS: 30 });
    ph.capture({ event: 'e', distinctId: 'u' });
    await ph.flush();
    const waiting = ph.flush();
    const closing = ph.shutdown(10_000);
    await clock.advance(10_000);
    expect(await waiting).toEqual({ sent: 0, dropped: 0, queued: 1, retryInMs: 20_000 });
    expect(await closing).toEqual({ sent: 0, dropped: 1, drained: false });
    expect(fake.stats.answers.get('ingestion:200')).toBeUndefined();
  });

  it('shutdown waits out a Retry-After within its deadline, and drops at the deadline rather than send sooner', async () => {
    const clock = new VirtualClock();
    const { fake, ph } = await setup({ clock }, { clock, flushAt: 1000 });
    fake.faults.next('ingestion', { kind: 'status', status: 429, retryAfterS: 30 }, { times: 2 });
    ph.capture({ event: 'e', distinctId: 'u' });
    await ph.flush();
    const started = clock.now();
    expect(await drive(clock, ph.shutdown(10_000))).toEqual({ sent: 0, dropped: 1, drained: false });
    expect(clock.now() - started).toBe(10_000);
    expect(fake.stats.answers.get('ingestion:429')).toBe(1);
  });

  it('shutdown drains within its deadline and reports what is left', async () => {
    const clock = new VirtualClock();
    const { fake, ph, events } = await setup({ clock }, { clock, flushIntervalMs: 1000 });
    fake.faults.outage('ingestion', 60_000);
    for (let i = 0; i < 3; i++) ph.capture({ event: 'e', distinctId: 'u' });
    const done = ph.shutdown(10_000);
    for (let t = 0; t < 12; t++) {
      await untilIo(() => ph.stats.activeRequests === 0);
      await clock.advance(1000);
    }
    expect(await done).toEqual({ sent: 0, dropped: 3, drained: false });
    expect(events.find((e) => e.type === 'dropped')).toMatchObject({ reason: 'shutdown', count: 3 });
    ph.capture({ event: 'late', distinctId: 'u' });
    expect(events.filter((e) => e.type === 'dropped').at(-1)).toMatchObject({ reason: 'closed', count: 1 });
    expect(clock.pending).toBe(0);
  });
});

describe('breakers', () => {
  it('one per host: an ingestion outage opens the ingestion breaker, the private API goes on, a probe closes it', async () => {
    const clock = new VirtualClock();
    const { fake, ph, events } = await setup(
      { clock },
      { clock, flushAt: 1000, breaker: { failures: 3, halfOpenAfterMs: 10_000 } },
    );
    fake.faults.outage('ingestion', 20_000);
    ph.capture({ event: 'e', distinctId: 'u' });
    for (let i = 0; i < 3; i++) await ph.flush();
    expect(fake.stats.answers.size).toBe(0);
    const before = fake.faults.injectedOn('ingestion');
    const failFast = await ph.flush();
    expect(failFast).toMatchObject({ sent: 0, queued: 1 });
    expect(fake.faults.injectedOn('ingestion')).toBe(before); // refused by the breaker: no request
    const lastFailure = events.filter((e) => e.type === 'flush-failed').at(-1);
    expect(lastFailure?.type === 'flush-failed' && (lastFailure.error as Error).name).toBe('BrokenCircuit');
    expect(ph.components.map((c) => [c.name, c.health().status]).slice(0, 2)).toEqual([
      ['posthog.ingestion', 'unhealthy'],
      ['posthog.api', 'healthy'],
    ]);
    expect(await ph.listObjects('cohorts')).toHaveLength(3);
    await clock.advance(20_000);
    expect(await ph.flush()).toMatchObject({ sent: 1, queued: 0 });
    expect(ph.components[0]?.health().status).toBe('healthy');
  });

  it('does not count a 4xx or a 429 as the host failing', async () => {
    const { fake, ph } = await setup({}, { breaker: { failures: 2 } });
    fake.faults.next('api', { kind: 'status', status: 429 }, { times: 3 });
    for (let i = 0; i < 3; i++) await ph.listObjects('cohorts').catch(() => undefined);
    await ph.query('select nope from events').catch(() => undefined);
    expect(ph.components[1]?.health().status).toBe('healthy');
  });
});

describe('private API', () => {
  it('lists every kind, following next links', async () => {
    const counts = {
      insights: 120,
      cohorts: 7,
      feature_flags: 250,
      annotations: 1,
      experiments: 2,
      session_recordings: 130,
      persons: 205,
    };
    const { ph } = await setup({ entities: counts, pageSize: 50 });
    ph.capture({ event: 'seen', distinctId: 'u', timestamp: new Date().toISOString() });
    await ph.flush();
    for (const kind of ENTITY_KINDS) {
      const rows = await ph.listObjects(kind, { pageSize: 50 });
      expect(rows).toHaveLength(kind === 'events' ? 1 : counts[kind]);
    }
    expect((await ph.listObjects('feature_flags', { maxItems: 60 })).map((f) => f.key).slice(-1)).toEqual(['flag-60']);
  });

  it('moves next links on another origin onto the API host, never sending the key elsewhere', async () => {
    const { ph } = await setup({ entities: { cohorts: 150 }, linkOrigin: 'http://internal.invalid:8000' });
    expect(await ph.listObjects('cohorts')).toHaveLength(150);
  });

  it('describes fields: columns, and properties PostHog has seen', async () => {
    const { ph } = await setup();
    ph.capture({ event: 'bought', distinctId: 'u', properties: { amount: 3, currency: 'EUR' } });
    await ph.flush();
    const fields = await ph.getFields('events');
    expect(fields).toEqual(
      expect.arrayContaining([
        { name: 'event', type: 'string', source: 'column' },
        { name: 'properties.amount', type: 'Numeric', source: 'property' },
        { name: 'properties.currency', type: 'String', source: 'property' },
      ]),
    );
    const flagFields = await ph.getFields('feature_flags');
    expect(flagFields.map((f) => f.name)).toEqual(
      expect.arrayContaining(['id', 'key', 'active', 'rollout_percentage']),
    );
  });

  it('runs HogQL and returns results, columns, types and hasMore', async () => {
    const { ph } = await setup();
    for (let i = 0; i < 3; i++) ph.capture({ event: i === 0 ? 'a' : 'b', distinctId: 'u' });
    await ph.flush();
    const result = await ph.query('select event, count() from events group by event order by event');
    expect(result).toEqual({
      results: [
        ['a', 1],
        ['b', 2],
      ],
      columns: ['event', 'count()'],
      types: [
        { name: 'event', type: 'String' },
        { name: 'count()', type: 'UInt64' },
      ],
      hasMore: false,
    });
  });

  it('turns DRF envelopes into typed errors', async () => {
    const { fake, ph } = await setup();
    const error: unknown = await ph.query('select nope from events').catch((e: unknown) => e);
    expect(isPostHogHttpError(error)).toBe(true);
    expect(error).toMatchObject({
      status: 400,
      type: 'validation_error',
      code: 'invalid_input',
      detail: 'Unable to resolve field: nope',
      retryable: false,
    });
    const unauthorised = posthog({ personalApiKey: 'phx_wrong', apiHost: fake.apiUrl });
    const auth: unknown = await unauthorised.listObjects('cohorts').catch((e: unknown) => e);
    expect(auth).toMatchObject({ status: 401, type: 'authentication_error', code: 'authentication_failed' });
    expect(String((auth as Error).message)).not.toContain('phx_wrong');
  });

  it('retries a reset, a 503 and a 429 by default, waiting at least its Retry-After, and answers', async () => {
    const clock = new VirtualClock();
    // No jitter: a fractional wait before the 429 would leave the clock where 7000 ms later reads 6999.99….
    const { fake, ph } = await setup({ clock }, { clock, random: { next: () => 0 } });
    fake.faults.next('api', { kind: 'reset' }).next('api', { kind: 'status', status: 503 });
    // Two attempts fail (a reset, a 503), the third answers.
    expect(await drive(clock, ph.listObjects('cohorts'))).toHaveLength(3);
    fake.faults.next('api', { kind: 'status', status: 429, retryAfterS: 7 });
    const started = clock.now();
    expect(await drive(clock, ph.listObjects('cohorts'))).toHaveLength(3);
    expect(clock.now() - started).toBeGreaterThanOrEqual(7000);
    expect(fake.stats.answers.get('api:200')).toBe(2);
  });

  it('ends a request that hangs at requestTimeoutMs, and the retry answers', async () => {
    const clock = new VirtualClock();
    const { fake, ph } = await setup({ clock }, { clock, requestTimeoutMs: 2_000 });
    fake.faults.next('api', { kind: 'delay', ms: 60_000 });
    const started = clock.now();
    expect(await drive(clock, ph.listObjects('cohorts'))).toHaveLength(3);
    expect(clock.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(clock.now() - started).toBeLessThan(60_000);
  });

  it('fails with a TimeoutError when every attempt hangs', async () => {
    const clock = new VirtualClock();
    const { fake, ph } = await setup({ clock }, { clock, requestTimeoutMs: 2_000 });
    for (let i = 0; i < 3; i++) fake.faults.next('api', { kind: 'delay', ms: 60_000 });
    await expect(drive(clock, ph.listObjects('cohorts'))).rejects.toMatchObject({ _tag: 'Timeout', timeoutMs: 2_000 });
  });

  it('never retries a 4xx other than 408 and 429', async () => {
    const clock = new VirtualClock();
    const { fake, ph } = await setup({ clock }, { clock });
    fake.faults.next('api', { kind: 'status', status: 400 });
    await expect(drive(clock, ph.listObjects('cohorts'))).rejects.toMatchObject({ status: 400 });
    expect(fake.stats.answers.get('api:200')).toBeUndefined();
    expect(await drive(clock, ph.listObjects('cohorts'))).toHaveLength(3);
  });

  it('holds every request of a bucket back for the Retry-After of a 429, on the clock', async () => {
    const clock = new VirtualClock();
    // Without the default retry, to see the 429 itself.
    const { fake, ph } = await setup({ clock }, { clock, apiPolicy: noop });
    fake.faults.next('api', { kind: 'status', status: 429, retryAfterS: 5 });
    const throttled: unknown = await ph.listObjects('insights').catch((e: unknown) => e);
    expect(throttled).toMatchObject({ status: 429, retryAfterMs: 5000, retryable: true });
    let done = false;
    const later = ph.listObjects('persons').then(() => (done = true));
    const other = await ph.listObjects('cohorts'); // another bucket is not held back
    expect(other).toHaveLength(3);
    await clock.advance(4999);
    expect(done).toBe(false);
    await clock.advance(1);
    await later;
    expect(fake.stats.answers.get('api:200')).toBe(2);
  });

  it('sends no attempt before the Retry-After of a 429 has passed, even one longer than the default retry waits', async () => {
    const clock = new VirtualClock();
    const sentAt: number[] = [];
    const { fake, ph } = await setup(
      { clock },
      {
        clock,
        random: { next: () => 0 },
        fetch: (url, init) => {
          sentAt.push(clock.now());
          return fetch(url, init);
        },
      },
    );
    // The default retry waits at most 60 s for a Retry-After; the bucket's pause holds the attempt for the rest.
    fake.faults.next('api', { kind: 'status', status: 429, retryAfterS: 300 }, { times: 2 });
    const started = clock.now();
    expect(await drive(clock, ph.listObjects('cohorts'))).toHaveLength(3);
    expect(sentAt.map((at) => at - started)).toEqual([0, 300_000, 600_000]);
  });

  it('reads no more than maxResponseBytes of an answer: a longer one is a typed error', async () => {
    const { fake, ph } = await setup({}, { maxResponseBytes: 4096 });
    const huge = JSON.stringify({ results: [{ id: 1, name: 'x'.repeat(100_000) }], next: null });
    fake.faults.next('api', { kind: 'status', status: 200, body: huge });
    const error: unknown = await ph.listObjects('cohorts').catch((e: unknown) => e);
    expect(isPostHogDecodeError(error)).toBe(true);
    expect((error as { errors: string[] }).errors).toEqual(['(root): a body larger than 4096 bytes']);
    expect(await ph.listObjects('cohorts')).toHaveLength(3);
  });

  it('turns a body that does not decode into a typed error with paths', async () => {
    const { fake, ph } = await setup();
    (fake.data.entities('cohorts')[1] as Record<string, unknown>)['id'] = 'not-a-number';
    const error: unknown = await ph.listObjects('cohorts').catch((e: unknown) => e);
    expect(isPostHogDecodeError(error)).toBe(true);
    expect((error as { errors: string[] }).errors).toEqual(['results[1].id: expected number, got "not-a-number"']);
  });
});

describe('configuration', () => {
  it('fails a request naming `apiPolicy` when the function returns no policy', async () => {
    const { ph } = await setup({}, { apiPolicy: () => undefined as never });
    await expect(ph.listObjects('cohorts')).rejects.toThrow(/`apiPolicy` to return a policy, got undefined/);
  });

  it.each([
    [{ flushAt: 0 }, RangeError, /flushAt/],
    [{ requestTimeoutMs: 0 }, RangeError, /requestTimeoutMs/],
    [{ maxQueueSize: 5, flushAt: 10 }, RangeError, /maxQueueSize/],
    [{ flushAt: 10_001 }, RangeError, /`flushAt` to be an integer <= maxQueueSize \(10000\)/],
    [{ host: 'ftp://x' }, RangeError, /host/],
    [{ overflow: 'drop-random' }, RangeError, /overflow/],
    [{ projectApiKey: 'phx_secret_personal' }, TypeError, /personal API key/],
    [{ personalApiKey: 'phc_secret_project' }, TypeError, /project API key/],
    // A key pasted with a second line would reach fetch, whose refusal of the header quotes it.
    [{ personalApiKey: 'phx_secret_personal\nphx_secret_more' }, RangeError, /`personalApiKey`.*a line break/],
    [{ projectApiKey: 'phc_secret\u0000project' }, RangeError, /`projectApiKey`.*a control character/],
    [{ personalApiKey: 'phx_secret personal' }, RangeError, /`personalApiKey`.*a space/],
    [{ projectApiKey: 'phc_secret_projé' }, RangeError, /`projectApiKey`.*a character outside ASCII/],
    [{ clock: {} }, RangeError, /`clock`/],
    [{ ingestionPolicy: () => undefined }, RangeError, /`ingestionPolicy`/],
    [{ rateLimitStore: {} }, RangeError, /`rateLimitStore`/],
    [{ rateLimits: { crud: [] } }, RangeError, /`rateLimits\.crud`/],
  ])('rejects %j', (options, Kind, message) => {
    expect(() => posthog(options as never)).toThrow(Kind);
    expect(() => posthog(options as never)).toThrow(message);
    try {
      posthog(options as never);
    } catch (error) {
      expect(String((error as Error).message)).not.toMatch(/secret/);
    }
  });
});
