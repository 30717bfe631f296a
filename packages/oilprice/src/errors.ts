/**
 * The errors an OilPriceAPI call can end in, as typed values.
 *
 * - {@link OilPriceApiError}: the API answered with a status other than 2xx. Every one of the four
 *   error-body shapes the API sends (canonical nested, `fail`/`data`, legacy flat, minimal or HTML) is
 *   read into the same fields: status, machine code, request id, `retryAfterMs`, suggestions, plan fields,
 *   rate-limit and quota state.
 * - {@link OilPriceNetworkError}: no answer (connection refused or reset, socket closed mid-body).
 * - {@link OilPriceResponseError}: a 2xx whose body is not JSON or not the shape the API documents.
 * - {@link OilPriceClosedError}: the client was closed before the call could end.
 *
 * Each carries `retryable`, which the default pipeline's retry reads: 429 (unless the quota is
 * exhausted for the period), 5xx, network errors and cut-off bodies are retryable; other 4xx are not.
 * No message, field or snippet ever holds the API key: the client passes its key to be redacted.
 *
 * @module
 */

import { BulwarkError, tagGuard } from '@bulwark/core';

/**
 * What kind of refusal an {@link OilPriceApiError} is, from its status and rate-limit headers.
 *
 * `quota-exhausted` is a 429 whose `X-RateLimit-State` is `exhausted` in a durable window
 * (`daily_counter`, `monthly_counter`, `trial_counter`), or a 402: retrying cannot help before the period resets.
 *
 * @category errors
 * @since 0.1.0
 */
export type OilPriceErrorKind =
  | 'bad-request'
  | 'unauthorized'
  | 'payment-required'
  | 'forbidden'
  | 'not-found'
  | 'unprocessable'
  | 'rate-limited'
  | 'quota-exhausted'
  | 'server'
  | 'http';

/**
 * The rate-limit and quota headers of an answer, when it sent them.
 *
 * @category models
 * @since 0.1.0
 */
export interface RateLimitInfo {
  /** `X-RateLimit-Limit`. */
  readonly limit?: number;
  /** `X-RateLimit-Remaining`. */
  readonly remaining?: number;
  /** When the window resets, epoch milliseconds (`X-RateLimit-Reset`, or the body's `reset_at`). */
  readonly resetAtMs?: number;
  /** `X-RateLimit-State`, e.g. `'exhausted'`. */
  readonly state?: string;
  /** `X-RateLimit-Window`, e.g. `'monthly_counter'` or `'hourly_circuit_breaker'`. */
  readonly window?: string;
}

/**
 * Everything read from an error answer. Fields the answer did not carry are absent.
 *
 * @category models
 * @since 0.1.0
 */
export interface OilPriceErrorDetails {
  readonly status: number;
  /** The machine code (`'INVALID_API_KEY'`, `'rate_limit_exceeded'`, `'invalid_code'`…). */
  readonly code?: string;
  /** The API's message, redacted. */
  readonly apiMessage?: string;
  /** The request id from the body or the `X-Request-Id` header. */
  readonly requestId?: string;
  /** How long to wait before retrying, in milliseconds (body `retry_after`, else `Retry-After`). */
  readonly retryAfterMs?: number;
  /** Codes the API suggests instead of an unknown one. */
  readonly suggestions: readonly string[];
  /** Codes the API did not know. */
  readonly invalidCodes: readonly string[];
  readonly docsUrl?: string;
  readonly currentPlan?: string;
  readonly requiredPlan?: string;
  readonly requiredFeature?: string;
  readonly remediationUrl?: string;
  /** For a 422: the field and value the API refused. */
  readonly field?: string;
  readonly value?: string;
  /** The body's explicit `retry.retryable`, when it sent one. */
  readonly retryableHint?: boolean;
  readonly rateLimit: RateLimitInfo;
  /** The response's `Content-Type`. */
  readonly contentType?: string;
  /** The first 300 characters of the body, redacted: for logs, never parsed. */
  readonly bodySnippet: string;
}

const DURABLE_WINDOWS = new Set(['daily_counter', 'monthly_counter', 'trial_counter']);

function kindOf(status: number, rateLimit: RateLimitInfo): OilPriceErrorKind {
  switch (status) {
    case 400:
      return 'bad-request';
    case 401:
      return 'unauthorized';
    case 402:
      return 'payment-required';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 422:
      return 'unprocessable';
    case 429:
      return rateLimit.state === 'exhausted' && rateLimit.window !== undefined && DURABLE_WINDOWS.has(rateLimit.window)
        ? 'quota-exhausted'
        : 'rate-limited';
    default:
      return status >= 500 ? 'server' : 'http';
  }
}

/**
 * The API answered with a status other than 2xx.
 *
 * @example
 * ```ts
 * const error = new OilPriceApiError('GET /v1/prices/latest', {
 *   status: 429,
 *   code: 'rate_limit_exceeded',
 *   retryAfterMs: 12_000,
 *   suggestions: [],
 *   invalidCodes: [],
 *   rateLimit: { remaining: 0 },
 *   bodySnippet: '',
 * });
 * assert.equal(error.kind, 'rate-limited');
 * assert.equal(error.retryable, true);
 * assert.equal(error.retryAfterMs, 12_000);
 * assert.ok(isOilPriceApiError(error));
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class OilPriceApiError extends BulwarkError<'OilPriceApi'> implements OilPriceErrorDetails {
  /** What kind of refusal it is. */
  readonly kind: OilPriceErrorKind;
  /**
   * Whether another attempt may succeed: 429 unless the quota is exhausted, 5xx, or what the body's
   * `retry.retryable` says; never 400/401/402/403/404/422.
   */
  readonly retryable: boolean;
  /** Whether the account's quota for the period is used up (a durable-window 429, or a 402). */
  readonly quotaExhausted: boolean;
  /** The request, as `METHOD /path` (no query string, no key). */
  readonly request: string;
  readonly status: number;
  readonly code?: string;
  readonly apiMessage?: string;
  readonly requestId?: string;
  readonly retryAfterMs?: number;
  readonly suggestions: readonly string[];
  readonly invalidCodes: readonly string[];
  readonly docsUrl?: string;
  readonly currentPlan?: string;
  readonly requiredPlan?: string;
  readonly requiredFeature?: string;
  readonly remediationUrl?: string;
  readonly field?: string;
  readonly value?: string;
  readonly retryableHint?: boolean;
  readonly rateLimit: RateLimitInfo;
  readonly contentType?: string;
  readonly bodySnippet: string;

  constructor(request: string, details: OilPriceErrorDetails) {
    const kind = kindOf(details.status, details.rateLimit);
    const quotaExhausted = kind === 'quota-exhausted' || kind === 'payment-required';
    const parts = [`OilPriceAPI answered ${details.status} (${kind}) to ${request}`];
    if (details.code !== undefined) parts.push(`code ${details.code}`);
    if (details.apiMessage !== undefined) parts.push(JSON.stringify(details.apiMessage));
    if (details.suggestions.length > 0) parts.push(`did you mean ${details.suggestions.join(', ')}?`);
    if (details.requestId !== undefined) parts.push(`request ${details.requestId}`);
    super('OilPriceApi', parts.join('; '));
    this.kind = kind;
    this.quotaExhausted = quotaExhausted;
    this.retryable = quotaExhausted
      ? false
      : details.retryableHint !== undefined
        ? details.retryableHint
        : kind === 'rate-limited' || kind === 'server';
    this.request = request;
    this.status = details.status;
    this.suggestions = details.suggestions;
    this.invalidCodes = details.invalidCodes;
    this.rateLimit = details.rateLimit;
    this.bodySnippet = details.bodySnippet;
    // Optional fields are set only when present, so they stay absent (not `undefined`) otherwise.
    const optional = [
      'code',
      'apiMessage',
      'requestId',
      'retryAfterMs',
      'docsUrl',
      'currentPlan',
      'requiredPlan',
      'requiredFeature',
      'remediationUrl',
      'field',
      'value',
      'retryableHint',
      'contentType',
    ] as const;
    for (const key of optional) {
      if (details[key] !== undefined) Object.defineProperty(this, key, { value: details[key], enumerable: true });
    }
  }
}

/**
 * The transport failed: no answer, or an answer cut off (connection refused or reset, socket closed).
 * Always retryable.
 *
 * @example
 * ```ts
 * const error = new OilPriceNetworkError('GET /v1/prices/latest', 'ECONNRESET', new Error('socket hang up'));
 * assert.ok(isOilPriceNetworkError(error));
 * assert.equal(error.retryable, true);
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class OilPriceNetworkError extends BulwarkError<'OilPriceNetwork'> {
  readonly retryable = true;

  constructor(
    /** The request, as `METHOD /path`. */
    readonly request: string,
    /** The transport's error code, e.g. `'ECONNRESET'` or `'UND_ERR_SOCKET'`. */
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(
      'OilPriceNetwork',
      `no usable answer from OilPriceAPI to ${request}${code !== undefined ? ` (${code})` : ''}`,
      {
        cause,
      },
    );
  }
}

/**
 * Why a 2xx answer could not be used.
 *
 * @category errors
 * @since 0.1.0
 */
export type ResponseProblem = 'malformed-json' | 'not-json' | 'unexpected-shape' | 'too-large';

/**
 * A 2xx answer whose body cannot be used: cut-off JSON (retryable), a body that is not JSON, or JSON
 * that does not match what the API documents (with the failing paths).
 *
 * @example
 * ```ts
 * const error = new OilPriceResponseError('GET /v1/prices/latest', 'unexpected-shape', ['data.price: expected a finite number, got "72.5"']);
 * assert.ok(isOilPriceResponseError(error));
 * assert.equal(error.retryable, false);
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class OilPriceResponseError extends BulwarkError<'OilPriceResponse'> {
  /** A cut-off body may come whole next time; a wrong shape will not. */
  readonly retryable: boolean;

  constructor(
    /** The request, as `METHOD /path`. */
    readonly request: string,
    readonly problem: ResponseProblem,
    /** For `unexpected-shape`: each failing path, rendered for people. */
    readonly paths: readonly string[] = [],
    /** The answer's request id, when it sent one. */
    readonly requestId?: string,
    cause?: unknown,
  ) {
    super(
      'OilPriceResponse',
      `unusable answer from OilPriceAPI to ${request}: ${problem}${paths.length > 0 ? ` (${paths.slice(0, 3).join('; ')}${paths.length > 3 ? '; …' : ''})` : ''}`,
      { cause },
    );
    this.retryable = problem === 'malformed-json';
  }
}

/**
 * The client was closed: a call made after `close()`, or one still pending when it was called (in
 * flight, queued, or waiting between retries), ends with this. Never retryable, and not a sign that
 * the API is unwell (a breaker does not count it).
 *
 * @example
 * ```ts
 * const error = new OilPriceClosedError();
 * assert.ok(isOilPriceClosedError(error) && error._tag === 'OilPriceClosed' && !error.retryable);
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class OilPriceClosedError extends BulwarkError<'OilPriceClosed'> {
  readonly retryable = false;

  constructor() {
    super('OilPriceClosed', 'the OilPriceAPI client is closed');
  }
}

/**
 * Whether `value` is an {@link OilPriceApiError}.
 *
 * @example
 * ```ts
 * import { noop } from '@bulwark/core';
 * import { startFakeOilPrice } from '@bulwark/testkit/fake-oilprice';
 * const fake = await startFakeOilPrice();
 * const client = new OilPriceClient({ apiKey: fake.apiKey, baseUrl: fake.url, policy: noop });
 * try {
 *   const error = await client.latest('NOT_A_CODE').catch((e: unknown) => e);
 *   assert.ok(isOilPriceApiError(error) && error.kind === 'bad-request' && !error.retryable);
 * } finally {
 *   await client.close();
 *   await fake.close();
 * }
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isOilPriceApiError = tagGuard<OilPriceApiError>('OilPriceApi');

/**
 * Whether `value` is an {@link OilPriceNetworkError}.
 *
 * @example
 * ```ts
 * assert.ok(isOilPriceNetworkError(new OilPriceNetworkError('GET /v1/commodities', 'ECONNREFUSED', undefined)));
 * assert.ok(!isOilPriceNetworkError(new Error('ECONNREFUSED')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isOilPriceNetworkError = tagGuard<OilPriceNetworkError>('OilPriceNetwork');

/**
 * Whether `value` is an {@link OilPriceResponseError}.
 *
 * @example
 * ```ts
 * const cutOff = new OilPriceResponseError('GET /v1/prices/latest', 'malformed-json');
 * assert.ok(isOilPriceResponseError(cutOff) && cutOff.retryable);
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isOilPriceResponseError = tagGuard<OilPriceResponseError>('OilPriceResponse');

/**
 * Whether `value` is an {@link OilPriceClosedError}.
 *
 * @example
 * ```ts
 * assert.ok(isOilPriceClosedError(new OilPriceClosedError()));
 * assert.ok(!isOilPriceClosedError(new Error('the OilPriceAPI client is closed')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isOilPriceClosedError = tagGuard<OilPriceClosedError>('OilPriceClosed');

/**
 * Whether `error` is a 429 or 402 that says the account's quota is used up for the period: a retry
 * predicate must refuse it.
 *
 * @example
 * ```ts
 * assert.equal(isQuotaExhausted(new Error('x')), false);
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export function isQuotaExhausted(error: unknown): boolean {
  return isOilPriceApiError(error) && error.quotaExhausted;
}
