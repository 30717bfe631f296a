/**
 * The private-API half of the driver: list the eight entity kinds (following `next` links), describe
 * their fields, and run HogQL through the query API. Every request runs under the policy of its
 * throttle bucket (rate limit, retry honouring `Retry-After`, breaker, timeout) and carries the
 * personal key in the `Authorization` header only.
 *
 * @module
 */

import type { Policy, PolicyEvent } from '@bulwark/core';
import type * as t from 'io-ts';
import { parseJson } from '@bulwark/validate';

import { HogQLResponse, Page, PropertyDefinition, decode, entityCodecs, type EntityOf } from './codecs.js';
import { PostHogDecodeError, isPostHogHttpError } from './errors.js';
import type { BucketPauses } from './internal/bucket-pause.js';
import { exchange, pathOf, type Fetch } from './internal/http.js';
import { bucketOf, columnsOf, type ApiBucket, type EntityKind, type Field } from './kinds.js';

/**
 * Options of one listing.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListOptions {
  /** Rows per page (`limit`). @default the driver's `pageSize` (100) */
  readonly pageSize?: number;
  /** Stop after this many rows. @default no limit */
  readonly maxItems?: number;
  /** Extra query parameters for the first page, e.g. `{ after: '2026-01-01' }` for events. */
  readonly params?: Readonly<Record<string, string | number | boolean>>;
  /** Aborts the listing. */
  readonly signal?: AbortSignal;
}

/**
 * Options of one HogQL query.
 *
 * @category models
 * @since 0.1.0
 */
export interface QueryOptions {
  /** Values for `{placeholders}` in the query. */
  readonly values?: Readonly<Record<string, unknown>>;
  /** The query's name in PostHog's query log. */
  readonly name?: string;
  /** PostHog's cache mode. @default 'blocking' */
  readonly refresh?: 'blocking' | 'force_blocking' | 'force_cache';
  /** Aborts the query. */
  readonly signal?: AbortSignal;
}

/**
 * A column's name and ClickHouse type in a query's answer.
 *
 * @category models
 * @since 0.1.0
 */
export interface ColumnType {
  readonly name: string;
  readonly type: string;
}

/**
 * The answer to a HogQL query.
 *
 * @category models
 * @since 0.1.0
 */
export interface QueryResult {
  /** One array per row, in `columns` order. */
  readonly results: readonly (readonly unknown[])[];
  readonly columns: readonly string[];
  /** Each column's ClickHouse type, where PostHog sent them. */
  readonly types: readonly ColumnType[];
  /** Whether a row limit (100 without `LIMIT`, at most 50,000) cut rows off. */
  readonly hasMore: boolean;
}

/** What the API half needs from the driver. */
export interface ApiSettings {
  readonly host: string;
  readonly projectId: string;
  readonly pageSize: number;
  readonly fetch: Fetch;
  readonly userAgent: string;
  readonly policyFor: (bucket: ApiBucket) => Policy<PolicyEvent>;
  readonly authorization: () => string;
  /** Removes the keys from texts a server sent (error details, values shown in decode errors). */
  readonly redact: (text: string) => string;
  readonly maxResponseBytes: number;
  /** Where a 429's `Retry-After` pauses its bucket (the bucket's policy waits it out before each attempt). */
  readonly pauses: BucketPauses;
}

/** The private API client. */
export class ApiClient {
  private readonly origin: string;
  private readonly base: string;

  constructor(private readonly settings: ApiSettings) {
    this.origin = new URL(settings.host).origin;
    this.base = `${this.origin}/api/projects/${encodeURIComponent(settings.projectId).replace(/^%40/, '@')}`;
  }

  /** One request under its bucket's policy: parsed JSON decoded by `codec`. */
  async request<A>(
    bucket: ApiBucket,
    method: 'GET' | 'POST',
    url: string,
    codec: t.Decoder<unknown, A>,
    body: unknown,
    signal: AbortSignal | undefined,
  ): Promise<A> {
    const { settings } = this;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const text = await settings.policyFor(bucket).execute(
      (ctx) =>
        this.exchange(bucket, url, {
          method,
          headers: {
            authorization: settings.authorization(),
            accept: 'application/json',
            'user-agent': settings.userAgent,
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(payload === undefined ? {} : { body: payload }),
          signal: ctx.signal,
        }),
      signal,
    );
    const parsed = parseJson(text);
    if (parsed._tag === 'Left')
      throw new PostHogDecodeError('api', pathOf(url), ['(root): expected JSON'], parsed.left);
    const decoded = decode(codec, parsed.right);
    if (!decoded.ok) throw this.decodeError(url, decoded.errors);
    return decoded.value;
  }

  /** A decode error for `url`: the values it shows came from the server, so they are redacted. */
  private decodeError(url: string, errors: readonly string[]): PostHogDecodeError {
    return new PostHogDecodeError('api', pathOf(url), errors.map(this.settings.redact));
  }

  /** Requests on the wire now. */
  active = 0;

  private async exchange(bucket: ApiBucket, url: string, init: RequestInit): Promise<string> {
    this.active++;
    try {
      return await exchange(
        this.settings.fetch,
        'api',
        url,
        init,
        Date.now,
        this.settings.maxResponseBytes,
        this.settings.redact,
      );
    } catch (error) {
      // A 429 throttles the whole bucket, not one call: every attempt of every call waits it out.
      if (isPostHogHttpError(error) && error.status === 429 && error.retryAfterMs !== undefined) {
        this.settings.pauses.pause(bucket, error.retryAfterMs);
      }
      throw error;
    } finally {
      this.active--;
    }
  }

  /** The URL of a resource's list with `params`. */
  listUrl(resource: string, params: Readonly<Record<string, string | number | boolean>>): string {
    const url = new URL(`${this.base}/${resource}/`);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, String(value));
    return url.toString();
  }

  /**
   * A `next` link to follow. PostHog sends absolute URLs and they are followed as sent, but only on the
   * API host: a link to another origin (a proxy's internal name, `http` behind TLS) is moved onto the
   * configured origin, so the personal key never goes anywhere else.
   */
  private follow(next: string): string {
    const url = new URL(next, this.origin);
    return url.origin === this.origin ? url.toString() : `${this.origin}${url.pathname}${url.search}`;
  }

  /** Rows of `resource`, page by page, decoded by `codec`. */
  async *rows<A>(resource: string, codec: t.Decoder<unknown, A>, options: ListOptions): AsyncGenerator<A> {
    const pageSize = options.pageSize ?? this.settings.pageSize;
    const bucket = bucketOf(resource);
    const max = options.maxItems ?? Number.POSITIVE_INFINITY;
    let url: string | undefined = this.listUrl(resource, { limit: pageSize, ...options.params });
    let offset = Number(options.params?.['offset'] ?? 0);
    const seen = new Set<string>();
    let count = 0;
    while (url !== undefined && count < max) {
      if (seen.has(url))
        throw new PostHogDecodeError('api', pathOf(url), ['next: the link points at a page already read']);
      seen.add(url);
      const page: Page = await this.request(bucket, 'GET', url, Page, undefined, options.signal);
      for (let i = 0; i < page.results.length && count < max; i++) {
        const row = decode(codec, page.results[i]);
        if (!row.ok) {
          throw this.decodeError(
            url,
            row.errors.map((error) => `results[${i}].${error}`),
          );
        }
        count++;
        yield row.value;
      }
      offset += page.results.length;
      if (typeof page.next === 'string' && page.next !== '') url = this.follow(page.next);
      else if (page.has_next === true && page.results.length > 0) {
        // Endpoints that answer `has_next` without a link (session recordings) page by offset.
        url = this.listUrl(resource, { ...options.params, limit: pageSize, offset });
      } else url = undefined;
    }
  }

  /** Every row of `kind`. */
  list<K extends EntityKind>(kind: K, options: ListOptions): AsyncGenerator<EntityOf[K]> {
    return this.rows(kind, entityCodecs[kind] as unknown as t.Decoder<unknown, EntityOf[K]>, options);
  }

  /** The fields of `kind`: its columns, and for events and persons the properties PostHog has seen. */
  async fields(kind: EntityKind, signal: AbortSignal | undefined): Promise<Field[]> {
    const fields = columnsOf(kind);
    if (kind !== 'events' && kind !== 'persons') return fields;
    const type = kind === 'events' ? 'event' : 'person';
    const options: ListOptions = signal === undefined ? { params: { type } } : { params: { type }, signal };
    for await (const definition of this.rows('property_definitions', PropertyDefinition, options)) {
      fields.push({
        name: `properties.${definition.name}`,
        type: definition.property_type ?? 'String',
        source: 'property',
      });
    }
    return fields;
  }

  /** Runs a HogQL query. */
  async query(hogql: string, options: QueryOptions): Promise<QueryResult> {
    const url = `${this.base}/query/`;
    const body = {
      query:
        options.values === undefined
          ? { kind: 'HogQLQuery', query: hogql }
          : { kind: 'HogQLQuery', query: hogql, values: options.values },
      refresh: options.refresh ?? 'blocking',
      ...(options.name === undefined ? {} : { name: options.name }),
    };
    const answer = await this.request('query', 'POST', url, HogQLResponse, body, options.signal);
    const rows: unknown[][] = [];
    const problems: string[] = [];
    answer.results.forEach((row, i) => {
      if (Array.isArray(row)) rows.push(row as unknown[]);
      else problems.push(`results[${i}]: expected an array, got ${row === null ? 'null' : typeof row}`);
    });
    if (problems.length > 0) throw this.decodeError(url, problems);
    const types: ColumnType[] = [];
    for (const entry of answer.types ?? []) {
      if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'string')
        types.push({ name: entry[0], type: entry[1] });
    }
    const columns = (answer.columns ?? []).map((column) =>
      typeof column === 'string' ? column : JSON.stringify(column),
    );
    if (types.length === 0 && Array.isArray(answer.types) && answer.types.every((type) => typeof type === 'string')) {
      // Older answers list bare types in column order.
      answer.types.forEach((type, i) => types.push({ name: columns[i] ?? `column${i}`, type: type }));
    }
    return { results: rows, columns, types, hasMore: answer.hasMore === true };
  }
}
