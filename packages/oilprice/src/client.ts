/**
 * The OilPriceAPI client: latest prices, historical series page by page (newest first), and the
 * commodity catalogue, over a pooled undici dispatcher, each request run under a Bulwark policy.
 *
 * Every HTTP request goes through one wrapped function, `send(request)`, so the policy sees each request
 * (each page of a series) as one call: the cache keys it by its path and query, the retry repeats it,
 * the breaker counts it. The key travels only in the `Authorization: Token <key>` header: never in a
 * URL, an event, a cache key or an error (error texts are redacted of it).
 *
 * @module
 */

import {
  Emitter,
  systemClock,
  type Clock,
  type Context,
  type Disposer,
  type Listener,
  type Policy,
} from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';
import { hideSecrets } from '@bulwark/telemetry';
import { decode as guardedDecoder, formatPaths, parseJson, type DecodeFailure } from '@bulwark/validate';
import type * as t from 'io-ts';
import type { Dispatcher } from 'undici';

import {
  CommoditiesResponse,
  CommodityResponse,
  HistoricalPricesResponse,
  LatestPriceResponse,
  renderDecodeErrors,
  toCommodity,
  toPrice,
  type Commodity,
  type Price,
  type PricePage,
} from './codecs.js';
import { OilPriceApiError, OilPriceClosedError, OilPriceNetworkError, OilPriceResponseError } from './errors.js';
import { readErrorBody } from './internal/error-body.js';
import { keepAlivePool } from './internal/keep-alive.js';
import { defaultPipeline, type OilPricePipeline } from './pipeline.js';

/**
 * What the client asks of the API: one HTTP request, as the policy sees it.
 *
 * @category models
 * @since 0.1.0
 */
export interface OilPriceRequest {
  /** Which call this request serves. */
  readonly operation: 'latest' | 'history' | 'commodities' | 'commodity';
  /** The path, e.g. `/v1/prices/latest`. */
  readonly path: string;
  /** The query string without `?`, e.g. `by_code=WTI_USD` (never a key). */
  readonly query: string;
  /** `path?query`: what a cache keys the answer by. */
  readonly key: string;
  /** The commodity code the request is about, when there is one. */
  readonly code?: string;
  /** Aborts when the caller's signal does, or when the client closes (with an {@link OilPriceClosedError}). */
  readonly signal?: AbortSignal;
  /** The caller's id for the call, shared by its attempts (in events, logs and spans). */
  readonly correlationId?: string;
}

/**
 * What one request yields, tagged by operation; JSON-safe, so a cache may store it.
 *
 * @category models
 * @since 0.1.0
 */
export type OilPriceResult =
  | { readonly operation: 'latest'; readonly price: Price }
  | { readonly operation: 'history'; readonly page: PricePage }
  | { readonly operation: 'commodities'; readonly commodities: readonly Commodity[] }
  | { readonly operation: 'commodity'; readonly commodity: Commodity };

/**
 * What the client's transport reports: one `response` per answer received (any status), one
 * `network-error` per request that got no usable answer. Events carry no key and no body.
 *
 * @category models
 * @since 0.1.0
 */
export type OilPriceEvent =
  | {
      readonly type: 'response';
      readonly policy: 'oilprice';
      readonly context: Context;
      /** The request, as `METHOD /path`: no query, no key. */
      readonly request: string;
      readonly status: number;
      readonly durationMs: number;
      readonly requestId: string | undefined;
    }
  | {
      readonly type: 'network-error';
      readonly policy: 'oilprice';
      readonly context: Context;
      /** The request, as `METHOD /path`: no query, no key. */
      readonly request: string;
      readonly durationMs: number;
      readonly code: string | undefined;
    };

/**
 * Options of {@link OilPriceClient}.
 *
 * @category models
 * @since 0.1.0
 */
export interface OilPriceClientOptions {
  /** The API key, sent as `Authorization: Token <key>` and nowhere else: visible ASCII, no spaces or control characters. */
  readonly apiKey: string;
  /** The API's base URL. @default 'https://api.oilpriceapi.com' */
  readonly baseUrl?: string;
  /**
   * The policy every request runs under. Pass `defaultPipeline({ … })` to adjust the default, or
   * `noop` (from `@bulwark/core`) for none.
   * @default defaultPipeline()
   */
  readonly policy?: Policy;
  /** The most connections open to the API at once. @default 100 */
  readonly connections?: number;
  /**
   * How many connections stay open between requests: every connection is reused while requests
   * need it, and one beyond this many closes once it has been idle for a second. @default 20
   */
  readonly keepAlive?: number;
  /** An undici dispatcher to use instead of the client's own pool (`connections`/`keepAlive` then do nothing). */
  readonly dispatcher?: Dispatcher;
  /**
   * The largest 2xx body read, in bytes; a larger answer fails as `too-large`. Of an error answer only
   * the first 64 KiB (or this many bytes, when fewer) are read: it still fails with its status.
   * @default 16777216 (16 MiB)
   */
  readonly maxResponseBytes?: number;
  /** The `User-Agent` header, printable ASCII. @default 'bulwark-oilprice/0.1.0' */
  readonly userAgent?: string;
  /** Time, for `Retry-After` given as a date and for durations in events. @default systemClock */
  readonly clock?: Clock;
}

/**
 * A historical range: one of the API's periods (ending now), or dates (`YYYY-MM-DD` or `Date`, UTC days, inclusive).
 *
 * @category models
 * @since 0.1.0
 */
export type HistoryRange =
  'day' | 'week' | 'month' | 'year' | { readonly from: string | Date; readonly to?: string | Date };

/**
 * Options of {@link OilPriceClient.history}.
 *
 * @category models
 * @since 0.1.0
 */
export interface HistoryOptions {
  /** Aggregation of the rows. @default 'raw' (every point the API has) */
  readonly interval?: 'raw' | 'hourly' | 'daily' | 'weekly' | 'monthly';
  /** The price type (`by_type`). @default the API's, 'spot_price' */
  readonly type?: string;
  /** Rows per page, 1 to 1000. @default 100 */
  readonly perPage?: number;
  /** The most pages read; a series longer than this is cut off there. @default 1000 */
  readonly maxPages?: number;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
  /** An id for the call's requests in events, logs and spans. */
  readonly correlationId?: string;
}

/**
 * Options of a single call.
 *
 * @category models
 * @since 0.1.0
 */
export interface CallOptions {
  /** Cancels the call. */
  readonly signal?: AbortSignal;
  /** An id for the call in events, logs and spans (a request id); a UUID is made when one is read and none was given. */
  readonly correlationId?: string;
}

const check = optionChecker('@bulwark/oilprice');
const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const CODE = /^[A-Za-z0-9_]{1,100}$/;
/**
 * The most of an error answer read, in bytes (or `maxResponseBytes`, when smaller): more than any error
 * body the API sends, and a proxy's page is only kept as a 300-character snippet.
 */
const ERROR_BODY_BYTES = 64 * 1024;
/** What a free-text header value may hold: printable ASCII, spaces and tabs included. */
const HEADER_TEXT = /^[\t\x20-\x7e]*$/;

function dateText(name: string, value: unknown): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return check.fail(name, 'a valid Date or a YYYY-MM-DD string', value);
    return value.toISOString().slice(0, 10);
  }
  if (typeof value === 'string' && DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return value;
  return check.fail(name, 'a valid Date or a YYYY-MM-DD string', value);
}

function checkCode(code: unknown): string {
  if (typeof code !== 'string')
    throw new TypeError(`@bulwark/oilprice: expected \`code\` to be a string, got ${typeof code}`);
  if (!CODE.test(code)) return check.fail('code', 'a commodity code of letters, digits and underscores', code);
  return code;
}

function parseBaseUrl(baseUrl: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(baseUrl);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    return check.fail('baseUrl', 'an absolute http(s) URL', baseUrl);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '') {
    // Not shown: it may hold a secret.
    return check.fail('baseUrl', 'a URL without credentials or query (the key goes in a header)', '(not shown)');
  }
  return url;
}

const decoders = new WeakMap<t.Decoder<unknown, unknown>, ReturnType<typeof guardedDecoder>>();

/**
 * `codec`'s decoder behind @bulwark/validate's input guard: a body with an own `__proto__` key
 * anywhere (which an io-ts intersection would make the prototype of what it returns), nested deeper
 * than 64 levels or holding more than a million values fails before the codec sees it.
 */
function decoderOf<A>(codec: t.Decoder<unknown, A>): ReturnType<typeof guardedDecoder<A>> {
  let decoder = decoders.get(codec);
  if (decoder === undefined) {
    decoder = guardedDecoder(codec);
    decoders.set(codec, decoder);
  }
  return decoder as ReturnType<typeof guardedDecoder<A>>;
}

/** The failing paths: the codec's own, or what the guard refused (a `__proto__` key, too deep, too big). */
const describeFailure = (failure: DecodeFailure): string[] =>
  failure.reason === 'invalid' ? renderDecodeErrors(failure.errors) : formatPaths(failure, { maxLines: 3 });

/** Whether `status` is a 2xx: an answer to decode, not an error to read. */
const isSuccess = (status: number): boolean => status >= 200 && status <= 299;

/** A transport error's code (`ECONNRESET`, `UND_ERR_SOCKET`…), without reading anything else off it. */
function errorCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * An OilPriceAPI client.
 *
 * @example
 * ```ts
 * import { noop } from '@bulwark/core';
 * import { startFakeOilPrice } from '@bulwark/testkit/fake-oilprice';
 *
 * const fake = await startFakeOilPrice();
 * const client = new OilPriceClient({ apiKey: fake.apiKey, baseUrl: fake.url, policy: noop });
 * try {
 *   const brent = await client.latest('BRENT_CRUDE_USD');
 *   assert.equal(brent.price, fake.priceAt('BRENT_CRUDE_USD'));
 *   const week = await client.history('WTI_USD', 'week', { interval: 'daily' });
 *   assert.ok(week.length >= 7);
 * } finally {
 *   await client.close();
 *   await fake.close();
 * }
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export class OilPriceClient {
  /** The policy every request runs under. */
  readonly policy: Policy;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly keepAlive: number;
  private readonly maxResponseBytes: number;
  private readonly clock: Clock;
  private readonly redact: (text: string) => string;
  private readonly events = new Emitter<OilPriceEvent>();
  private active = 0;
  /** Set by the first `close()`: the client is closed from then on. */
  private closing: Promise<void> | undefined;
  /** One controller per pending call, which `close()` aborts. */
  private readonly pending = new Set<AbortController>();
  /** The default pipeline this client made (and so closes), when it was given none. */
  private readonly ownedPipeline: OilPricePipeline | undefined;
  /**
   * The request headers, the key among them: in a `#private` field, so that `util.inspect`,
   * `console.log` and `JSON.stringify` of the client never show it.
   */
  readonly #headers: Readonly<Record<string, string>>;
  /** `send` under the policy, built once. */
  private readonly call: (request: OilPriceRequest) => Promise<OilPriceResult>;

  constructor(options: OilPriceClientOptions) {
    // Required: without options there is no key, and that is what the message should say.
    const opts = check.object('options', options) as Partial<OilPriceClientOptions>;
    // Checked here, not left to undici: it refuses such a header on every request, and each refusal
    // would be a retryable network error counted by the breaker.
    const apiKey = check.secret('apiKey', opts.apiKey);
    const baseUrl = check.string('baseUrl', opts.baseUrl, 'https://api.oilpriceapi.com');
    const url = parseBaseUrl(baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    const connections = check.integer('connections', opts.connections, 100, { min: 1 });
    this.keepAlive = check.integer('keepAlive', opts.keepAlive, 20, { min: 0 });
    this.maxResponseBytes = check.integer('maxResponseBytes', opts.maxResponseBytes, 16 * 1024 * 1024, { min: 1 });
    this.clock = opts.clock ?? systemClock;
    if (typeof (this.clock as Partial<Clock> | null)?.now !== 'function') {
      check.fail('clock', 'a Clock (with `now`)', this.clock);
    }
    if (
      opts.dispatcher !== undefined &&
      typeof (opts.dispatcher as Partial<Dispatcher> | null)?.request !== 'function'
    ) {
      check.fail('dispatcher', 'an undici Dispatcher (with `request`)', opts.dispatcher);
    }
    const userAgent = check.string('userAgent', opts.userAgent, 'bulwark-oilprice/0.1.0');
    if (!HEADER_TEXT.test(userAgent)) {
      check.fail('userAgent', 'printable ASCII (a header value without line breaks or control characters)', userAgent);
    }
    if (opts.policy !== undefined && typeof (opts.policy as Partial<Policy> | null)?.wrapWithContext !== 'function') {
      check.fail('policy', 'a Bulwark policy (`noop` for none)', opts.policy);
    }
    // Every option is checked: from here on, what is made holds resources (a pool, a pipeline).
    if (opts.dispatcher !== undefined) {
      this.dispatcher = opts.dispatcher;
      this.ownsDispatcher = false;
    } else {
      this.dispatcher = keepAlivePool(this.origin, connections, this.keepAlive);
      this.ownsDispatcher = true;
    }
    this.#headers = {
      authorization: `Token ${apiKey}`,
      accept: 'application/json',
      'user-agent': userAgent,
    };
    // Also a start of the key where a text was cut (a snippet, a value shown in a decode error).
    this.redact = (text) => hideSecrets(text, [apiKey], '***');
    this.ownedPipeline = opts.policy === undefined ? defaultPipeline() : undefined;
    this.policy = opts.policy ?? (this.ownedPipeline as OilPricePipeline);
    this.call = this.policy.wrapWithContext((ctx: Context, request: OilPriceRequest) => this.send(ctx, request), {
      signal: (request) => request.signal,
      correlationId: (request) => request.correlationId,
    });
  }

  /**
   * The latest price of one commodity.
   *
   * @throws {@link OilPriceApiError} for an error answer (unknown code: 400 with `suggestions`),
   * {@link OilPriceNetworkError}, {@link OilPriceResponseError}, or whatever the policy raises.
   */
  async latest(code: string, options: CallOptions = {}): Promise<Price> {
    checkCode(code);
    const query = new URLSearchParams({ by_code: code }).toString();
    const result = await this.run(this.request('latest', '/v1/prices/latest', query, code, options), options);
    return (result as Extract<OilPriceResult, { operation: 'latest' }>).price;
  }

  /**
   * A historical series, every page read, newest first.
   *
   * @param range - A period ending now (`'day'`, `'week'`, `'month'`, `'year'`) or `{ from, to? }` dates.
   */
  async history(code: string, range: HistoryRange, options: HistoryOptions = {}): Promise<Price[]> {
    const rows: Price[] = [];
    for await (const page of this.historyPages(code, range, options)) rows.push(...page.prices);
    return rows;
  }

  /**
   * A historical series page by page, newest first: each page is one request under the policy, read
   * only when the loop asks for it. Stops when the API says there is no next page (`X-Has-Next`,
   * `X-Total-Pages` or the body `meta`), on an empty page, or after `maxPages`.
   */
  async *historyPages(code: string, range: HistoryRange, options: HistoryOptions = {}): AsyncGenerator<PricePage> {
    checkCode(code);
    check.object('options', options);
    const interval = check.oneOf('interval', options.interval, undefined, [
      'raw',
      'hourly',
      'daily',
      'weekly',
      'monthly',
    ] as const);
    const perPage = check.integer('perPage', options.perPage, 100, { min: 1, max: 1000 });
    const maxPages = check.integer('maxPages', options.maxPages, 1000, { min: 1 });
    const type = check.string('type', options.type, undefined);
    const base = new URLSearchParams({ by_code: code });
    let endpoint: string;
    if (typeof range === 'string') {
      const period = check.oneOf('range', range, undefined, ['day', 'week', 'month', 'year'] as const);
      endpoint = `past_${period as string}`;
    } else {
      check.object('range', range);
      const from = dateText('range.from', range.from);
      const to = range.to === undefined ? undefined : dateText('range.to', range.to);
      const fromMs = Date.parse(`${from}T00:00:00Z`);
      const toMs = to === undefined ? this.clock.now() : Date.parse(`${to}T00:00:00Z`);
      if (toMs < fromMs) check.fail('range', '`from` on or before `to`', `${from}..${to ?? 'now'}`);
      // The SDKs' rule: the shortest period endpoint that holds the range.
      const days = Math.ceil((toMs - fromMs) / DAY_MS) + 1;
      endpoint = days <= 1 ? 'past_day' : days <= 7 ? 'past_week' : days <= 30 ? 'past_month' : 'past_year';
      base.set('start_date', from);
      if (to !== undefined) base.set('end_date', to);
    }
    if (interval !== undefined) base.set('interval', interval);
    if (type !== undefined) base.set('by_type', type);
    base.set('per_page', String(perPage));
    for (let page = 1; page <= maxPages; page++) {
      base.set('page', String(page));
      const request = this.request('history', `/v1/prices/${endpoint}`, base.toString(), code, options);
      const result = await this.run(request, options);
      const current = (result as Extract<OilPriceResult, { operation: 'history' }>).page;
      yield current;
      if (!current.hasNext || current.prices.length === 0) return;
    }
  }

  /** The commodity catalogue: the codes this account can read. */
  async commodities(options: CallOptions = {}): Promise<readonly Commodity[]> {
    const result = await this.run(this.request('commodities', '/v1/commodities', '', undefined, options), options);
    return (result as Extract<OilPriceResult, { operation: 'commodities' }>).commodities;
  }

  /** One catalogue entry. @throws {@link OilPriceApiError} `not-found` for an unknown code. */
  async commodity(code: string, options: CallOptions = {}): Promise<Commodity> {
    checkCode(code);
    const result = await this.run(this.request('commodity', `/v1/commodities/${code}`, '', code, options), options);
    return (result as Extract<OilPriceResult, { operation: 'commodity' }>).commodity;
  }

  /** How many HTTP requests are in flight now (sent, answer not yet read). */
  get inFlight(): number {
    return this.active;
  }

  /** Subscribes to the transport's events (one per answer or network failure). */
  onEvent(listener: Listener<OilPriceEvent>): Disposer {
    return this.events.on(listener);
  }

  /**
   * Closes the client: every pending call (in flight, queued, or waiting between retries) ends at once
   * with an {@link OilPriceClosedError}, and so does every call made afterwards; then the client's own
   * connection pool (not a dispatcher it was given) and the default pipeline it made itself (a
   * pipeline it was given is yours to close) are closed.
   */
  close(): Promise<void> {
    // Once: a second call (a `finally` after an explicit close) waits for the first instead of
    // failing with undici's untyped ClientDestroyedError.
    if (this.closing === undefined) {
      // One reason for all: the breaker ignores a failure that is its call's abort reason, and
      // `isDependencyFailure` does not count it either, so closing never opens a breaker.
      const reason = new OilPriceClosedError();
      for (const controller of this.pending) controller.abort(reason);
      this.closing = (async () => {
        if (this.ownsDispatcher) await this.dispatcher.close();
        await this.ownedPipeline?.close();
      })();
    }
    return this.closing;
  }

  /**
   * Runs `request` under the policy with a signal of the call's own, which the caller's signal and
   * `close()` abort. Not `AbortSignal.any` with one client-wide signal: on Node 20 a long-lived source
   * keeps every signal ever combined with it (nodejs/node#48419), a few dozen bytes a call, forever.
   */
  private async run(request: Omit<OilPriceRequest, 'signal'>, options: CallOptions): Promise<OilPriceResult> {
    if (this.closing !== undefined) throw new OilPriceClosedError();
    const controller = new AbortController();
    const caller = options.signal;
    const forward = (): void => controller.abort(caller?.reason);
    if (caller?.aborted === true) forward();
    else caller?.addEventListener('abort', forward, { once: true });
    this.pending.add(controller);
    try {
      return await this.call({ ...request, signal: controller.signal });
    } finally {
      this.pending.delete(controller);
      caller?.removeEventListener('abort', forward);
    }
  }

  private request(
    operation: OilPriceRequest['operation'],
    path: string,
    query: string,
    code: string | undefined,
    options: CallOptions,
  ): Omit<OilPriceRequest, 'signal'> {
    const key = query === '' ? path : `${path}?${query}`;
    return {
      operation,
      path,
      query,
      key,
      ...(code !== undefined ? { code } : {}),
      ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {}),
    };
  }

  /** One HTTP request: what the policy wraps. */
  private async send(ctx: Context, request: OilPriceRequest): Promise<OilPriceResult> {
    // The path only, as the README promises: the query holds what the caller passed (codes, dates, a
    // price type), which belongs in neither logs nor error messages.
    const label = `GET ${request.path}`;
    const signal = ctx.signal;
    const started = this.clock.now();
    this.active++;
    let status = 0;
    let text: string;
    let header: (name: string) => string | undefined;
    try {
      const response = await this.dispatcher.request({
        origin: this.origin,
        path: `${this.basePath}${request.key}`,
        method: 'GET',
        headers: this.#headers,
        signal,
      });
      status = response.statusCode;
      const headers = response.headers;
      // Redacted here, once, for everything read from headers: events, errors, rate-limit state.
      header = (name) => {
        const value = headers[name];
        const first = Array.isArray(value) ? value[0] : value;
        return first === undefined ? undefined : this.redact(first);
      };
      if (isSuccess(status)) {
        text = await this.readBody(response.body, this.maxResponseBytes, () => {
          throw new OilPriceResponseError(label, 'too-large');
        });
      } else {
        // Only the start: a large error page must not hide the status, which says what to do next.
        text = await this.readBody(response.body, Math.min(ERROR_BODY_BYTES, this.maxResponseBytes));
      }
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof OilPriceResponseError) throw error;
      const code = errorCode(error);
      if (this.events.active) {
        this.events.emit({
          type: 'network-error',
          policy: 'oilprice',
          context: ctx,
          request: label,
          durationMs: this.clock.now() - started,
          code,
        });
      }
      throw new OilPriceNetworkError(label, code, error);
    } finally {
      this.active--;
    }
    const requestId = header('x-request-id');
    if (this.events.active) {
      this.events.emit({
        type: 'response',
        policy: 'oilprice',
        context: ctx,
        request: label,
        status,
        durationMs: this.clock.now() - started,
        requestId,
      });
    }
    if (!isSuccess(status)) {
      throw new OilPriceApiError(label, readErrorBody(status, text, header, this.redact, this.clock.now()));
    }
    return this.decode(request, label, text, header, requestId);
  }

  /**
   * The body as text, at most `limit` bytes of it: past that, the rest is not read (the connection is
   * dropped) and `tooLarge` throws, or, without it, the text read so far is the answer.
   */
  private async readBody(
    body: Dispatcher.ResponseData['body'],
    limit: number,
    tooLarge?: () => never,
  ): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      if (size + buffer.length > limit) {
        body.destroy();
        tooLarge?.();
        chunks.push(buffer.subarray(0, limit - size));
        break;
      }
      size += buffer.length;
      chunks.push(buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private decode(
    request: OilPriceRequest,
    label: string,
    text: string,
    header: (name: string) => string | undefined,
    requestId: string | undefined,
  ): OilPriceResult {
    const first = text.trimStart()[0];
    if (first !== '{' && first !== '[') throw new OilPriceResponseError(label, 'not-json', [], requestId);
    const parsed = parseJson(text);
    if (parsed._tag === 'Left') throw new OilPriceResponseError(label, 'malformed-json', [], requestId, parsed.left);
    const json = parsed.right;
    const decode = <A>(codec: t.Decoder<unknown, A>): A => {
      const result = decoderOf(codec)(json);
      if (result._tag === 'Left') {
        const paths = describeFailure(result.left).map(this.redact);
        throw new OilPriceResponseError(label, 'unexpected-shape', paths, requestId);
      }
      return result.right;
    };
    switch (request.operation) {
      case 'latest':
        return { operation: 'latest', price: toPrice(decode(LatestPriceResponse).data) };
      case 'commodity':
        return { operation: 'commodity', commodity: toCommodity(decode(CommodityResponse).data) };
      case 'commodities': {
        const data = decode(CommoditiesResponse).data;
        return {
          operation: 'commodities',
          commodities: (Array.isArray(data) ? data : data.commodities).map(toCommodity),
        };
      }
      case 'history': {
        const body = decode(HistoricalPricesResponse);
        const rows = Array.isArray(body.data) ? body.data : body.data.prices;
        const meta = body.meta ?? undefined;
        const page = Number(new URLSearchParams(request.query).get('page') ?? '1');
        const hasNextHeader = header('x-has-next');
        const totalPagesHeader = header('x-total-pages');
        const totalHeader = header('x-total') ?? header('x-total-count');
        const totalPages =
          totalPagesHeader !== undefined && Number.isFinite(Number(totalPagesHeader))
            ? Number(totalPagesHeader)
            : meta?.total_pages;
        const total =
          totalHeader !== undefined && Number.isFinite(Number(totalHeader)) ? Number(totalHeader) : meta?.total;
        const hasNext =
          hasNextHeader !== undefined
            ? hasNextHeader.trim().toLowerCase() === 'true'
            : totalPages !== undefined
              ? page < totalPages
              : (meta?.has_next ?? false);
        return {
          operation: 'history',
          page: {
            prices: rows.map(toPrice),
            page,
            hasNext,
            ...(totalPages !== undefined ? { totalPages } : {}),
            ...(total !== undefined ? { total } : {}),
          },
        };
      }
    }
  }
}
