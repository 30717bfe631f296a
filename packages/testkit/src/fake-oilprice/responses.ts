/**
 * How the fake writes its answers: success envelopes and the four error-body shapes the real API uses
 * (reference §4 and §5.2).
 *
 * @module
 */

import { type ErrorBodyStyle } from './faults.js';

/** An error answer before it is written in one of the four shapes. */
export interface ApiError {
  readonly status: number;
  /** Machine code, e.g. `'INVALID_API_KEY'`. */
  readonly code: string;
  readonly message: string;
  /** Whether retrying may help, as the canonical body's `retry.retryable` says. */
  readonly retryable: boolean;
  /** The style the real API uses for this error. */
  readonly style: ErrorBodyStyle;
  /** Seconds to wait, also sent as `Retry-After`. */
  readonly retryAfterS?: number;
  /** Extra fields of the canonical `error` object (`current_plan`, `field`, `commodity_code`…). */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** The canonical body's `details` block. */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly suggestions?: readonly string[];
  readonly invalidCodes?: readonly string[];
  /** Extra response headers (`X-RateLimit-State`…). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The canonical top-level `status`: `'error'` unless set. */
  readonly envelopeStatus?: 'error' | 'fail';
}

const kebab = (code: string): string => code.toLowerCase().replace(/_/g, '-');

/** Writes `error` as a JSON body in `style`. */
export function errorBody(error: ApiError, style: ErrorBodyStyle, requestId: string, nowMs: number): string {
  switch (style) {
    case 'canonical':
      return JSON.stringify({
        status: error.envelopeStatus ?? 'error',
        error: {
          code: error.code,
          message: error.message,
          request_id: requestId,
          docs_url: `https://docs.oilpriceapi.com/errors/${kebab(error.code)}`,
          ...error.fields,
          ...(error.suggestions !== undefined ? { suggestions: error.suggestions } : {}),
          retry: {
            retryable: error.retryable,
            ...(error.retryAfterS !== undefined ? { retry_after: error.retryAfterS } : {}),
          },
        },
        ...(error.details !== undefined ? { details: error.details } : {}),
        meta: { request_id: requestId, timestamp: new Date(nowMs).toISOString() },
      });
    case 'fail-data':
      return JSON.stringify({
        status: 'fail',
        data: {
          error: error.code.toLowerCase(),
          message: error.message,
          ...(error.suggestions !== undefined ? { suggestions: error.suggestions } : {}),
          ...(error.invalidCodes !== undefined ? { invalid_codes: error.invalidCodes } : {}),
        },
      });
    case 'legacy':
      return JSON.stringify({
        error: error.message,
        error_code: error.code.toLowerCase(),
        request_id: requestId,
        ...(error.retryAfterS !== undefined ? { retry_after: error.retryAfterS } : {}),
      });
    case 'minimal':
      return JSON.stringify({ error: { message: error.message } });
  }
}

/** The page a load balancer sends for a 502: HTML, not JSON. */
export const BAD_GATEWAY_HTML =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

const STATUS_CODES: Readonly<Record<number, string>> = {
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

/** The error a 5xx fault answers with. */
export function serverError(status: 500 | 503 | 504, style: ErrorBodyStyle, retryAfterS?: number): ApiError {
  return {
    status,
    code: STATUS_CODES[status] ?? 'SERVER_ERROR',
    message:
      status === 503
        ? 'The service is temporarily unavailable. Please retry shortly.'
        : status === 504
          ? 'The upstream data provider did not answer in time.'
          : 'An unexpected error occurred.',
    retryable: true,
    style,
    ...(retryAfterS !== undefined ? { retryAfterS } : {}),
  };
}
