/**
 * A fake OilPriceAPI on loopback: real `node:http`, the real API's paths, shapes, status codes and
 * headers (see the reference in `shared/reference/oilpriceapi.md`), deterministic prices, and faults
 * injected from a {@link FaultProfile} or scripted by a test.
 *
 * What it keeps like the real API: `Authorization: Token <key>` (and `Bearer`), 401 for a missing or
 * wrong key; `X-Request-Id` and `X-RateLimit-*` on every answer; a per-window rate limit answering 429
 * with `Retry-After`; an optional quota answering 429 with `X-RateLimit-State: exhausted` (or 402);
 * unknown codes answered 400 in the `fail`/`data` shape with suggestions; premium series answered 403
 * with plan fields; historical rows newest first, paginated through `X-Total`, `X-Total-Pages`,
 * `X-Page`, `X-Per-Page`, `X-Has-Next` and `Link`.
 *
 * @module
 */

import { systemClock, type Clock } from '@bulwark/core';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';

import { fakeCatalogue, fakeCommodity, formatPrice, suggestionsFor, type FakeCommodity } from './catalogue.js';
import {
  FaultPlanner,
  seededRandom,
  type ErrorBodyStyle,
  type Fault,
  type FaultKind,
  type FaultProfile,
  type QuotaWindow,
} from './faults.js';
import { BAD_GATEWAY_HTML, errorBody, serverError, type ApiError } from './responses.js';
import { BucketRange, fakePriceAt, INTERVAL_MS, parseInterval, RAW_STEP_MS } from './series.js';

/**
 * The key the fake accepts unless told otherwise.
 *
 * @example
 * ```ts
 * import { FAKE_OILPRICE_API_KEY, startFakeOilPrice } from '@bulwark/testkit/fake-oilprice';
 * const fake = await startFakeOilPrice();
 * assert.equal(fake.apiKey, FAKE_OILPRICE_API_KEY);
 * await fake.close();
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export const FAKE_OILPRICE_API_KEY = 'opa_test_fake_key_0123456789';

/**
 * Options of {@link startFakeOilPrice}.
 *
 * @category testing
 * @since 0.1.0
 */
export interface FakeOilPriceOptions {
  /** The keys it accepts. @default [FAKE_OILPRICE_API_KEY] */
  readonly apiKeys?: readonly string[];
  /** Whether `Authorization: Bearer <key>` works as well as `Token <key>`. @default true */
  readonly acceptBearer?: boolean;
  /** The faults it injects. @default {} (none) */
  readonly profile?: FaultProfile;
  /** The seed of its random decisions (faults, latencies, wrong-type variants). @default 1 */
  readonly seed?: number;
  /** Its time: price series, outages, rate windows, latencies and hangs. @default systemClock */
  readonly clock?: Clock;
  /** Requests allowed per window before a burst 429, or `false` for no limit. @default { limit: 1000, windowMs: 60000 } */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number } | false;
  /** A request quota: once used up, every request gets 429 exhausted (or 402). @default false (none) */
  readonly quota?: { readonly limit: number; readonly window?: QuotaWindow; readonly status?: 429 | 402 } | false;
  /** The status of an unknown commodity code: 400 (since 2026-07) or 404 (before). @default 400 */
  readonly unknownCodeStatus?: 400 | 404;
  /** Whether the account's plan includes premium series (`US_RIG_COUNT`). @default false */
  readonly premium?: boolean;
  /** Writes every error the API itself raises in this shape instead of the shape the API uses. @default as the API does */
  readonly errorStyle?: ErrorBodyStyle;
  /** Whether historical answers carry the body `meta` pagination block (headers always do). @default true */
  readonly paginationMeta?: boolean;
  /** The port to listen on. @default 0 (any free port) */
  readonly port?: number;
}

/**
 * One request the fake received, as a test may inspect it. The `Authorization` header is never recorded.
 *
 * @category testing
 * @since 0.1.0
 */
export interface FakeRequestRecord {
  /** Milliseconds after the fake started, on its clock. */
  readonly atMs: number;
  readonly method: string;
  /** Path and query string as received. */
  readonly url: string;
  /** How it authenticated. */
  readonly auth: 'token' | 'bearer' | 'missing' | 'invalid';
  readonly requestId: string;
  /** The fault it met, if any. */
  readonly fault: FaultKind | undefined;
  /** The status answered; `0` when the connection was reset or dropped without an answer. */
  status: number;
  /** Why the answer was an error, when it was not a fault: `'rate-limit'`, `'quota'`, `'auth'`, `'client'`. */
  cause: 'rate-limit' | 'quota' | 'auth' | 'client' | undefined;
}

/**
 * A running fake OilPriceAPI.
 *
 * @category testing
 * @since 0.1.0
 */
export interface FakeOilPrice {
  /** The base URL to give a client, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** A key it accepts. */
  readonly apiKey: string;
  /** Every request so far, oldest first. */
  readonly requests: readonly FakeRequestRecord[];
  /** Queues faults for the next requests (one each, in order), before anything the profile decides. */
  inject(...faults: Fault[]): void;
  /** Replaces the fault profile. */
  setProfile(profile: FaultProfile): void;
  /** The price the fake answers for `code` at `atMs` (epoch ms on its clock): what a test should expect. */
  priceAt(code: string, atMs?: number): number;
  /**
   * How many requests are parked on the fake's clock (latency, hang) right now. With a virtual clock,
   * a test may advance it once every request in flight is parked: nothing else is then moving.
   */
  readonly sleeping: number;
  /** How many client connections are open now. */
  readonly openConnections: number;
  /** The most client connections that were open at once. */
  readonly peakConnections: number;
  /** How many client connections it has accepted in all (a client that keeps its connections alive opens few). */
  readonly connectionsOpened: number;
  /** Sets how much of the quota is used (e.g. its limit, to exhaust it). */
  setQuotaUsed(used: number): void;
  /** Stops listening and destroys every open connection, hanging ones included. */
  close(): Promise<void>;
}

const PERIOD_MS: Readonly<Record<string, number>> = {
  past_day: 86_400_000,
  past_week: 7 * 86_400_000,
  past_month: 30 * 86_400_000,
  past_year: 365 * 86_400_000,
};

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(value: string): number | undefined {
  const match = DATE.exec(value);
  if (match === null) return undefined;
  const [, y, m, d] = match;
  const ms = Date.UTC(Number(y), Number(m) - 1, Number(d));
  const back = new Date(ms);
  // Rejects 2026-02-30 and the like, which Date.UTC would roll over.
  return back.getUTCDate() === Number(d) && back.getUTCMonth() === Number(m) - 1 ? ms : undefined;
}

type Body = Record<string, unknown>;

/** A successful answer before it is written: the body and any extra headers. */
interface Success {
  readonly body: Body;
  readonly headers?: Readonly<Record<string, string>>;
  /** The price objects a payload fault may corrupt. */
  readonly prices?: Body[];
}

type Outcome = { readonly ok: true; readonly value: Success } | { readonly ok: false; readonly error: ApiError };

const fail = (error: ApiError): Outcome => ({ ok: false, error });
const succeed = (value: Success): Outcome => ({ ok: true, value });

/**
 * Starts a fake OilPriceAPI on `127.0.0.1`.
 *
 * @example
 * ```ts
 * import { startFakeOilPrice } from '@bulwark/testkit/fake-oilprice';
 *
 * const fake = await startFakeOilPrice();
 * try {
 *   const response = await fetch(`${fake.url}/v1/prices/latest?by_code=WTI_USD`, {
 *     headers: { Authorization: `Token ${fake.apiKey}` },
 *   });
 *   const body = (await response.json()) as { data: { code: string; price: number } };
 *   assert.equal(body.data.code, 'WTI_USD');
 *   assert.ok(response.headers.get('x-request-id'));
 *   fake.inject({ kind: 'bad-gateway-html' });
 *   const failed = await fetch(`${fake.url}/v1/prices/latest?by_code=WTI_USD`, {
 *     headers: { Authorization: `Token ${fake.apiKey}` },
 *   });
 *   assert.equal(failed.status, 502);
 *   await failed.text();
 * } finally {
 *   await fake.close();
 * }
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export async function startFakeOilPrice(options: FakeOilPriceOptions = {}): Promise<FakeOilPrice> {
  const clock = options.clock ?? systemClock;
  const keys = new Set(options.apiKeys ?? [FAKE_OILPRICE_API_KEY]);
  const acceptBearer = options.acceptBearer ?? true;
  const seed = options.seed ?? 1;
  const random = seededRandom(seed ^ 0x5bd1e995);
  const planner = new FaultPlanner(options.profile ?? {}, seededRandom(seed));
  const rateLimit = options.rateLimit ?? { limit: 1000, windowMs: 60_000 };
  const quota = options.quota === false || options.quota === undefined ? undefined : options.quota;
  const unknownCodeStatus = options.unknownCodeStatus ?? 400;
  const premium = options.premium ?? false;
  const paginationMeta = options.paginationMeta ?? true;
  const startedAt = clock.now();
  const requests: FakeRequestRecord[] = [];
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  let sequence = 0;
  let sleeping = 0;
  let windowIndex = -1;
  let windowCount = 0;
  let quotaUsed = 0;

  const styleOf = (error: ApiError): ErrorBodyStyle => options.errorStyle ?? error.style;

  /** Rate-limit headers for the current window (sent on every answer), counting this request if `count`. */
  const rateHeaders = (elapsed: number, count: boolean): { headers: Record<string, string>; limited: number } => {
    if (rateLimit === false) return { headers: {}, limited: 0 };
    const index = Math.floor(elapsed / rateLimit.windowMs);
    if (index !== windowIndex) {
      windowIndex = index;
      windowCount = 0;
    }
    if (count) windowCount++;
    const resetMs = startedAt + (index + 1) * rateLimit.windowMs;
    const over = windowCount > rateLimit.limit;
    return {
      headers: {
        'X-RateLimit-Limit': String(rateLimit.limit),
        'X-RateLimit-Remaining': String(Math.max(0, rateLimit.limit - windowCount)),
        'X-RateLimit-Reset': String(Math.ceil(resetMs / 1000)),
        'X-RateLimit-Reset-After': String(Math.max(1, Math.ceil((resetMs - clock.now()) / 1000))),
        'X-RateLimit-Bucket': 'api:v1:prices',
      },
      limited: over ? Math.max(1, Math.ceil((resetMs - clock.now()) / 1000)) : 0,
    };
  };

  const quotaHeaders = (): Record<string, string> =>
    quota === undefined
      ? {}
      : {
          'X-Monthly-Quota': String(quota.limit),
          'X-Monthly-Usage': String(quotaUsed),
          'X-Monthly-Remaining': String(Math.max(0, quota.limit - quotaUsed)),
          'X-Monthly-Reset': nextMonthStart(clock.now()).toISOString(),
        };

  const quotaError = (window: QuotaWindow, status: 429 | 402, retryAfterS?: number): ApiError => {
    const durable = window !== 'hourly_circuit_breaker';
    const wait =
      retryAfterS ?? (durable ? Math.ceil((nextMonthStart(clock.now()).getTime() - clock.now()) / 1000) : 1050);
    if (status === 402) {
      return {
        status,
        code: 'MONTHLY_QUOTA_EXCEEDED',
        message: 'Your monthly request quota is used up. Upgrade your plan or wait for the next period.',
        retryable: false,
        style: 'canonical',
        fields: { current_plan: 'developer', remediation_url: 'https://oilpriceapi.com/dashboard/billing' },
      };
    }
    return {
      status,
      code: durable ? 'QUOTA_EXCEEDED' : 'RATE_LIMIT_EXCEEDED',
      message: durable
        ? 'Request quota exhausted for the current period.'
        : 'Too many requests this hour; the hourly circuit breaker is open.',
      retryable: !durable,
      style: 'canonical',
      retryAfterS: wait,
      details: { limit: quota?.limit ?? 0, remaining: 0, reset_after: wait },
      headers: { 'X-RateLimit-State': 'exhausted', 'X-RateLimit-Window': window, 'X-RateLimit-Remaining': '0' },
    };
  };

  const rateLimitError = (retryAfterS: number, style: ErrorBodyStyle = 'legacy'): ApiError => ({
    status: 429,
    code: 'RATE_LIMIT_EXCEEDED',
    message: 'Rate limit exceeded',
    retryable: true,
    style,
    retryAfterS,
    details: { limit: rateLimit === false ? 0 : rateLimit.limit, remaining: 0, reset_after: retryAfterS },
    headers: { 'X-RateLimit-Remaining': '0' },
  });

  const unknownCode = (code: string): ApiError =>
    unknownCodeStatus === 400
      ? {
          status: 400,
          code: 'INVALID_CODE',
          message: 'Unknown commodity code',
          retryable: false,
          style: 'fail-data',
          suggestions: suggestionsFor(code),
          invalidCodes: [code],
        }
      : commodityNotFound(code, { valid_commodities: suggestionsFor(code) });

  const validation = (field: string, value: string, message: string): ApiError => ({
    status: 422,
    code: 'VALIDATION_ERROR',
    message,
    retryable: false,
    style: 'canonical',
    fields: { field, value },
  });

  const commodityFor = (code: string): { commodity: FakeCommodity } | { error: ApiError } => {
    const commodity = fakeCommodity(code);
    if (commodity === undefined) return { error: unknownCode(code) };
    if (commodity.premium && !premium) {
      return {
        error: {
          status: 403,
          code: 'PLAN_UPGRADE_REQUIRED',
          message: `${commodity.name} data requires a higher plan.`,
          retryable: false,
          style: 'canonical',
          fields: {
            current_plan: 'developer',
            required_plan: 'professional',
            required_feature: 'drilling_intelligence',
            remediation_url: 'https://oilpriceapi.com/dashboard/billing',
          },
        },
      };
    }
    return { commodity };
  };

  const priceObject = (commodity: FakeCommodity, atMs: number, type: string): Body => {
    const price = fakePriceAt(commodity, atMs);
    return {
      price,
      formatted: formatPrice(commodity, price),
      currency: commodity.currency,
      code: commodity.code,
      created_at: new Date(atMs).toISOString(),
      type,
      unit: commodity.unit,
      source: commodity.source,
    };
  };

  const latest = (query: URLSearchParams): Outcome => {
    const code = query.get('by_code') ?? 'BRENT_CRUDE_USD';
    const found = commodityFor(code);
    if ('error' in found) return fail(found.error);
    const now = clock.now();
    const slotStart = Math.floor(now / RAW_STEP_MS) * RAW_STEP_MS;
    const data = priceObject(found.commodity, slotStart, 'spot_price');
    data['metadata'] = { source: found.commodity.source, source_description: 'Fake OilPriceAPI deterministic series' };
    data['updated_at'] = new Date(now).toISOString();
    return succeed({ body: { status: 'success', data }, prices: [data] });
  };

  const historical = (endpoint: string, query: URLSearchParams, basePath: string): Outcome => {
    const code = query.get('by_code') ?? 'BRENT_CRUDE_USD';
    const found = commodityFor(code);
    if ('error' in found) return fail(found.error);
    const intervalText = query.get('interval') ?? 'raw';
    const interval = parseInterval(intervalText);
    if (interval === undefined) {
      return fail(validation('interval', intervalText, 'interval must be one of raw, hourly, daily, weekly, monthly'));
    }
    const perPage = query.has('per_page') ? Number(query.get('per_page')) : 100;
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 1000) {
      return fail(validation('per_page', query.get('per_page') ?? '', 'per_page must be an integer from 1 to 1000'));
    }
    const page = query.has('page') ? Number(query.get('page')) : 1;
    if (!Number.isInteger(page) || page < 1) {
      return fail(validation('page', query.get('page') ?? '', 'page must be a positive integer'));
    }
    const now = clock.now();
    const period = PERIOD_MS[endpoint] as number;
    let from = now - period;
    let to = now;
    const start = query.get('start_date');
    const end = query.get('end_date');
    if (end !== null) {
      const endMs = parseDate(end);
      if (endMs === undefined) return fail(validation('end_date', end, 'end_date must be a date YYYY-MM-DD'));
      to = Math.min(now, endMs + 86_400_000 - 1);
      from = to - period;
    }
    if (start !== null) {
      const startMs = parseDate(start);
      if (startMs === undefined) return fail(validation('start_date', start, 'start_date must be a date YYYY-MM-DD'));
      from = startMs;
    }
    if (from > to) return fail(validation('start_date', start ?? '', 'start_date must not be after end_date'));
    const type = query.get('by_type') ?? 'spot_price';
    const range = new BucketRange(interval, from, to);
    const totalPages = Math.max(1, Math.ceil(range.total / perPage));
    const rows: Body[] = [];
    for (let i = (page - 1) * perPage; i < Math.min(range.total, page * perPage); i++) {
      rows.push(priceObject(found.commodity, range.startOf(i), type));
    }
    const hasNext = page < totalPages;
    const link = (p: number): string => {
      const q = new URLSearchParams(query);
      q.set('page', String(p));
      return `<${basePath}?${q.toString()}>`;
    };
    const links = [`${link(1)}; rel="first"`, `${link(totalPages)}; rel="last"`];
    if (hasNext) links.push(`${link(page + 1)}; rel="next"`);
    if (page > 1) links.push(`${link(page - 1)}; rel="prev"`);
    return succeed({
      body: {
        status: 'success',
        data: { prices: rows },
        ...(paginationMeta
          ? {
              meta: {
                page,
                per_page: perPage,
                total: range.total,
                total_pages: totalPages,
                has_next: hasNext,
                has_prev: page > 1,
                interval: interval === 'raw' ? 'raw' : interval,
                interval_ms: INTERVAL_MS[interval],
              },
            }
          : {}),
      },
      headers: {
        'X-Total': String(range.total),
        'X-Total-Pages': String(totalPages),
        'X-Page': String(page),
        'X-Per-Page': String(perPage),
        'X-Has-Next': String(hasNext),
        Link: links.join(', '),
      },
      prices: rows,
    });
  };

  const catalogueEntry = (commodity: FakeCommodity): Body => ({
    code: commodity.code,
    name: commodity.name,
    category: commodity.category,
    currency: commodity.currency,
    unit: commodity.unit,
    description: `${commodity.name} (${commodity.unit})`,
    source: commodity.source,
    active: true,
    multiplier: 1,
    premium: commodity.premium,
    validation: {
      min: round(commodity.base * 0.2, commodity.decimals),
      max: round(commodity.base * 5, commodity.decimals),
    },
    price_change_threshold: 0.15,
  });

  const route = (path: string, query: URLSearchParams): Outcome | undefined => {
    if (path === '/v1/prices/latest') return latest(query);
    const historicalMatch = /^\/v1\/prices\/(past_day|past_week|past_month|past_year)$/.exec(path);
    if (historicalMatch !== null) return historical(historicalMatch[1] as string, query, path);
    if (path === '/v1/commodities') {
      const commodities = fakeCatalogue.map(catalogueEntry);
      return succeed({ body: { status: 'success', data: { commodities, metadata: { total: commodities.length } } } });
    }
    if (path === '/v1/commodities/categories') {
      const categories: Record<string, { name: string; commodities: Body[] }> = {};
      for (const commodity of fakeCatalogue) {
        const group = (categories[commodity.category] ??= { name: titleCase(commodity.category), commodities: [] });
        group.commodities.push(catalogueEntry(commodity));
      }
      return succeed({ body: { status: 'success', data: categories } });
    }
    const one = /^\/v1\/commodities\/([A-Za-z0-9_]+)$/.exec(path);
    if (one !== null) {
      const commodity = fakeCommodity(one[1] as string);
      if (commodity === undefined) {
        return fail(commodityNotFound(one[1] as string));
      }
      return succeed({ body: { status: 'success', data: catalogueEntry(commodity) } });
    }
    return undefined;
  };

  const authOf = (header: string | undefined): FakeRequestRecord['auth'] => {
    if (header === undefined || header === '') return 'missing';
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header : header.slice(0, space);
    const key = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'Token' && keys.has(key)) return 'token';
    if (scheme === 'Bearer' && acceptBearer && keys.has(key)) return 'bearer';
    return 'invalid';
  };

  const corrupt = (fault: Fault, success: Success): string => {
    const body = success.body;
    const target = success.prices?.[0];
    switch (fault.kind) {
      case 'malformed-json': {
        const text = JSON.stringify(body);
        return text.slice(0, Math.max(1, Math.floor(text.length * 0.6)));
      }
      case 'wrong-types': {
        const variants = ['price-string', 'price-boolean', 'code-number'] as const;
        const variant = fault.variant ?? variants[Math.floor(random.next() * variants.length)];
        const data = body['data'] as Body;
        if (variant === 'prices-object' || target === undefined) {
          if (Array.isArray(data['prices'])) data['prices'] = { count: (data['prices'] as unknown[]).length };
          else if (Array.isArray(data['commodities']))
            data['commodities'] = { total: (data['commodities'] as unknown[]).length };
          else data['code'] = 12345;
        } else if (variant === 'price-string') target['price'] = String(target['price']);
        else if (variant === 'price-boolean') target['price'] = true;
        else target['code'] = 12345;
        return JSON.stringify(body);
      }
      case 'implausible-price': {
        if (target !== undefined) {
          const commodity = fakeCommodity(String(target['code']));
          const price = round((target['price'] as number) * (fault.factor ?? 10), commodity?.decimals ?? 2);
          target['price'] = price;
          if (commodity !== undefined) target['formatted'] = formatPrice(commodity, price);
        }
        return JSON.stringify(body);
      }
      default:
        return JSON.stringify(body);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const elapsed = clock.now() - startedAt;
    const requestId = `req_${seed.toString(16)}_${(sequence++).toString(36).padStart(6, '0')}`;
    const decision = planner.decide(elapsed);
    const fault = decision.fault;
    const auth = authOf(req.headers.authorization);
    const record: FakeRequestRecord = {
      atMs: elapsed,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      auth,
      requestId,
      fault: fault?.kind,
      status: 0,
      cause: undefined,
    };
    requests.push(record);
    // Aborted when the client goes away or the fake closes: no sleep outlives its request.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const signal = AbortSignal.any([gone.signal, closing.signal]);
    const wait = async (ms: number): Promise<boolean> => {
      if (ms <= 0) return !signal.aborted;
      sleeping++;
      try {
        await clock.sleep(ms, signal);
        return true;
      } catch {
        return false;
      } finally {
        sleeping--;
      }
    };

    /** Writes `bytes` a few at a time on the fake's clock; stops when the client goes away. */
    const dribble = async (bytes: Buffer, step: number, intervalMs: number): Promise<void> => {
      // A wait before every chunk but the first, none after the last: with Content-Length the client
      // has the whole body at the last chunk, and the response must end then (a wait after it would
      // hold the kept-alive socket, and a request queued on it, past the body's end).
      for (let offset = 0; offset < bytes.length; offset += step) {
        if (offset > 0 && !(await wait(intervalMs))) return;
        res.write(bytes.subarray(offset, offset + step));
      }
      res.end();
    };

    if (fault?.kind === 'connection-reset' && fault.phase !== 'mid-body') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'hang') {
      await wait(fault.ms ?? 120_000);
      req.socket.destroy();
      return;
    }
    if (!(await wait(decision.latencyMs + (fault?.kind === 'latency' ? fault.ms : 0)))) return;

    const started = clock.now();
    const headers: Record<string, string> = { 'X-Request-Id': requestId };
    const send = (
      status: number,
      body: string,
      extra: Readonly<Record<string, string>> = {},
      type = 'application/json; charset=utf-8',
    ): void => {
      record.status = status;
      const all = {
        ...headers,
        ...extra,
        'Content-Type': type,
        'X-Response-Time': `${Math.round(clock.now() - started + decision.latencyMs)}ms`,
      };
      if (fault?.kind === 'connection-reset') {
        // Mid-body: the headers promise the whole body, half of it arrives, then the connection dies.
        const bytes = Buffer.from(body);
        res.writeHead(status, { ...all, 'Content-Length': String(bytes.length) });
        res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => req.socket.destroy());
        record.status = 0;
        return;
      }
      if (fault?.kind === 'slow-body') {
        const bytes = Buffer.from(body);
        res.writeHead(status, { ...all, 'Content-Length': String(bytes.length) });
        void dribble(bytes, Math.max(1, Math.floor(fault.bytes ?? 1)), fault.intervalMs ?? 1000);
        return;
      }
      res.writeHead(status, all);
      res.end(body);
    };
    const sendError = (error: ApiError, style: ErrorBodyStyle = styleOf(error)): void => {
      send(error.status, errorBody(error, style, requestId, clock.now()), {
        ...(error.retryAfterS !== undefined ? { 'Retry-After': String(error.retryAfterS) } : {}),
        ...error.headers,
      });
    };

    const authorized = auth === 'token' || auth === 'bearer';
    Object.assign(headers, rateHeaders(elapsed, false).headers, quotaHeaders());

    switch (fault?.kind) {
      case 'server-error':
        sendError(
          serverError(fault.status ?? 500, fault.body ?? 'canonical', fault.retryAfterS),
          fault.body ?? 'canonical',
        );
        return;
      case 'bad-gateway-html':
        send(502, BAD_GATEWAY_HTML, {}, 'text/html');
        return;
      case 'respond':
        send(
          fault.status,
          fault.body,
          fault.headers ?? {},
          fault.headers?.['Content-Type'] ?? 'application/json; charset=utf-8',
        );
        return;
      default:
        break;
    }

    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method !== 'GET') {
      record.cause = 'client';
      sendError({
        status: 405,
        code: 'METHOD_NOT_ALLOWED',
        message: 'Only GET is supported here',
        retryable: false,
        style: 'canonical',
      });
      return;
    }
    if (!authorized) {
      record.cause = 'auth';
      sendError({
        status: 401,
        code: auth === 'missing' ? 'MISSING_API_KEY' : 'INVALID_API_KEY',
        message: auth === 'missing' ? 'API key required. Send Authorization: Token <key>.' : 'Invalid API key',
        retryable: false,
        style: 'canonical',
      });
      return;
    }

    const rate = rateHeaders(elapsed, true);
    Object.assign(headers, rate.headers);
    if (fault?.kind === 'rate-limit') {
      sendError(rateLimitError(fault.retryAfterS ?? 1, fault.body ?? 'legacy'), fault.body ?? 'legacy');
      return;
    }
    if (fault?.kind === 'quota-exhausted') {
      sendError(quotaError(fault.window ?? 'monthly_counter', fault.status ?? 429, fault.retryAfterS), 'canonical');
      return;
    }
    if (rate.limited > 0) {
      record.cause = 'rate-limit';
      sendError(rateLimitError(rate.limited));
      return;
    }
    if (quota !== undefined) {
      if (quotaUsed >= quota.limit) {
        record.cause = 'quota';
        sendError(quotaError(quota.window ?? 'monthly_counter', quota.status ?? 429));
        return;
      }
      quotaUsed++;
      Object.assign(headers, quotaHeaders());
    }

    const outcome = route(url.pathname, url.searchParams);
    if (outcome === undefined) {
      record.cause = 'client';
      sendError({
        status: 404,
        code: 'NOT_FOUND',
        message: `No route for ${url.pathname}`,
        retryable: false,
        style: 'canonical',
      });
      return;
    }
    if (!outcome.ok) {
      record.cause = 'client';
      sendError(outcome.error);
      return;
    }
    const text = fault !== undefined ? corrupt(fault, outcome.value) : JSON.stringify(outcome.value.body);
    send(200, text, outcome.value.headers);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug in the fake must not look like a fault it was asked for: answer 599 and say why.
      if (!res.headersSent) res.writeHead(599, { 'Content-Type': 'text/plain' });
      res.end(`fake OilPriceAPI bug: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  let peak = 0;
  let opened = 0;
  server.on('connection', (socket) => {
    opened++;
    sockets.add(socket);
    peak = Math.max(peak, sockets.size);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey: [...keys][0] ?? FAKE_OILPRICE_API_KEY,
    requests,
    inject: (...faults) => planner.script(faults),
    setProfile: (profile) => planner.setProfile(profile),
    priceAt(code, atMs = clock.now()) {
      const commodity = fakeCommodity(code);
      if (commodity === undefined) throw new RangeError(`fake OilPriceAPI: unknown code ${JSON.stringify(code)}`);
      return fakePriceAt(commodity, atMs);
    },
    get sleeping() {
      return sleeping;
    },
    get openConnections() {
      return sockets.size;
    },
    get peakConnections() {
      return peak;
    },
    get connectionsOpened() {
      return opened;
    },
    setQuotaUsed(used) {
      quotaUsed = used;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** The 404 for a code the catalogue does not have (the docs' `fail` envelope with an `error` object). */
function commodityNotFound(code: string, extra: Readonly<Record<string, unknown>> = {}): ApiError {
  return {
    status: 404,
    code: 'COMMODITY_NOT_FOUND',
    message: 'Commodity not found',
    retryable: false,
    style: 'canonical',
    envelopeStatus: 'fail',
    fields: { commodity_code: code, ...extra },
  };
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

function titleCase(key: string): string {
  return key
    .split('_')
    .map((word) => (word.length === 0 ? word : `${word[0]?.toUpperCase() ?? ''}${word.slice(1)}`))
    .join(' ');
}

/** The first instant of the next calendar month (UTC): when monthly quotas reset. */
function nextMonthStart(nowMs: number): Date {
  const now = new Date(nowMs);
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}
