import { afterEach, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { noop } from '@bulwark/core';
import { startFakePostHog, type FakePostHog } from '@bulwark/testkit/fake-posthog';

import { posthog } from '../src/index.js';

let fake: FakePostHog | undefined;
afterEach(async () => fake?.close());

const PROJECT_KEY = 'phc_SECRET_project_0123456789';

it('never shows a key in events, errors, stats, health or the driver itself, through every kind of failure', async () => {
  fake = await startFakePostHog({ personalApiKeys: ['phx_SECRET_personal_0123456789'], maxEventBytes: 500 });
  const personal = fake.personalApiKey;
  const seen: unknown[] = [];
  const ph = posthog({
    projectApiKey: PROJECT_KEY,
    personalApiKey: personal,
    host: fake.ingestionUrl,
    apiHost: fake.apiUrl,
    flushAt: 1000,
    apiPolicy: noop, // each fault comes back at once, on the real clock (the retry's own events are tested apart)
  });
  ph.onEvent((event) => seen.push(event));
  fake.faults
    .next('ingestion', { kind: 'status', status: 503 })
    .next('ingestion', { kind: 'reset' })
    .next('ingestion', { kind: 'status', status: 401 });
  for (let i = 0; i < 4; i++)
    ph.capture({ event: 'e', distinctId: 'u', properties: { pad: i === 2 ? 'x'.repeat(600) : '' } });
  for (let i = 0; i < 4; i++) await ph.flush();
  ph.capture({ event: 'e', distinctId: 'u' });
  fake.faults.next('api', { kind: 'reset' }).next('api', { kind: 'status', status: 500 });
  seen.push(await ph.listObjects('cohorts').catch((e: unknown) => e));
  seen.push(await ph.listObjects('cohorts').catch((e: unknown) => e));
  seen.push(await ph.query('select nope from events').catch((e: unknown) => e));
  const wrong = posthog({ personalApiKey: 'phx_SECRET_wrong_0123456789', apiHost: fake.apiUrl });
  seen.push(await wrong.query('select 1 from events').catch((e: unknown) => e));
  seen.push(ph.stats, ph.health(), await ph.shutdown(1000));
  seen.push(ph, wrong);

  expect(seen.filter((s) => s instanceof Error).length).toBe(4);
  const text = seen
    .map((s) =>
      s instanceof Error
        ? `${s.name} ${s.message} ${inspect(s, { depth: 5 })}`
        : inspect(s, { depth: 8, showHidden: true }),
    )
    .join('\n');
  expect(text).toContain('PostHogHttp');
  expect(text).toContain('PostHogNetwork');
  expect(text).not.toMatch(/SECRET/);
});

it('reports its health', async () => {
  fake = await startFakePostHog();
  const ph = posthog({ projectApiKey: PROJECT_KEY, host: fake.ingestionUrl, flushAt: 1000, maxQueueSize: 1000 });
  expect(ph.health()).toMatchObject({ status: 'healthy', details: { queued: 0 } });
  fake.faults.next('ingestion', { kind: 'status', status: 502 });
  ph.capture({ event: 'e', distinctId: 'u' });
  await ph.flush();
  expect(ph.health()).toMatchObject({ status: 'degraded', details: { queued: 1, lastError: 'PostHogHttp' } });
  await ph.flush();
  expect(ph.health().status).toBe('healthy');
  await ph.shutdown();
  expect(ph.health().status).toBe('unhealthy');
});

it('takes the keys out of what fetch says when it refuses a request: a quoted header value does not reach the error', async () => {
  fake = await startFakePostHog({ personalApiKeys: ['phx_SECRET_personal_0123456789'] });
  // As undici refuses a header value it cannot send: the value quoted, in the error and in its cause.
  const refusing = (_url: string, init: RequestInit): Promise<Response> => {
    const authorization = (init.headers as Record<string, string>)['authorization'];
    const refusal = new TypeError(`Headers.append: "${authorization}" is an invalid header value.`);
    return Promise.reject(new TypeError(`fetch failed for ${authorization}`, { cause: refusal }));
  };
  const ph = posthog({ personalApiKey: fake.personalApiKey, apiHost: fake.apiUrl, apiPolicy: noop, fetch: refusing });
  const error: unknown = await ph.listObjects('cohorts').catch((e: unknown) => e);
  expect(error).toMatchObject({
    _tag: 'PostHogNetwork',
    message: expect.stringContaining('is an invalid header value'),
  });
  const text = `${String(error)} ${inspect(error, { depth: 8, showHidden: true })}`;
  expect(text).toContain('Headers.append');
  expect(text).not.toMatch(/SECRET/);
});

it('redacts a cause that is a string, and keeps the fields a network error is told apart by', async () => {
  fake = await startFakePostHog({ personalApiKeys: ['phx_SECRET_personal_0123456789'] });
  const refusing = (_url: string, init: RequestInit): Promise<Response> => {
    const authorization = (init.headers as Record<string, string>)['authorization'];
    const refused = Object.assign(
      new Error(`connect refused for ${authorization}`, { cause: `sent ${authorization}` }),
      {
        code: 'ECONNREFUSED',
        errno: -111,
        syscall: 'connect',
      },
    );
    return Promise.reject(new TypeError('fetch failed', { cause: refused }));
  };
  const ph = posthog({ personalApiKey: fake.personalApiKey, apiHost: fake.apiUrl, apiPolicy: noop, fetch: refusing });
  const error: unknown = await ph.listObjects('cohorts').catch((e: unknown) => e);
  expect(inspect(error, { depth: 8, showHidden: true })).not.toMatch(/SECRET/);
  let cause: unknown = (error as Error).cause;
  while (cause instanceof Error && (cause as { syscall?: string }).syscall === undefined) cause = cause.cause;
  expect(cause).toMatchObject({ code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
});
