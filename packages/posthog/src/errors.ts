/**
 * The errors the PostHog driver produces: an HTTP error answer (typed from PostHog's DRF envelope or
 * the capture service's plain text), a network failure, and a body that does not decode.
 *
 * None of them carries an API key, a request body or a header: messages name the host (`api` or
 * `ingestion`), the path and what went wrong.
 *
 * @module
 */

import { BulwarkError, tagGuard } from '@bulwark/core';

/**
 * Which PostHog host a request went to: the public ingestion host (project key) or the private API host
 * (personal key).
 *
 * @category models
 * @since 0.1.0
 */
export type PostHogHost = 'ingestion' | 'api';

/** Statuses worth another attempt: timeouts, throttling and server failures. */
export const isRetryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/**
 * PostHog answered with an error status.
 *
 * On the private API the fields come from the `drf-exceptions-hog` envelope `{type, code, detail, attr}`
 * (e.g. `validation_error`/`invalid_input` with `attr` naming the field, `throttled_error`/`throttled`);
 * on the ingestion host, whose errors are plain text, `detail` is that text and `type`/`code` are
 * `undefined`. `retryAfterMs` comes from a `Retry-After` header; `retryable` is true for 408, 429 and 5xx.
 *
 * @example
 * ```ts
 * const error = new PostHogHttpError({ host: 'api', path: '/api/projects/1/query/', status: 429, type: 'throttled_error', code: 'throttled', detail: 'Request was throttled.', retryAfterMs: 3000 });
 * assert.ok(isPostHogHttpError(error) && error.retryable && error.retryAfterMs === 3000);
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class PostHogHttpError extends BulwarkError<'PostHogHttp'> {
  readonly retryable: boolean;
  readonly host: PostHogHost;
  /** The request's path, without its query string. */
  readonly path: string;
  readonly status: number;
  /** The envelope's `type` (`authentication_error`, `validation_error`, `throttled_error`, …). */
  readonly type: string | undefined;
  /** The envelope's `code` (`authentication_failed`, `invalid_input`, `throttled`, …). */
  readonly code: string | undefined;
  /** The envelope's `detail`, or the plain-text body (at most 300 characters). */
  readonly detail: string;
  /** The field a validation error is about. */
  readonly attr: string | undefined;
  /** How long the server asked to wait (`Retry-After`), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(fields: {
    host: PostHogHost;
    path: string;
    status: number;
    detail: string;
    type?: string | undefined;
    code?: string | undefined;
    attr?: string | undefined;
    retryAfterMs?: number | undefined;
  }) {
    const kind =
      fields.type !== undefined ? ` ${fields.type}${fields.code !== undefined ? `/${fields.code}` : ''}` : '';
    super(
      'PostHogHttp',
      `PostHog ${fields.host} answered ${fields.status}${kind} for ${fields.path}: ${fields.detail}`,
    );
    this.host = fields.host;
    this.path = fields.path;
    this.status = fields.status;
    this.type = fields.type;
    this.code = fields.code;
    this.detail = fields.detail;
    this.attr = fields.attr;
    this.retryAfterMs = fields.retryAfterMs;
    this.retryable = isRetryableStatus(fields.status);
  }
}

/**
 * A request to PostHog failed before an answer came: connection refused or reset, DNS, TLS, or the
 * request was aborted by a timeout. Always retryable; `cause` holds the underlying error.
 *
 * @example
 * ```ts
 * const error = new PostHogNetworkError('ingestion', '/batch/', Object.assign(new Error('connect failed'), { code: 'ECONNREFUSED' }));
 * assert.ok(isPostHogNetworkError(error) && error.retryable);
 * assert.equal(error.message, 'PostHog ingestion request to /batch/ failed: ECONNREFUSED (connect failed)');
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class PostHogNetworkError extends BulwarkError<'PostHogNetwork'> {
  readonly retryable = true;
  readonly host: PostHogHost;
  readonly path: string;

  constructor(host: PostHogHost, path: string, cause: unknown) {
    const reason = describeCause(cause);
    super('PostHogNetwork', `PostHog ${host} request to ${path} failed: ${reason}`, { cause });
    this.host = host;
    this.path = path;
  }
}

/**
 * PostHog answered 2xx with a body the driver's codecs do not accept: the body is not JSON, or lacks
 * what the driver needs (`results` of a page or of a query). `errors` lists each problem as
 * `path: expected type, got value` (values shortened; never the whole body).
 *
 * @example
 * ```ts
 * const error = new PostHogDecodeError('api', '/api/projects/1/cohorts/', ['results: expected array, got undefined']);
 * assert.ok(isPostHogDecodeError(error) && !error.retryable);
 * assert.deepEqual(error.errors, ['results: expected array, got undefined']);
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class PostHogDecodeError extends BulwarkError<'PostHogDecode'> {
  readonly retryable = false;
  readonly host: PostHogHost;
  readonly path: string;
  readonly errors: readonly string[];

  constructor(host: PostHogHost, path: string, errors: readonly string[], cause?: unknown) {
    super('PostHogDecode', `PostHog ${host} sent an unexpected body for ${path}: ${errors.slice(0, 3).join('; ')}`, {
      cause,
    });
    this.host = host;
    this.path = path;
    this.errors = errors;
  }
}

/**
 * The driver was shut down: no more events are taken and no more requests are made.
 *
 * @example
 * ```ts
 * const error = new PostHogClosedError();
 * assert.ok(isPostHogClosedError(error) && error._tag === 'PostHogClosed' && !error.retryable);
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class PostHogClosedError extends BulwarkError<'PostHogClosed'> {
  readonly retryable = false;
  constructor() {
    super('PostHogClosed', 'the PostHog driver was shut down');
  }
}

function describeCause(cause: unknown): string {
  if (typeof cause !== 'object' || cause === null) return String(cause);
  const error = cause as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
  const inner = error.cause as { code?: unknown; message?: unknown } | undefined;
  const code = typeof inner?.code === 'string' ? inner.code : typeof error.code === 'string' ? error.code : undefined;
  const message =
    typeof inner?.message === 'string'
      ? inner.message
      : typeof error.message === 'string'
        ? error.message
        : 'unknown error';
  return code !== undefined ? `${code} (${message})` : message;
}

/**
 * Whether `value` is a {@link PostHogHttpError}.
 *
 * @example
 * ```ts
 * import { startFakePostHog } from '@bulwark/testkit/fake-posthog';
 * const fake = await startFakePostHog();
 * const ph = posthog({ personalApiKey: 'phx_not_a_key_it_knows', apiHost: fake.apiUrl });
 * try {
 *   const error = await ph.listObjects('cohorts').catch((e: unknown) => e);
 *   assert.ok(isPostHogHttpError(error) && error.status === 401 && !error.retryable);
 * } finally {
 *   await fake.close();
 * }
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isPostHogHttpError = tagGuard<PostHogHttpError>('PostHogHttp');
/**
 * Whether `value` is a {@link PostHogNetworkError}.
 *
 * @example
 * ```ts
 * assert.ok(isPostHogNetworkError(new PostHogNetworkError('api', '/api/projects/1/query/', new Error('socket hang up'))));
 * assert.ok(!isPostHogNetworkError(new Error('socket hang up')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isPostHogNetworkError = tagGuard<PostHogNetworkError>('PostHogNetwork');
/**
 * Whether `value` is a {@link PostHogDecodeError}.
 *
 * @example
 * ```ts
 * assert.ok(isPostHogDecodeError(new PostHogDecodeError('api', '/api/projects/1/query/', ['results: expected array'])));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isPostHogDecodeError = tagGuard<PostHogDecodeError>('PostHogDecode');
/**
 * Whether `value` is a {@link PostHogClosedError}.
 *
 * @example
 * ```ts
 * assert.ok(isPostHogClosedError(new PostHogClosedError()));
 * assert.ok(!isPostHogClosedError(new Error('the PostHog driver was shut down')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isPostHogClosedError = tagGuard<PostHogClosedError>('PostHogClosed');
