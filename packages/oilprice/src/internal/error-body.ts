/**
 * Reads an error answer, whatever its shape, into {@link OilPriceErrorDetails}.
 *
 * The lookup order follows the official Python SDK (reference §5.2): each field is searched in the
 * `error` object, then `details`, then `data`, then the top level; header fallbacks come last.
 * Only own properties of parsed JSON are read, so a body cannot reach `__proto__` or `constructor`.
 * Every string kept is redacted in one place, {@link redactStrings}, after all fields are read: a
 * field added later cannot forget it.
 *
 * @module
 */

import { type OilPriceErrorDetails, type RateLimitInfo } from '../errors.js';

type Json = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const own = (object: Json, key: string): unknown => (Object.hasOwn(object, key) ? object[key] : undefined);

/**
 * `text` cut to `max` characters. Cut after redaction: a key cut in half would escape a redaction
 * that looks for the whole key.
 */
const cut = (text: string, max: number, mark = '…'): string =>
  text.length > max ? `${text.slice(0, max)}${mark}` : text;

/** A header's single value. */
export type HeaderLookup = (name: string) => string | undefined;

/** `value` with every string in it (in arrays and objects too) passed through `redact`. */
function redactStrings<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactStrings(item, redact)) as T;
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactStrings(item, redact)])) as T;
  }
  return value;
}

function firstString(sources: readonly Json[], keys: readonly string[]): string | undefined {
  for (const source of sources) {
    for (const key of keys) {
      const value = own(source, key);
      if (typeof value === 'string' && value !== '') return value;
      if (typeof value === 'number' && Number.isFinite(value) && key !== 'message') return String(value);
    }
  }
  return undefined;
}

function firstNumber(sources: readonly Json[], keys: readonly string[]): number | undefined {
  for (const source of sources) {
    for (const key of keys) {
      const value = own(source, key);
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
    }
  }
  return undefined;
}

function firstStrings(sources: readonly Json[], keys: readonly string[]): string[] {
  for (const source of sources) {
    for (const key of keys) {
      const value = own(source, key);
      if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string').slice(0, 50);
    }
  }
  return [];
}

/** Seconds (`"12"`) or an HTTP date, into milliseconds from `nowMs`. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Epoch seconds or ISO 8601, into epoch milliseconds. */
function parseReset(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value * 1000;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : date;
}

const toInt = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
};

/** Reads the rate-limit headers of any answer. */
export function readRateLimit(header: HeaderLookup): RateLimitInfo {
  const info: { -readonly [K in keyof RateLimitInfo]: RateLimitInfo[K] } = {};
  const limit = toInt(header('x-ratelimit-limit'));
  const remaining = toInt(header('x-ratelimit-remaining'));
  const resetAtMs = parseReset(header('x-ratelimit-reset'));
  const state = header('x-ratelimit-state');
  const window = header('x-ratelimit-window');
  if (limit !== undefined) info.limit = limit;
  if (remaining !== undefined) info.remaining = remaining;
  if (resetAtMs !== undefined) info.resetAtMs = resetAtMs;
  if (state !== undefined) info.state = state.toLowerCase();
  if (window !== undefined) info.window = window.toLowerCase();
  return info;
}

/**
 * Reads an error answer.
 *
 * @param status - The HTTP status.
 * @param text - The body as text (any shape, or HTML, or nothing).
 * @param header - Looks up a response header (lower-case name), its value already redacted.
 * @param redact - Removes secrets from any text kept.
 * @param nowMs - The current time, for `Retry-After` given as a date.
 */
export function readErrorBody(
  status: number,
  text: string,
  header: HeaderLookup,
  redact: (text: string) => string,
  nowMs: number,
): OilPriceErrorDetails {
  let parsed: unknown = undefined;
  const contentType = header('content-type');
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  const top: Json = isObject(parsed) ? parsed : {};
  const error = own(top, 'error');
  const details = own(top, 'details');
  const data = own(top, 'data');
  const sources: Json[] = [];
  if (isObject(error)) sources.push(error);
  if (isObject(details)) sources.push(details);
  if (isObject(data)) sources.push(data);
  sources.push(top);
  const retry = isObject(error) ? own(error, 'retry') : undefined;
  const retryObject = isObject(retry) ? retry : undefined;

  let message = firstString(sources, ['message', 'detail', 'title']);
  if (message === undefined && typeof error === 'string') message = error;
  let code = firstString(sources, ['code', 'error_code', 'type']);
  if (code === undefined && isObject(data) && typeof own(data, 'error') === 'string')
    code = own(data, 'error') as string;

  const requestId =
    firstString(sources, ['request_id', 'requestId', 'correlation_id']) ??
    (isObject(own(top, 'meta')) ? firstString([own(top, 'meta') as Json], ['request_id']) : undefined) ??
    header('x-request-id') ??
    header('x-correlation-id');

  const bodyRetryAfterS =
    firstNumber(sources, ['retry_after', 'retryAfter']) ??
    (retryObject !== undefined ? firstNumber([retryObject], ['retry_after', 'retryAfter']) : undefined);
  const retryAfterMs =
    bodyRetryAfterS !== undefined ? Math.round(bodyRetryAfterS * 1000) : parseRetryAfter(header('retry-after'), nowMs);

  const rateLimit = readRateLimit(header);
  const bodyReset = firstString(sources, ['retry_at', 'reset_at', 'reset_time']);
  const resetAtMs = parseReset(bodyReset);
  const rate: RateLimitInfo =
    resetAtMs !== undefined && rateLimit.resetAtMs === undefined ? { ...rateLimit, resetAtMs } : rateLimit;

  const retryable = retryObject !== undefined ? own(retryObject, 'retryable') : undefined;

  const result: { -readonly [K in keyof OilPriceErrorDetails]: OilPriceErrorDetails[K] } = {
    status,
    suggestions: firstStrings(sources, ['suggestions', 'did_you_mean', 'valid_commodities']),
    invalidCodes: firstStrings(sources, ['invalid_codes']),
    rateLimit: rate,
    bodySnippet: text,
  };
  const set = <K extends keyof OilPriceErrorDetails>(key: K, value: OilPriceErrorDetails[K] | undefined): void => {
    if (value !== undefined) result[key] = value;
  };
  set('code', code);
  set('apiMessage', message);
  set('requestId', requestId);
  set('retryAfterMs', retryAfterMs);
  set('docsUrl', firstString(sources, ['docs_url']));
  set('currentPlan', firstString(sources, ['current_plan']));
  set('requiredPlan', firstString(sources, ['required_plan']));
  set('requiredFeature', firstString(sources, ['required_feature']));
  set('remediationUrl', firstString(sources, ['remediation_url']));
  set('field', firstString(sources, ['field']));
  set('value', firstString(sources, ['value']));
  set('retryableHint', typeof retryable === 'boolean' ? retryable : undefined);
  set('contentType', contentType);
  const redacted = redactStrings(result, redact);
  redacted.bodySnippet = cut(redacted.bodySnippet, 300);
  if (redacted.apiMessage !== undefined) redacted.apiMessage = cut(redacted.apiMessage, 500, '');
  return redacted;
}
