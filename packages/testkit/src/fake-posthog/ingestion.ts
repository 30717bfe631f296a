/**
 * The fake ingestion host: PostHog's capture endpoints as the Rust `capture` service answers them.
 *
 * `POST /batch/`, `/i/v0/e/`, `/e/`, `/capture/`, `/track/`, `/engage/` (with or without the trailing
 * slash) take a raw or gzipped JSON body: a batch (`{api_key, batch: [...]}`), one event, or an array
 * of events. Errors are plain text with the service's wording; success is `200 {"status":"Ok"}`
 * (`204` with `?beacon=1`). A body or an event over the size limits gets `413`.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';

import type { FaultPlan } from './faults.js';
import { gunzipBounded, readBody, resetConnection, sendJson, sendSlowly, sendText, type Hold } from './http.js';
import type { IngestedEvent, ReceivedEvents } from './received.js';

/** The ingestion host's settings. */
export interface IngestionSettings {
  readonly maxBodyBytes: number;
  readonly maxEventBytes: number;
  readonly missingFieldStatus: 200 | 400;
  readonly now: () => number;
}

const CAPTURE_PATHS = new Set(['/batch', '/i/v0/e', '/e', '/capture', '/track', '/engage']);

/** Default plain-text bodies for injected statuses, in the capture service's words. */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'failed to parse request: injected fault',
  401: 'API key is not valid: empty',
  408: 'request timed out',
  413: 'maximum event size exceeded: injected fault',
  429: 'rate limited',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'transient error, please retry',
  504: 'gateway timeout',
};

class CaptureError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Why a token is not valid, as `capture`'s token check says it, or `undefined` when it is. */
function invalidTokenReason(token: string): string | undefined {
  if (token.length === 0) return 'empty';
  if (token.length > 64) return 'too_long';
  if (token.includes('\u0000')) return 'null_byte';
  if (!/^[\x20-\x7e]*$/.test(token)) return 'not_ascii';
  if (token.startsWith('phx_')) return 'personal_api_key';
  return undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const tokenOf = (value: Record<string, unknown>): unknown => value['api_key'] ?? value['token'];

/** Parses a capture body into its events and their one token; throws a {@link CaptureError}. */
function parsePayload(
  payload: unknown,
  settings: IngestionSettings,
  now: number,
): { events: IngestedEvent[]; dropped: number } {
  let raw: unknown[];
  let topToken: unknown;
  let historical = false;
  if (Array.isArray(payload)) {
    raw = payload;
  } else if (isRecord(payload)) {
    topToken = tokenOf(payload);
    historical = payload['historical_migration'] === true;
    if (Array.isArray(payload['batch'])) raw = payload['batch'] as unknown[];
    else if (payload['batch'] !== undefined)
      throw new CaptureError(400, 'failed to parse request: batch is not an array');
    else raw = [payload];
  } else {
    throw new CaptureError(400, 'failed to parse request: expected a JSON object or array');
  }
  if (raw.length === 0) throw new CaptureError(400, 'request holds no event');

  let token: string | undefined = typeof topToken === 'string' ? topToken.trim() : undefined;
  for (const item of raw) {
    if (!isRecord(item)) throw new CaptureError(400, 'failed to parse request: event is not an object');
    const own = tokenOf(item);
    if (typeof own !== 'string') continue;
    const trimmed = own.trim();
    if (token === undefined) token = trimmed;
    else if (trimmed !== token) throw new CaptureError(401, 'batch submitted with inconsistent api_key values');
  }
  if (token === undefined) throw new CaptureError(401, 'event submitted without an api_key');
  const reason = invalidTokenReason(token);
  if (reason !== undefined) throw new CaptureError(401, `API key is not valid: ${reason}`);

  const events: IngestedEvent[] = [];
  let dropped = 0;
  for (const item of raw as Record<string, unknown>[]) {
    const size = Buffer.byteLength(JSON.stringify(item));
    if (size > settings.maxEventBytes) {
      throw new CaptureError(
        413,
        `maximum event size exceeded: event of ${size} bytes, limit ${settings.maxEventBytes}`,
      );
    }
    const properties = isRecord(item['properties']) ? item['properties'] : {};
    const name = item['event'];
    const distinctId = item['distinct_id'] ?? properties['distinct_id'];
    if (typeof name !== 'string' || name.length === 0) {
      if (settings.missingFieldStatus === 200) {
        dropped += 1;
        continue;
      }
      throw new CaptureError(400, 'event submitted with an empty event name');
    }
    if ((typeof distinctId !== 'string' && typeof distinctId !== 'number') || String(distinctId).length === 0) {
      if (settings.missingFieldStatus === 200) {
        dropped += 1;
        continue;
      }
      throw new CaptureError(400, 'event submitted without a distinct_id');
    }
    let timestamp = new Date(now).toISOString();
    if (item['timestamp'] !== undefined && item['timestamp'] !== null) {
      const sent = item['timestamp'];
      if (typeof sent !== 'string' || Number.isNaN(Date.parse(sent))) {
        throw new CaptureError(400, 'event submitted with invalid timestamp');
      }
      timestamp = sent;
    }
    const uuid = item['uuid'];
    if (uuid !== undefined && (typeof uuid !== 'string' || !/^[0-9a-f-]{36}$/i.test(uuid))) {
      throw new CaptureError(400, 'failed to parse request: invalid uuid');
    }
    events.push({
      uuid,
      event: name,
      distinctId: String(distinctId),
      properties,
      timestamp,
      token,
      receivedAt: now,
      historicalMigration: historical,
    });
  }
  return { events, dropped };
}

/**
 * Makes the ingestion host's request handler.
 *
 * @param received - Where accepted events are recorded.
 * @param onEvent - Called with each accepted event (the private API learns from them).
 */
export function ingestionHandler(
  settings: IngestionSettings,
  faults: FaultPlan,
  received: ReceivedEvents,
  onEvent: (event: IngestedEvent) => void,
  counters: { dropped: number },
  hold: Hold,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.endsWith('/') && url.pathname.length > 1 ? url.pathname.slice(0, -1) : url.pathname;
    const fault = faults.draw('ingestion', url.pathname);
    if (fault?.kind === 'reset') return resetConnection(req);
    if (fault?.kind === 'status') {
      const headers: Record<string, string> =
        fault.retryAfterS !== undefined ? { 'retry-after': String(fault.retryAfterS) } : {};
      return sendText(res, fault.status, fault.body ?? STATUS_TEXT[fault.status] ?? 'error', headers);
    }
    if (fault?.kind === 'delay' && fault.ms > 0) await hold(fault.ms, res);

    if (!CAPTURE_PATHS.has(path)) return sendText(res, 404, 'not found');
    if (req.method !== 'POST') return sendText(res, 405, 'method not allowed');

    let status = 200;
    let text = '';
    try {
      const body = await readBody(req, settings.maxBodyBytes);
      if (body === undefined) throw new CaptureError(413, 'maximum event size exceeded: request body too large');
      const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
      const gzipped = encoding.includes('gzip') || url.searchParams.get('compression') === 'gzip-js';
      let plain: Buffer;
      try {
        plain = gzipped ? await gunzipBounded(body, settings.maxBodyBytes) : body;
      } catch (error) {
        const tooLarge = error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
        throw tooLarge
          ? new CaptureError(413, 'maximum event size exceeded: request body too large')
          : new CaptureError(400, `failed to decode request: ${(error as Error).message}`);
      }
      if (plain.length === 0) throw new CaptureError(400, 'request missing data payload');
      let payload: unknown;
      try {
        payload = JSON.parse(plain.toString('utf8'));
      } catch (error) {
        throw new CaptureError(400, `failed to parse request: ${(error as Error).message}`);
      }
      const { events, dropped } = parsePayload(payload, settings, settings.now());
      counters.dropped += dropped;
      for (const event of events) {
        received.record(event);
        onEvent(event);
      }
    } catch (error) {
      if (!(error instanceof CaptureError)) throw error;
      status = error.status;
      text = error.message;
    }
    if (fault?.kind === 'reset-after-receive') return resetConnection(req);
    if (status !== 200) return sendText(res, status, text);
    if (url.searchParams.get('beacon') === '1') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (fault?.kind === 'slow-body') return sendSlowly(res, 200, { status: 'Ok' }, fault, hold);
    sendJson(res, 200, { status: 'Ok' });
  };
}
