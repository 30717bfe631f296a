/**
 * Redaction: what telemetry writes (log lines, span attributes and events, metric labels, health
 * details) never carries a secret.
 *
 * Three rules apply to every string: the configured secret values (and their URL-encoded forms) are
 * replaced wherever they appear; credentials in recognisable shapes are replaced (`Bearer …`,
 * `Authorization: Token …`, `api_key=…`, `"password": "…"`, `redis://user:pass@host`, JWTs and keys
 * with well-known prefixes such as `opa_live_`, `phx_`, `sk-`); and in objects, the value of any key
 * that names a secret (`authorization`, `apiKey`, `token`, `password`, `cookie`…) is replaced whole.
 *
 * A configured secret cut off by an earlier truncation (`…opa_live_0123` at the end of a text, or
 * before its `…`) still leaks its start, so a start of at least 6 characters of a configured secret
 * that ends where a text was cut is replaced too (see {@link hideSecrets}).
 *
 * A text longer than {@link MAX_TEXT_LENGTH} (32,768 characters) is redacted up to a little past that
 * length, then cut to it with a marker (`;…[cut: 1048576 characters in all]`), so what a server sends
 * costs a bounded time; every rule runs in time linear in the text it reads.
 *
 * Laws: redaction is idempotent (`text(text(s)) === text(s)`), a configured secret never survives it,
 * nor does a start of one (6 characters or more) where the text was cut, and a string with nothing to
 * redact comes back unchanged.
 *
 * @module
 */

import { type Json } from '@bulwark/core';
import { optionChecker, type OptionChecker } from '@bulwark/core/options';

import { errorTag } from './internal/error-tag.js';
import { isArrayOf } from './internal/checks.js';

const check: OptionChecker = optionChecker('@bulwark/telemetry');

/**
 * What replaces a redacted value.
 *
 * @example
 * ```ts
 * assert.equal(redactor().text('Bearer abcdefgh12345678'), `Bearer ${REDACTED}`);
 * ```
 *
 * @since 0.1.0
 */
export const REDACTED = '[REDACTED]';

/** Names of keys that hold secrets, the authorization headers apart, as a RegExp alternation. */
const SECRET_KEY_NAMES =
  'cookie|set-cookie|x-api-key|api[-_]?key|apikey|personal[-_]?api[-_]?key|secret[-_]?key|client[-_]?secret|secret|password|passwd|pwd|private[-_]?key|credentials?|(?:access|refresh|id|auth|bearer|session|csrf)[-_]?token|token';

/**
 * Object keys whose values are secrets whatever they hold: credentials, tokens, passwords, cookies.
 *
 * @example
 * ```ts
 * assert.ok(SECRET_KEYS.test('Authorization') && SECRET_KEYS.test('api_key') && SECRET_KEYS.test('refreshToken'));
 * assert.ok(!SECRET_KEYS.test('tokens') && !SECRET_KEYS.test('status'));
 * ```
 *
 * @since 0.1.0
 */
export const SECRET_KEYS: RegExp = new RegExp(`^(?:authorization|proxy-authorization|${SECRET_KEY_NAMES})$`, 'i');

type Rule = readonly [RegExp, (replacement: string) => (match: string, ...groups: string[]) => string];

/** Credentials in recognisable shapes, most specific first. */
const TEXT_RULES: readonly Rule[] = [
  // Authorization schemes: Bearer and Basic always carry a credential; Token and ApiKey when it has a digit
  // (so prose like "token bucket" survives).
  [/\b(Bearer|Basic)(\s+)(?!\[REDACTED)[^\s"',;]{8,}/gi, (r) => (_m, scheme, space) => `${scheme}${space}${r}`],
  // A token holds no brackets: so a text another rule already redacted (`Token redis://u:[REDACTED]@h1`)
  // is not taken for one on a second pass, which keeps redaction idempotent.
  [/\b(Token|ApiKey)(\s+)(?=[^\s"',;[\]]*\d)[^\s"',;[\]]{8,}/gi, (r) => (_m, scheme, space) => `${scheme}${space}${r}`],
  // key=value, key: value, "key": "value" in query strings, headers and JSON text, for the keys whose
  // values the object walk hides (so `?accessToken=…` is hidden as `{ accessToken }` is); the
  // authorization headers have the rule below, since their value may start with a scheme.
  [
    new RegExp(`\\b((?:${SECRET_KEY_NAMES})\\b["']?\\s*[:=]\\s*["']?)(?!\\[REDACTED)[^\\s"'&,;}\\]]+`, 'gi'),
    (r) => (_m, key) => `${key}${r}`,
  ],
  [
    /\b(authorization["']?\s*[:=]\s*["']?)(?!\[REDACTED)(?!Bearer\b|Basic\b|Token\b)[^\s"',;}]+/gi,
    (r) => (_m, key) => `${key}${r}`,
  ],
  // Keys with well-known prefixes: OilPriceAPI, PostHog, Stripe, OpenAI, GitHub, Slack, AWS.
  [
    /\b(?:opa_(?:live|test)_|ph[cxs]_|[sr]k_(?:live|test)_|sk-(?:proj-)?|gh[pousr]_|github_pat_|xox[abprs]-|AKIA)[A-Za-z0-9_-]{8,}/g,
    (r) => () => r,
  ],
  // JSON Web Tokens. One starts only where a run of [\w-] starts: a start inside the run would scan
  // the rest of it again, and a run of `eyJ-eyJ-…` would cost time quadratic in its length.
  [/(?<![\w-])eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g, (r) => () => r],
  // Passwords in URLs: scheme://user:password@host. Anchored on `://`, the scheme looked for behind
  // it: matched forwards, a scheme would be tried from every letter of a long dotted word.
  [/:\/\/(?<=\b[a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*:)(?!\[REDACTED)[^\s@/]+@/gi, (r) => (_m, user) => `://${user}${r}@`],
];

/**
 * The longest text redacted whole, in characters. A longer one (a response body in an error) is
 * redacted up to a little past this length, then cut to it with a marker saying how long it was: its
 * secrets are hidden before the cut, so no part of one is left at it, and redaction costs a bounded
 * time whatever a server sends.
 *
 * @internal
 */
export const MAX_TEXT_LENGTH = 32_768;

/** How far past the cut a long text is redacted, so that a credential across the cut is hidden whole. */
const CUT_MARGIN = 4_096;

/** How far back from the length limit a cut looks for the end of a word. */
const CUT_BACKOFF = 1_024;

/**
 * Characters that end a value in every text rule. The marker of a cut starts with one (`;`) so that
 * no rule reads the marker as the value of a key the kept text ends with, and a cut is made after one
 * where it can be, so that no rule reads a word the cut shortened differently on a second pass.
 */
const ENDS_VALUE = /[\s"',;]/;

/** `redacted` (the start of a text `length` long) cut to {@link MAX_TEXT_LENGTH} with a marker. */
function cutShort(redacted: string, length: number, replacement: string): string {
  const marker = `;…[cut: ${length} characters in all]`;
  let end = Math.min(MAX_TEXT_LENGTH - marker.length, redacted.length);
  let at = end;
  while (at > end - CUT_BACKOFF && !ENDS_VALUE.test(redacted.charAt(at - 1))) at--;
  if (at > end - CUT_BACKOFF) end = at;
  // Never through a replacement: half of one would read as a value on a second pass.
  const hidden = replacement === '' ? -1 : redacted.lastIndexOf(replacement, end - 1);
  if (hidden !== -1 && hidden + replacement.length > end) end = hidden;
  // Never between the halves of a surrogate pair.
  const last = redacted.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${redacted.slice(0, end)}${marker}`;
}

/** The shortest start of a secret, at a cut, that is worth hiding. */
const MIN_CUT_PREFIX = 6;

/** Where a text may have been cut short: before each ellipsis a truncation leaves, and at its end. */
function cutPoints(text: string): number[] {
  const cuts: number[] = [];
  for (const match of text.matchAll(/…|\.\.\./g)) cuts.push(match.index);
  cuts.push(text.length);
  return cuts;
}

/** Whether `[start, end)` of `text` overlaps an occurrence of `replacement` (what was already hidden). */
function overlapsReplacement(text: string, start: number, end: number, replacement: string): boolean {
  const at = text.indexOf(replacement, Math.max(0, start - replacement.length + 1));
  return at !== -1 && at < end;
}

/**
 * Replaces every occurrence of each secret in `text`, and the start (6 characters or more) of a
 * secret where the text was cut: at its end or before an ellipsis (`…`, `...`).
 *
 * Redact before truncating when you can; this pass is for texts someone else cut short, such as an
 * error message built from the first 300 characters of a body that echoed a key.
 *
 * @param secrets - Secret values, each at least 4 characters long (shorter ones are ignored).
 * @param replacement - What replaces a secret. @default '[REDACTED]'
 * @example
 * ```ts
 * const key = 'opa_live_0123456789abcdef';
 * assert.equal(hideSecrets(`key ${key} sent`, [key]), 'key [REDACTED] sent');
 * assert.equal(hideSecrets(`bad key ${key.slice(0, 12)}…`, [key]), 'bad key [REDACTED]…');
 * assert.equal(hideSecrets('nothing here', [key]), 'nothing here');
 * ```
 *
 * @since 0.1.0
 */
export function hideSecrets(text: string, secrets: readonly string[], replacement: string = REDACTED): string {
  // Longest first, so a secret containing another is removed whole.
  const known = secrets.filter((secret) => typeof secret === 'string' && secret.length >= 4);
  known.sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join(replacement);
  }
  // Only secrets whose start is in the text at all can have been cut there.
  const started = known.filter((secret) => out.includes(secret.slice(0, MIN_CUT_PREFIX)));
  if (started.length === 0) return out;
  const cuts = cutPoints(out);
  // Right to left, so that a replacement never moves a cut still to be looked at.
  let limit = out.length;
  for (let c = cuts.length - 1; c >= 0; c--) {
    const cut = cuts[c] as number;
    if (cut > limit) continue;
    for (const secret of started) {
      let length = Math.min(secret.length - 1, cut);
      while (length >= MIN_CUT_PREFIX && !out.startsWith(secret.slice(0, length), cut - length)) length--;
      if (length < MIN_CUT_PREFIX || overlapsReplacement(out, cut - length, cut, replacement)) continue;
      out = `${out.slice(0, cut - length)}${replacement}${out.slice(cut)}`;
      limit = cut - length;
      break;
    }
  }
  return out;
}

/**
 * How a {@link Redactor} recognises secrets.
 *
 * @since 0.1.0
 */
export interface RedactOptions {
  /**
   * Secret values to remove wherever they appear (API keys, passwords), in addition to the shapes
   * recognised by default, and their starts where a text was cut short. Each must be at least 4
   * characters long.
   * @default []
   */
  readonly secrets?: readonly string[];
  /**
   * Object keys whose values are replaced whole. Its `g` and `y` flags, if any, are ignored.
   * @default SECRET_KEYS (authorization, cookie, apiKey, api_key, token, password, secret, …)
   */
  readonly keys?: RegExp;
  /**
   * More patterns whose every match is replaced (give them the `g` flag).
   * @default []
   */
  readonly patterns?: readonly RegExp[];
  /**
   * What replaces a secret.
   * @default '[REDACTED]'
   */
  readonly replacement?: string;
  /**
   * Whether error records include the (redacted) stack trace.
   * @default true
   */
  readonly errorStacks?: boolean;
}

/**
 * An error as telemetry writes it: its tag, redacted message and structured fields, and its cause.
 *
 * @since 0.1.0
 */
export interface ErrorRecord {
  /** The error's `_tag` (Bulwark errors) or `name`. */
  readonly type: string;
  /** The message, redacted. */
  readonly message: string;
  readonly [field: string]: Json;
}

/**
 * Removes secrets from strings, values and errors before telemetry writes them.
 *
 * @since 0.1.0
 */
export interface Redactor {
  /** The string with every secret replaced (anything else is read as `String(value)` first, never thrown on). */
  text(value: string): string;
  /** A JSON-safe copy of `value` with secrets replaced, cycles cut and depth limited. */
  value(value: unknown): Json | undefined;
  /** An error (or anything thrown) as a JSON-safe {@link ErrorRecord}, secrets replaced. */
  error(error: unknown): ErrorRecord;
  /** Adds a secret value found at run time (e.g. a key read from the environment). */
  addSecret(secret: string): void;
}

const MAX_DEPTH = 6;
const MAX_ITEMS = 100;

/**
 * Makes a {@link Redactor}.
 *
 * @throws TypeError or RangeError when an option is malformed (a secret shorter than 4 characters would
 * redact ordinary words, so it is refused).
 * @example
 * ```ts
 * const redact = redactor({ secrets: ['opa_live_0123456789abcdef'] });
 * assert.equal(redact.text('GET /prices?api_key=s3cr3t-value'), 'GET /prices?api_key=[REDACTED]');
 * assert.equal(redact.text('Authorization: Token opa_live_0123456789abcdef'), 'Authorization: Token [REDACTED]');
 * assert.deepEqual(redact.value({ headers: { Authorization: 'Bearer x' }, status: 401 }), {
 *   headers: { Authorization: '[REDACTED]' },
 *   status: 401,
 * });
 * ```
 *
 * @since 0.1.0
 */
export function redactor(options: RedactOptions = {}): Redactor {
  return redactorAt('', options);
}

/**
 * @internal {@link redactor}, its options named under `path` in messages (`redact.secrets` when a sink
 * was given them as its `redact` option).
 */
export function redactorAt(path: string, options: RedactOptions): Redactor {
  check.object(path === '' ? 'options' : path.slice(0, -1), options);
  const replacement = check.string(`${path}replacement`, options.replacement, REDACTED);
  const errorStacks = check.boolean(`${path}errorStacks`, options.errorStacks, true);
  const givenKeys = options.keys ?? SECRET_KEYS;
  if (!(givenKeys instanceof RegExp)) check.fail(`${path}keys`, 'a RegExp', givenKeys);
  // A copy without the g and y flags: with them, test() starts where the last match ended, so every
  // other secret key would be missed.
  const keys = new RegExp(givenKeys.source, givenKeys.flags.replace(/[gy]/g, ''));
  const extra: readonly RegExp[] = options.patterns ?? [];
  if (!isArrayOf(extra, (p) => p instanceof RegExp && p.global)) {
    check.fail(`${path}patterns`, 'an array of RegExps with the g flag', extra);
  }
  const secrets: string[] = [];
  const addSecret = (secret: string): void => {
    if (typeof secret !== 'string' || secret.length < 4) {
      check.fail(`${path}secrets`, 'strings of at least 4 characters', secret);
    }
    if (replacement.includes(secret)) {
      check.fail(`${path}secrets`, 'strings that do not occur in `replacement`', secret);
    }
    for (const variant of new Set([secret, encodeURIComponent(secret)])) {
      if (!secrets.includes(variant)) secrets.push(variant);
    }
    // Longest first, so a secret containing another is removed whole.
    secrets.sort((a, b) => b.length - a.length);
  };
  const given = options.secrets ?? [];
  if (!Array.isArray(given)) check.fail(`${path}secrets`, 'an array of strings', given);
  for (const secret of given as readonly string[]) addSecret(secret);

  const rules = TEXT_RULES.map(([pattern, make]) => [pattern, make(replacement)] as const);
  const fixed = (): string => replacement;

  const redactWhole = (value: string): string => {
    let out = secrets.length === 0 ? value : hideSecrets(value, secrets, replacement);
    for (const [pattern, replace] of rules) out = out.replace(pattern, replace);
    for (const pattern of extra) out = out.replace(pattern, fixed);
    return out;
  };
  const text = (given: string): string => {
    // Typed a string, but read from callers' data (a correlation id picked from headers may be an array).
    const value = typeof given === 'string' ? given : textOf(given);
    return value.length <= MAX_TEXT_LENGTH
      ? redactWhole(value)
      : cutShort(redactWhole(value.slice(0, MAX_TEXT_LENGTH + CUT_MARGIN)), value.length, replacement);
  };

  const walk = (value: unknown, depth: number, seen: Set<object>): Json | undefined => {
    switch (typeof value) {
      case 'string':
        return text(value);
      case 'number':
        return Number.isFinite(value) ? value : String(value);
      case 'boolean':
        return value;
      case 'bigint':
        return value.toString();
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
    }
    if (value === null) return null;
    const object = value as object;
    if (isErrorLike(object)) return errorRecord(object, depth, seen);
    if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
    if (ArrayBuffer.isView(object)) return `[${object.byteLength} bytes]`;
    if (seen.has(object)) return '[Circular]';
    if (depth >= MAX_DEPTH) return Array.isArray(object) ? '[Array]' : '[Object]';
    seen.add(object);
    try {
      if (Array.isArray(object) || object instanceof Set) {
        const items: Json[] = [];
        for (const item of object as Iterable<unknown>) {
          if (items.length === MAX_ITEMS) break;
          items.push(walk(item, depth + 1, seen) ?? null);
        }
        return items;
      }
      const entries: Iterable<readonly [unknown, unknown]> =
        object instanceof Map ? object.entries() : Object.entries(object);
      const out: Record<string, Json> = {};
      let count = 0;
      for (const [rawKey, item] of entries) {
        if (count++ === MAX_ITEMS) break;
        const key = typeof rawKey === 'string' ? rawKey : String(rawKey);
        if (keys.test(key)) {
          if (item !== undefined && item !== null) out[text(key)] = replacement;
          continue;
        }
        const copied = walk(item, depth + 1, seen);
        if (copied !== undefined) out[text(key)] = copied;
      }
      return out;
    } finally {
      seen.delete(object);
    }
  };

  const errorRecord = (error: ErrorLike, depth: number, seen: Set<object>): ErrorRecord => {
    const message = typeof error.message === 'string' ? text(error.message) : '';
    const record: Record<string, Json> = { type: text(errorTag(error)), message };
    if (seen.has(error) || depth >= MAX_DEPTH) return record as ErrorRecord;
    seen.add(error);
    try {
      for (const [key, field] of Object.entries(error)) {
        if (key === '_tag' || key === 'message' || key === 'stack' || key === 'name' || key === 'cause') continue;
        if (keys.test(key)) {
          record[key] = replacement;
          continue;
        }
        const copied = walk(field, depth + 1, seen);
        if (copied !== undefined) record[key] = copied;
      }
      const retryable = (error as { retryable?: unknown }).retryable;
      if (typeof retryable === 'boolean') record['retryable'] = retryable;
      if (errorStacks && typeof error.stack === 'string') record['stack'] = text(error.stack);
      if (error.cause !== undefined) {
        const cause = walk(error.cause, depth + 1, seen);
        if (cause !== undefined) record['cause'] = cause;
      }
    } finally {
      seen.delete(error);
    }
    return record as ErrorRecord;
  };

  return {
    text,
    value: (value) => walk(value, 0, new Set()),
    error(error) {
      if (typeof error !== 'object' || error === null)
        return { type: errorTag(error), message: text(describeThrown(error)) };
      if (isErrorLike(error)) return errorRecord(error, 0, new Set());
      // Anything else thrown (a plain object, an fp-ts Left) is copied as any value is, so the keys
      // that name secrets are hidden, then written as JSON text: the message an error would have.
      return { type: text(errorTag(error)), message: text(describeThrown(walk(error, 0, new Set()))) };
    },
    addSecret,
  };
}

interface ErrorLike {
  readonly message?: unknown;
  readonly stack?: unknown;
  readonly cause?: unknown;
}

const isErrorLike = (value: object): value is ErrorLike =>
  value instanceof Error || (typeof (value as { _tag?: unknown })._tag === 'string' && 'message' in value);

/** `String(value)`, or a tag where that throws (an object without a prototype, a revoked proxy). */
function textOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return `[${typeof value}]`;
    }
  }
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
