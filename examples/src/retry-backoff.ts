/**
 * Retrying an HTTP service that has a bad minute: a 503 (a result, retried by `handleResult`), a 429
 * whose `Retry-After` sets the next wait, then an answer; a 404 that is not retried; and a shared
 * retry budget that stops a fleet from multiplying the load on a service that is down.
 *
 * Run: pnpm --filter @bulwark/examples example src/retry-backoff.ts
 */

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { BulwarkError } from '@bulwark/core';
import { exponential, jitter, retry, retryBudget, type RetryEvent } from '@bulwark/retry';

/** A failed HTTP call; only 408, 429 and 5xx are worth another attempt. */
class HttpError extends BulwarkError<'Http'> {
  readonly retryable: boolean;
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super('Http', `HTTP ${status}`);
    this.retryable = status === 408 || status === 429 || status >= 500;
  }
}

// The service: /flaky answers 503, then 429 with Retry-After: 1, then 200; /missing is a 404; /down is a 503.
const hits = new Map<string, number>();
const server = createServer((request, response) => {
  const path = request.url ?? '/';
  const hit = (hits.get(path) ?? 0) + 1;
  hits.set(path, hit);
  if (path === '/flaky' && hit === 1) response.writeHead(503).end();
  else if (path === '/flaky' && hit === 2) response.writeHead(429, { 'retry-after': '1' }).end();
  else if (path === '/flaky') response.writeHead(200, { 'content-type': 'application/json' }).end('{"price":82.4}');
  else if (path === '/down') response.writeHead(503).end();
  else response.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** GET that throws HttpError for 4xx (with Retry-After in ms) and returns other responses. */
async function get(path: string, signal: AbortSignal): Promise<Response> {
  const response = await fetch(`${base}${path}`, { signal });
  if (response.status >= 400 && response.status < 500) {
    const seconds = Number(response.headers.get('retry-after'));
    throw new HttpError(response.status, Number.isFinite(seconds) && seconds > 0 ? seconds * 1_000 : undefined);
  }
  return response;
}

// 4 attempts, 20 ms × 2^n plus up to 30 % jitter; a 503 response is retried like an error.
const policy = retry({
  maxAttempts: 4,
  backoff: jitter(exponential({ baseMs: 20 }), 0.3),
  handleResult: (response) => (response as Response).status >= 500,
});
const events: RetryEvent[] = [];
policy.onEvent((event) => events.push(event));

const started = Date.now();
const answer = await policy.execute((ctx) => get('/flaky', ctx.signal));
assert.equal(answer.status, 200);
assert.deepEqual(await answer.json(), { price: 82.4 });
assert.equal(hits.get('/flaky'), 3);
const [first, second] = events;
assert.ok(first?.type === 'retry' && first.delayMs >= 20 && first.delayMs < 26); // the schedule: the 503 result
assert.ok(second?.type === 'retry' && second.delayMs === 1_000); // the 429's Retry-After wins over 40 ms
assert.ok(Date.now() - started >= 1_000);
console.log(
  `/flaky answered after ${hits.get('/flaky')} attempts, waits of ${events
    .map((e) => (e.type === 'retry' ? Math.round(e.delayMs) : ''))
    .filter(Boolean)
    .join(' and ')} ms`,
);

// A 404 is not retryable: one attempt, the error rethrown as it was.
const missing = await policy.execute((ctx) => get('/missing', ctx.signal)).catch((error: unknown) => error);
assert.ok(missing instanceof HttpError && missing.status === 404);
assert.equal(hits.get('/missing'), 1);

// Ten clients of a service that is down, sharing a budget: 10 % of calls may be retried.
const budget = retryBudget({ ratio: 0.1, minPerSecond: 0 });
const client = retry({
  budget,
  maxAttempts: 4,
  backoff: exponential({ baseMs: 1 }),
  handleResult: (r) => (r as Response).status >= 500,
});
for (let i = 0; i < 10; i++) await client.execute((ctx) => get('/down', ctx.signal));
assert.equal(hits.get('/down'), 11); // 10 calls and 1 retry, not 40 attempts
console.log(`/down: ${hits.get('/down')} requests for 10 calls with a shared budget (40 without one)`);

server.close();
