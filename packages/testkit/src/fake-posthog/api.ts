/**
 * The fake private API host: `/api/projects/:id/…` as PostHog's Django app answers it.
 *
 * Personal API keys authenticate (Bearer header, `personal_api_key` in the query string or body);
 * errors are `drf-exceptions-hog` envelopes `{type, code, detail, attr}`; every authenticated request
 * passes the throttle of its bucket and a refused one gets `429 throttled_error` with `Retry-After`.
 * Lists paginate as the real endpoints do: limit/offset with `count` and absolute `next`/`previous`
 * URLs (insights, cohorts, feature flags, annotations, experiments, definitions), a cursor without
 * `count` (persons), a `before=` timestamp cursor without `count` (events), and `has_next` (session
 * recordings). `POST /query/` runs HogQL over what the ingestion host received.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';

import type { FaultPlan } from './faults.js';
import { HogQLError, runHogQL, type HogQLTable } from './hogql.js';
import { gunzipBounded, readBody, resetConnection, sendJson, sendSlowly, type Hold } from './http.js';
import type { FakeData, SeededKind } from './store.js';
import type { Throttle, ThrottleBucket } from './throttle.js';

/** The private API host's settings. */
export interface ApiSettings {
  readonly projectId: number;
  readonly personalApiKeys: ReadonlySet<string>;
  readonly pageSize: number;
  readonly throttleScope: 'key' | 'project';
  readonly bucketOf: (resource: string) => ThrottleBucket;
  readonly now: () => number;
  /** The origin written into `next`/`previous` links. */
  readonly origin: () => string;
}

/** A DRF error envelope with its status. */
interface Envelope {
  readonly status: number;
  readonly type: string;
  readonly code: string;
  readonly detail: string;
  readonly attr: string | null;
  readonly headers?: Record<string, string>;
}

const envelope = (
  status: number,
  type: string,
  code: string,
  detail: string,
  attr: string | null = null,
  headers?: Record<string, string>,
): Envelope =>
  headers === undefined ? { status, type, code, detail, attr } : { status, type, code, detail, attr, headers };

/** The envelope a status gets when a fault injects it. */
function faultEnvelope(status: number): Envelope {
  switch (status) {
    case 400:
      return envelope(400, 'validation_error', 'invalid_input', 'Injected fault.');
    case 401:
      return envelope(401, 'authentication_error', 'authentication_failed', 'Injected fault.');
    case 403:
      return envelope(
        403,
        'authentication_error',
        'permission_denied',
        'You do not have permission to perform this action.',
      );
    case 404:
      return envelope(404, 'invalid_request', 'not_found', 'Not found.');
    case 429:
      return envelope(429, 'throttled_error', 'throttled', 'Request was throttled.');
    case 503:
      return envelope(
        503,
        'server_error',
        'ClickHouseAtCapacity',
        'Queries are a little too busy right now. Please try again later.',
      );
    case 504:
      return envelope(504, 'server_error', 'timeout', 'The query took too long to run.');
    default:
      return envelope(status, 'server_error', 'error', 'A server error occurred.');
  }
}

const send = (res: ServerResponse, error: Envelope): void =>
  sendJson(
    res,
    error.status,
    { type: error.type, code: error.code, detail: error.detail, attr: error.attr },
    error.headers,
  );

class ApiError extends Error {
  constructor(readonly envelope: Envelope) {
    super(envelope.detail);
  }
}

const SEEDED: ReadonlySet<string> = new Set([
  'insights',
  'cohorts',
  'feature_flags',
  'annotations',
  'experiments',
  'session_recordings',
]);

/** Which key a request carries, and where (for the error's wording). */
function findKey(
  req: IncomingMessage,
  url: URL,
  body: Record<string, unknown> | undefined,
): { key: string; source: string } | undefined {
  const header = req.headers['authorization'];
  if (typeof header === 'string' && /^bearer\s+/i.test(header))
    return { key: header.replace(/^bearer\s+/i, '').trim(), source: 'Authorization header' };
  const inBody = body?.['personal_api_key'];
  if (typeof inBody === 'string') return { key: inBody, source: 'body' };
  const inQuery = url.searchParams.get('personal_api_key');
  if (inQuery !== null) return { key: inQuery, source: 'query string' };
  return undefined;
}

const intParam = (url: URL, name: string, fallback: number): number => {
  const raw = url.searchParams.get(name);
  if (raw === null || !/^\d+$/.test(raw)) return fallback;
  return Number(raw);
};

/** Makes the private API host's request handler. */
export function apiHandler(
  settings: ApiSettings,
  faults: FaultPlan,
  throttle: Throttle | undefined,
  data: FakeData,
  counters: { throttled: number },
  hold: Hold,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const link = (path: string, params: Record<string, string | number>): string => {
    const url = new URL(path, settings.origin());
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, String(value));
    return url.toString();
  };

  const limitOffset = (
    url: URL,
    path: string,
    rows: readonly unknown[],
    extra: Record<string, string> = {},
  ): unknown => {
    const limit = Math.max(1, intParam(url, 'limit', settings.pageSize));
    const offset = intParam(url, 'offset', 0);
    const results = rows.slice(offset, offset + limit);
    return {
      count: rows.length,
      next: offset + limit < rows.length ? link(path, { ...extra, limit, offset: offset + limit }) : null,
      previous: offset > 0 ? link(path, { ...extra, limit, offset: Math.max(0, offset - limit) }) : null,
      results,
    };
  };

  const tables: Record<string, HogQLTable> = {
    events: {
      get rows() {
        return data.received.list();
      },
      typeOf: (column) => {
        if (column.startsWith('properties.')) return 'Nullable(String)';
        return (
          {
            uuid: 'UUID',
            event: 'String',
            distinct_id: 'String',
            timestamp: "DateTime64(6, 'UTC')",
            properties: 'String',
            person_id: 'UUID',
          } as Record<string, string>
        )[column];
      },
      read: (row, column) => {
        const event = row as ReturnType<FakeData['received']['list']>[number];
        if (column.startsWith('properties.')) {
          const value = event.properties[column.slice('properties.'.length)];
          return value === undefined || value === null
            ? null
            : typeof value === 'string'
              ? value
              : JSON.stringify(value);
        }
        switch (column) {
          case 'uuid':
            return event.uuid ?? null;
          case 'event':
            return event.event;
          case 'distinct_id':
            return event.distinctId;
          case 'timestamp':
            return event.timestamp;
          case 'properties':
            return JSON.stringify(event.properties);
          default:
            return null;
        }
      },
    },
    persons: {
      get rows() {
        return data.persons();
      },
      typeOf: (column) => {
        if (column.startsWith('properties.')) return 'Nullable(String)';
        return (
          { id: 'UUID', created_at: "DateTime64(6, 'UTC')", is_identified: 'Bool', properties: 'String' } as Record<
            string,
            string
          >
        )[column];
      },
      read: (row, column) => {
        const person = row as Record<string, unknown>;
        const properties = (person['properties'] ?? {}) as Record<string, unknown>;
        if (column.startsWith('properties.')) {
          const value = Object.hasOwn(properties, column.slice(11)) ? properties[column.slice(11)] : undefined;
          return value === undefined || value === null
            ? null
            : typeof value === 'string'
              ? value
              : JSON.stringify(value);
        }
        if (column === 'id') return person['uuid'];
        if (column === 'properties') return JSON.stringify(properties);
        return person[column] ?? null;
      },
    },
  };

  const route = (
    req: IncomingMessage,
    url: URL,
    body: Record<string, unknown> | undefined,
  ): { status: number; body: unknown } => {
    const match = /^\/api\/(?:projects|environments)\/([^/]+)\/([a-z_]+)\/(?:([^/]+)\/)?$/.exec(url.pathname);
    if (match === null) throw new ApiError(envelope(404, 'invalid_request', 'not_found', 'Not found.'));
    const [, project, resource, id] = match as unknown as [string, string, string, string | undefined];

    const found = findKey(req, url, body);
    if (found === undefined)
      throw new ApiError(
        envelope(401, 'authentication_error', 'not_authenticated', 'Authentication credentials were not provided.'),
      );
    if (!settings.personalApiKeys.has(found.key)) {
      throw new ApiError(
        envelope(
          401,
          'authentication_error',
          'authentication_failed',
          `Personal API key found in request ${found.source} is invalid.`,
        ),
      );
    }
    if (project !== '@current' && project !== String(settings.projectId)) {
      throw new ApiError(
        envelope(
          403,
          'authentication_error',
          'permission_denied',
          'You do not have permission to access this project.',
        ),
      );
    }

    if (throttle !== undefined) {
      const identity = settings.throttleScope === 'key' ? `key:${found.key}` : `project:${settings.projectId}`;
      const decision = throttle.check(settings.bucketOf(resource), identity, settings.now());
      if (!decision.allowed) {
        counters.throttled += 1;
        const seconds = decision.retryAfterS;
        throw new ApiError(
          envelope(
            429,
            'throttled_error',
            'throttled',
            `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`,
            null,
            {
              'retry-after': String(seconds),
            },
          ),
        );
      }
    }

    const path = `/api/projects/${project}/${resource}/`;
    if (resource === 'query') {
      if (id !== undefined) throw new ApiError(envelope(404, 'invalid_request', 'not_found', 'Not found.'));
      if (req.method !== 'POST')
        throw new ApiError(
          envelope(405, 'invalid_request', 'method_not_allowed', `Method "${req.method}" not allowed.`),
        );
      const query = body?.['query'];
      if (typeof query !== 'object' || query === null)
        throw new ApiError(envelope(400, 'validation_error', 'required', 'This field is required.', 'query'));
      const { kind, query: hogql } = query as Record<string, unknown>;
      if (kind !== 'HogQLQuery')
        throw new ApiError(
          envelope(400, 'validation_error', 'invalid_input', `Unsupported query kind: ${String(kind)}`, 'query'),
        );
      if (typeof hogql !== 'string')
        throw new ApiError(envelope(400, 'validation_error', 'required', 'This field is required.', 'query'));
      try {
        const result = runHogQL(hogql, tables);
        const now = new Date(settings.now()).toISOString();
        return {
          status: 200,
          body: {
            ...result,
            hogql,
            clickhouse: hogql,
            timings: [{ k: './hogql_parse', t: 0.001 }],
            modifiers: {},
            is_cached: false,
            last_refresh: now,
            query_status: null,
          },
        };
      } catch (error) {
        if (error instanceof HogQLError)
          throw new ApiError(envelope(400, 'validation_error', 'invalid_input', error.message));
        throw error;
      }
    }

    if (req.method !== 'GET')
      throw new ApiError(envelope(405, 'invalid_request', 'method_not_allowed', `Method "${req.method}" not allowed.`));
    if (id !== undefined) {
      const rows = SEEDED.has(resource)
        ? data.entities(resource as SeededKind)
        : resource === 'persons'
          ? data.persons()
          : [];
      const row = rows.find((r) => String((r as Record<string, unknown>)['id']) === id);
      if (row === undefined) throw new ApiError(envelope(404, 'invalid_request', 'not_found', 'Not found.'));
      return { status: 200, body: row };
    }
    if (resource === 'session_recordings') {
      const rows = data.entities('session_recordings');
      const limit = Math.max(1, intParam(url, 'limit', settings.pageSize));
      const offset = intParam(url, 'offset', 0);
      return {
        status: 200,
        body: { results: rows.slice(offset, offset + limit), has_next: offset + limit < rows.length, version: 3 },
      };
    }
    if (SEEDED.has(resource))
      return { status: 200, body: limitOffset(url, path, data.entities(resource as SeededKind)) };
    if (resource === 'persons') {
      const rows = data.persons();
      const limit = Math.max(1, intParam(url, 'limit', settings.pageSize));
      const cursor = url.searchParams.get('cursor');
      const offset =
        cursor === null ? 0 : Number(Buffer.from(cursor, 'base64').toString('utf8').replace(/^o=/, '')) || 0;
      const more = offset + limit < rows.length;
      return {
        status: 200,
        body: {
          next: more ? link(path, { limit, cursor: Buffer.from(`o=${offset + limit}`).toString('base64') }) : null,
          previous: null,
          results: rows.slice(offset, offset + limit),
        },
      };
    }
    if (resource === 'events') {
      const limit = Math.max(1, intParam(url, 'limit', settings.pageSize));
      const before = url.searchParams.get('before');
      const events = data.received.list();
      const rows: unknown[] = [];
      // Newest first, strictly before the cursor's timestamp.
      for (let i = events.length - 1; i >= 0 && rows.length <= limit; i--) {
        const event = events[i] as (typeof events)[number];
        if (before !== null && !(event.timestamp < before)) continue;
        rows.push({
          id: event.uuid ?? null,
          distinct_id: event.distinctId,
          properties: event.properties,
          event: event.event,
          timestamp: event.timestamp,
          person: null,
          elements: [],
          elements_chain: '',
        });
      }
      const more = rows.length > limit;
      const page = rows.slice(0, limit);
      const last = page[page.length - 1] as { timestamp: string } | undefined;
      return {
        status: 200,
        body: {
          next: more && last !== undefined ? link(path, { limit, before: last.timestamp }) : null,
          results: page,
        },
      };
    }
    if (resource === 'property_definitions') {
      const type = url.searchParams.get('type') === 'person' ? 'person' : 'event';
      return { status: 200, body: limitOffset(url, path, data.propertyDefinitions(type), { type }) };
    }
    if (resource === 'event_definitions') return { status: 200, body: limitOffset(url, path, data.eventDefinitions()) };
    throw new ApiError(envelope(404, 'invalid_request', 'not_found', 'Not found.'));
  };

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const fault = faults.draw('api', url.pathname);
    if (fault?.kind === 'reset') return resetConnection(req);
    if (fault?.kind === 'status') {
      const error = faultEnvelope(fault.status);
      const headers = fault.retryAfterS !== undefined ? { 'retry-after': String(fault.retryAfterS) } : undefined;
      if (fault.body !== undefined) {
        res.writeHead(fault.status, { 'content-type': 'text/html', ...headers });
        res.end(fault.body);
        return;
      }
      return send(res, headers === undefined ? error : { ...error, headers });
    }
    if (fault?.kind === 'delay' && fault.ms > 0) await hold(fault.ms, res);
    try {
      let body: Record<string, unknown> | undefined;
      if (req.method === 'POST' || req.method === 'PATCH') {
        const raw = await readBody(req, 20 * 1024 * 1024);
        if (raw === undefined)
          throw new ApiError(envelope(413, 'invalid_request', 'request_too_large', 'Request body too large.'));
        const plain = (req.headers['content-encoding'] ?? '').includes('gzip')
          ? await gunzipBounded(raw, 20 * 1024 * 1024)
          : raw;
        try {
          const parsed: unknown = plain.length === 0 ? {} : JSON.parse(plain.toString('utf8'));
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
          body = parsed as Record<string, unknown>;
        } catch (error) {
          throw new ApiError(
            envelope(400, 'invalid_request', 'parse_error', `JSON parse error - ${(error as Error).message}`),
          );
        }
      }
      const answer = route(req, url, body);
      if (fault?.kind === 'reset-after-receive') return resetConnection(req);
      if (fault?.kind === 'slow-body') return await sendSlowly(res, answer.status, answer.body, fault, hold);
      sendJson(res, answer.status, answer.body);
    } catch (error) {
      if (fault?.kind === 'reset-after-receive') return resetConnection(req);
      if (error instanceof ApiError) return send(res, error.envelope);
      send(res, envelope(500, 'server_error', 'error', 'A server error occurred.'));
    }
  };
}
