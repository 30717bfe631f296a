import { describe, expect, it } from '@jest/globals';
import { bulkhead } from '@bulwark/bulkhead';
import { BulwarkError } from '@bulwark/core';

import {
  defaultPipeline,
  isDependencyFailure,
  isRetryableFailure,
  OilPriceApiError,
  OilPriceNetworkError,
  OilPriceResponseError,
  type OilPriceErrorDetails,
} from '../src/index.js';

const api = (status: number, extra: Partial<OilPriceErrorDetails> = {}): OilPriceApiError =>
  new OilPriceApiError('GET /v1/prices/latest', {
    status,
    suggestions: [],
    invalidCodes: [],
    rateLimit: {},
    bodySnippet: '',
    ...extra,
  });

class TimeoutLike extends BulwarkError<'Timeout'> {
  readonly retryable = true;
  constructor() {
    super('Timeout', 'timed out');
  }
}
class OpenCircuitLike extends BulwarkError<'BrokenCircuit'> {
  readonly retryable = false;
  constructor() {
    super('BrokenCircuit', 'open');
  }
}

describe('predicates', () => {
  it.each<[string, unknown, boolean, boolean]>([
    ['500', api(500), true, true],
    ['502 HTML', api(502, { contentType: 'text/html' }), true, true],
    ['429 burst', api(429, { rateLimit: { remaining: 0 } }), true, true],
    [
      '429 hourly breaker',
      api(429, { rateLimit: { state: 'exhausted', window: 'hourly_circuit_breaker' } }),
      true,
      true,
    ],
    ['429 monthly quota', api(429, { rateLimit: { state: 'exhausted', window: 'monthly_counter' } }), false, false],
    ['402', api(402), false, false],
    ['400', api(400), false, false],
    ['401', api(401), false, false],
    ['403', api(403), false, false],
    ['404', api(404), false, false],
    ['422', api(422), false, false],
    ['503 saying retryable: false', api(503, { retryableHint: false }), false, true],
    ['a reset', new OilPriceNetworkError('GET /', 'ECONNRESET', undefined), true, true],
    ['cut-off JSON', new OilPriceResponseError('GET /', 'malformed-json'), true, true],
    ['wrong shape', new OilPriceResponseError('GET /', 'unexpected-shape', ['data.price']), false, true],
    ['a timeout', new TimeoutLike(), true, true],
    ['an open circuit', new OpenCircuitLike(), false, false],
    ['a bug', new TypeError('x is undefined'), false, false],
    ['an abort', new DOMException('aborted', 'AbortError'), false, false],
  ])('%s: retryable %s, dependency failure %s', (_, error, retryable, dependency) => {
    expect(isRetryableFailure(error)).toBe(retryable);
    expect(isDependencyFailure(error)).toBe(dependency);
  });
});

describe('the default breaker and the bulkhead inside it', () => {
  it('counts a refusal of the bulkhead neither as a failure nor as a success', async () => {
    const policy = defaultPipeline({
      telemetry: false,
      cache: false,
      validate: false,
      retry: false,
      timeout: false,
      redisUrl: '',
      bulkhead: bulkhead({ capacity: 1, queueSize: 0 }),
    });
    const networkError = (): OilPriceNetworkError =>
      new OilPriceNetworkError('GET /v1/prices/latest', 'ECONNRESET', undefined);
    for (let i = 0; i < 4; i++) await expect(policy.execute(() => Promise.reject(networkError()))).rejects.toThrow();
    // The fifth call holds the only slot while a sixth is refused; then the fifth fails too.
    let fail = (): void => undefined;
    const fifth = policy.execute(() => new Promise<never>((_, reject) => (fail = () => reject(networkError()))));
    await expect(policy.execute(async () => 'refused')).rejects.toMatchObject({ _tag: 'BulkheadRejected' });
    fail();
    await expect(fifth).rejects.toThrow();
    // Five failures in a row, the refusal between them not counted: the breaker is open.
    await expect(policy.execute(async () => 'answered')).rejects.toMatchObject({ _tag: 'BrokenCircuit' });
  });
});
