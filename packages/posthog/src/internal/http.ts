/**
 * One HTTP exchange with PostHog over `fetch`: the answer's status and text, or a typed error.
 * Error answers become {@link PostHogHttpError}s (from the DRF envelope on the API host, from the plain
 * text on the ingestion host); failures without an answer become {@link PostHogNetworkError}s.
 *
 * @module
 */

import { ErrorEnvelope, decode } from '../codecs.js';
import { PostHogDecodeError, PostHogHttpError, PostHogNetworkError, type PostHogHost } from '../errors.js';

/** The `fetch` the driver uses (the global one, or undici's with a dispatcher of the user's). */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** Parses `Retry-After` (whole seconds or an HTTP date) into milliseconds from `nowMs`. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

const MAX_DETAIL = 300;

/** `text` cut to {@link MAX_DETAIL} characters: after redaction, so that no key is cut in half and kept. */
const cut = (text: string): string => (text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text);

/**
 * Reads a body up to `maxBytes`: its text, and whether that is all of it. A longer body is cancelled
 * there, so a server cannot make the driver hold more than `maxBytes` of one answer.
 */
async function readBounded(response: Response, maxBytes: number): Promise<{ text: string; complete: boolean }> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  const body = response.body;
  if (declared > maxBytes || body === null) {
    await body?.cancel().catch(() => undefined);
    return { text: '', complete: body === null };
  }
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks).toString('utf8'), complete: false };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), complete: true };
}

/**
 * Sends one request. Resolves the answer's text for 2xx; throws a typed error otherwise, its texts
 * passed through `redact` (a server may echo a key back), or the signal's reason when it was aborted.
 * The body of every answer is read (or cancelled), so the connection goes back to the pool; a 2xx body
 * longer than `maxBytes` is a {@link PostHogDecodeError}.
 *
 * On the ingestion host a 2xx status is the delivery, as posthog-node counts it: the body (PostHog's
 * `{"status":"Ok"}`) is cancelled unread and `''` resolved. Waiting for it would turn an accepted batch
 * whose body is slow, cut off or too long into a failure, and so into a second delivery.
 */
export async function exchange(
  fetchFn: Fetch,
  host: PostHogHost,
  url: string,
  init: RequestInit,
  wallNow: () => number,
  maxBytes: number,
  redact: (text: string) => string,
): Promise<string> {
  const path = pathOf(url);
  let response: Response;
  let text: string;
  let complete: boolean;
  try {
    response = await fetchFn(url, init);
    if (host === 'ingestion' && isSuccess(response.status)) {
      // Not awaited: cancelling closes the connection, and nothing is left to wait for.
      response.body?.cancel().catch(() => undefined);
      return '';
    }
    ({ text, complete } = await readBounded(response, maxBytes));
  } catch (error) {
    // Aborted (by the caller, a timeout, a shutdown): the abort's own reason, as every policy rejects.
    if (init.signal?.aborted === true) throw init.signal.reason;
    throw new PostHogNetworkError(host, path, withoutKeys(error, redact));
  }
  if (isSuccess(response.status)) {
    if (!complete) throw new PostHogDecodeError(host, path, [`(root): a body larger than ${maxBytes} bytes`]);
    return text;
  }
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), wallNow());
  let fields: { type?: string; code?: string; attr?: string; detail: string } = { detail: cut(redact(text)) };
  if (host === 'api' && (response.headers.get('content-type') ?? '').includes('json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const envelope = decode(ErrorEnvelope, parsed);
    if (envelope.ok) {
      const { type, code, detail, attr } = envelope.value;
      fields = { type: redact(type), detail: cut(redact(detail)) };
      if (typeof code === 'string') fields.code = redact(code);
      if (typeof attr === 'string') fields.attr = redact(attr);
    }
  }
  throw new PostHogHttpError({ host, path, status: response.status, retryAfterMs, ...fields });
}

/** What a redacted copy of a network error keeps of the original's own fields. */
const NETWORK_FIELDS = ['code', 'errno', 'syscall', 'address', 'port'] as const;

/** How deep {@link withoutKeys} follows a chain of causes; one deeper is cut off, not kept unredacted. */
const MAX_CAUSE_DEPTH = 4;

/**
 * `error` with `redact` applied to its message and stack, and its causes'. `fetch` quotes a header value
 * it refuses, and a network error's message and `cause` would show it. The keys are checked at
 * construction, so the built-in `fetch` no longer refuses one; this stays for a `fetch` of the
 * caller's (a proxy, a test double) whose errors carry the request's headers or URL; an error holding no key comes
 * back as it is (its class and fields kept), one holding a key as a plain `Error` of the same name, `code`,
 * `errno`, `syscall`, `address` and `port`. A cause that is a string is redacted too.
 */
function withoutKeys(error: unknown, redact: (text: string) => string, depth = 0): unknown {
  if (typeof error === 'string') return redact(error);
  if (!(error instanceof Error)) return error;
  if (depth >= MAX_CAUSE_DEPTH) return undefined;
  const cause = withoutKeys(error.cause, redact, depth + 1);
  const message = redact(error.message);
  const stack = error.stack === undefined ? undefined : redact(error.stack);
  if (message === error.message && stack === error.stack && cause === error.cause) return error;
  const copy = cause === undefined ? new Error(message) : new Error(message, { cause });
  copy.name = error.name;
  if (stack !== undefined) copy.stack = stack;
  // The fields a network error is told apart by (none of them can hold a header value).
  for (const field of NETWORK_FIELDS) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (typeof value === 'string' || typeof value === 'number') Object.assign(copy, { [field]: value });
  }
  return copy;
}

const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/** The path of a URL without its query string: what errors and events name. */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const end = url.indexOf('?');
  return start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end);
}
