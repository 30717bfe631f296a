// What PostHog (or a proxy in front of it) may send that its API does not document: rows with keys
// that would replace a prototype, error texts that echo a key back, bodies that drip a byte at a time.
// Each must end in a typed error (or the caller's own abort reason), with nothing polluted and
// nothing of a key in any text.
import { inspect } from 'node:util';

import { afterEach, describe, expect, it } from '@jest/globals';
import { isBulwarkError, noop, systemClock } from '@bulwark/core';
import { runWithIo, untilIo, VirtualClock, rejectionOf } from '@bulwark/testkit';

import { isPostHogDecodeError, isPostHogHttpError, type posthog, type PostHog } from '../src/index.js';
import { closeDriver, driverAgainstFake } from './against-fake.js';

const PROJECT_KEY = 'phc_project_key_0123456789abcdef';
const PERSONAL_KEY = 'phx_personal_key_0123456789abcdef';

afterEach(closeDriver);

/** A driver of a fake that knows {@link PERSONAL_KEY}, flushing only when asked, on `clock` if given. */
const setup = (
  options: Parameters<typeof posthog>[0] = {},
  clock?: VirtualClock,
): ReturnType<typeof driverAgainstFake> =>
  driverAgainstFake(
    { personalApiKeys: [PERSONAL_KEY], ...(clock === undefined ? {} : { clock }) },
    { projectApiKey: PROJECT_KEY, flushAt: 1000, ...(clock === undefined ? {} : { clock }), ...options },
  );

/** Every text a caller could see of a value: its string form and a deep inspection. */
const everything = (value: unknown): string => `${String(value)} ${inspect(value, { depth: 8, showHidden: true })}`;

describe('prototype-polluting keys', () => {
  it('a row with a __proto__ key is a typed error, and no object comes back with a prototype the server chose', async () => {
    const { fake, ph } = await setup({ apiPolicy: noop });
    const body = '{"results":[{"id":1,"name":"a","__proto__":{"polluted":"yes","isAdmin":true}}],"next":null}';
    fake.faults.next('api', { kind: 'status', status: 200, body });
    const error = await rejectionOf(ph.listObjects('cohorts'));
    expect(isPostHogDecodeError(error)).toBe(true);
    expect((error as { errors: string[] }).errors.join('\n')).toContain('__proto__');
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    // In a HogQL answer too.
    const answer = '{"results":[[1]],"columns":["x"],"types":[["x","Int64"]],"__proto__":{"hasMore":true}}';
    fake.faults.next('api', { kind: 'status', status: 200, body: answer });
    expect(isPostHogDecodeError(await rejectionOf(ph.query('select 1')))).toBe(true);
    // What comes back normally is plain data.
    const rows = await ph.listObjects('cohorts');
    expect(rows.length).toBe(3);
    for (const row of rows) expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });
});

describe('keys echoed back', () => {
  it('are in no error or event, even where a text was cut off in the middle of one', async () => {
    const { fake, ph, events } = await setup({ apiPolicy: noop });
    // The personal key straddles the 300th character, where an error's detail is cut.
    const cutBody = `${'x'.repeat(300 - 10)} ${PERSONAL_KEY} is not valid`;
    fake.faults.next('api', { kind: 'status', status: 401, body: cutBody });
    const cut = await rejectionOf(ph.listObjects('cohorts'));
    fake.faults.next('api', { kind: 'status', status: 403, body: `key ${PERSONAL_KEY} may not read this` });
    const whole = await rejectionOf(ph.query('select 1'));
    // A wrong type whose shown value (cut at 40 characters) holds the key.
    const row = `{"results":[{"id":"${'i'.repeat(20)} ${PERSONAL_KEY}"}],"next":null}`;
    fake.faults.next('api', { kind: 'status', status: 200, body: row });
    const decode = await rejectionOf(ph.listObjects('cohorts'));
    // The ingestion host echoing the project key in its plain-text error.
    fake.faults.next('ingestion', { kind: 'status', status: 400, body: `invalid api_key ${PROJECT_KEY}!` });
    ph.capture({ event: 'e', distinctId: 'u' });
    await ph.flush();
    expect(isPostHogHttpError(cut) && isPostHogHttpError(whole) && isPostHogDecodeError(decode)).toBe(true);
    const text = [cut, whole, decode, ...events].map(everything).join('\n');
    expect(events.some((event) => event.type === 'flush-failed' || event.type === 'dropped')).toBe(true);
    for (const key of [PERSONAL_KEY, PROJECT_KEY]) expect(text).not.toContain(key.slice(0, 10));
  });
});

describe('aborts', () => {
  it.each([
    ['listing', (ph: PostHog, signal: AbortSignal) => ph.listObjects('cohorts', { signal })],
    ['a query', (ph: PostHog, signal: AbortSignal) => ph.query('select 1', { signal })],
    ['fields', (ph: PostHog, signal: AbortSignal) => ph.getFields('events', { signal })],
  ])('%s aborted by the caller rejects with the abort reason', async (_, call) => {
    const { fake, ph } = await setup({ clock: systemClock });
    fake.faults.next('api', { kind: 'delay', ms: 60_000 });
    const controller = new AbortController();
    const reason = new Error('the caller gave up');
    const pending = rejectionOf(call(ph, controller.signal));
    await untilIo(() => fake.sleeping === 1);
    controller.abort(reason);
    expect(await pending).toBe(reason);
  });
});

describe('slow loris', () => {
  it('the default API policy ends a body that drips at the request timeout, each attempt, with a TimeoutError', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 15, 12));
    const { fake, ph } = await setup({ random: { next: () => 0.5 } }, clock);
    const drip = { kind: 'slow-body', intervalMs: 1000, bytes: 1 } as const;
    fake.faults.next('api', drip, { times: 3 });
    const started = clock.now();
    const parked = (): boolean => ph.stats.activeRequests === fake.sleeping;
    const error = await rejectionOf(runWithIo(ph.listObjects('cohorts'), clock, parked));
    expect(isBulwarkError(error) && error._tag).toBe('Timeout');
    // Three attempts of 10 s each and the retry's two waits (1 s and 2 s, + at most 30 %): not the
    // drip's minutes, and no attempt given up before its timeout.
    expect(fake.faults.injectedOn('api')).toBe(3);
    expect(clock.now() - started).toBeGreaterThanOrEqual(3 * 10_000 + 1_000 + 2_000);
    expect(clock.now() - started).toBeLessThanOrEqual(3 * 10_000 + 1_300 + 2_600);
    expect(ph.stats.activeRequests).toBe(0);
    await untilIo(() => fake?.stats.inFlight === 0);
  });

  it('counts a capture batch delivered at its 2xx status: a dripping body is not waited for, nor the batch sent twice', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 15, 12));
    const { fake, ph, events } = await setup({ requestTimeoutMs: 300 }, clock);
    // '{"status":"Ok"}' a byte a second: 14 s, far past the request timeout.
    fake.faults.next('ingestion', { kind: 'slow-body', intervalMs: 1000, bytes: 1 });
    for (let i = 0; i < 5; i++) ph.capture({ event: 'e', distinctId: 'u' });
    const parked = (): boolean => ph.stats.activeRequests === fake.sleeping;
    expect(await runWithIo(ph.flush(), clock, parked)).toEqual({ sent: 5, dropped: 0, queued: 0 });
    expect(await runWithIo(ph.flush(), clock, parked)).toEqual({ sent: 0, dropped: 0, queued: 0 });
    expect(fake.received.deliveries).toBe(5);
    expect(fake.received.duplicates).toBe(0);
    expect(events.map((event) => event.type)).toEqual(['flushed']);
    // The body was cancelled, not left on the socket: the fake sees its client go and stops dripping
    // (the clock stood still since the flush, so nothing else ended its wait).
    await untilIo(() => fake.sleeping === 0 && fake.stats.inFlight === 0);
  });

  it('counts a capture batch delivered at its 2xx status whatever its body: one longer than maxResponseBytes too', async () => {
    const { fake, ph, events } = await setup({ maxResponseBytes: 4 });
    for (let i = 0; i < 3; i++) ph.capture({ event: 'e', distinctId: 'u' });
    expect(await ph.flush()).toEqual({ sent: 3, dropped: 0, queued: 0 });
    expect(await ph.flush()).toEqual({ sent: 0, dropped: 0, queued: 0 });
    expect(fake.received.deliveries).toBe(3);
    expect(events.map((event) => event.type)).toEqual(['flushed']);
  });
});

describe('inspection', () => {
  it('shows no key through util.inspect or JSON.stringify of the driver', async () => {
    const { ph } = await setup();
    const shown = [
      inspect(ph, { depth: 10, showHidden: true, getters: true }),
      JSON.stringify(ph.stats),
      JSON.stringify(ph.health()),
    ];
    for (const text of shown) {
      expect(text).not.toContain(PROJECT_KEY);
      expect(text).not.toContain(PERSONAL_KEY);
    }
  });
});
