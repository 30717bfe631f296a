/**
 * The PostHog driver: capture with a bounded queue on the public ingestion host (project key), and
 * reads of the private API (personal key) that stay inside PostHog's published rate limits.
 *
 * @module
 */

import {
  Emitter,
  isBulwarkError,
  noop,
  pipeline,
  systemClock,
  type Clock,
  type Disposer,
  type Health,
  type HealthSource,
  type Listener,
  type Policy,
  type PolicyEvent,
  type Random,
} from '@bulwark/core';
import { describeValue } from '@bulwark/core/options';
import { optionChecker } from '@bulwark/core/options';
import { breaker, consecutiveFailures, type Breaker } from '@bulwark/breaker';
import { isRateLimitedError, type RateLimitStoreFactory } from '@bulwark/ratelimit';
import { isBulkheadRejectedError } from '@bulwark/bulkhead';
import { hideSecrets, instrument, type TelemetrySink } from '@bulwark/telemetry';
import { timeout } from '@bulwark/timeout';

import { ApiClient, type ListOptions, type QueryOptions, type QueryResult } from './api.js';
import type { EntityOf } from './codecs.js';
import {
  CaptureQueue,
  type CaptureEvent,
  type CaptureInput,
  type FlushResult,
  type ShutdownResult,
} from './capture.js';
import { isPostHogHttpError, isPostHogNetworkError } from './errors.js';
import { defaultRetry } from './retrying.js';
import { BucketPauses } from './internal/bucket-pause.js';
import type { Fetch } from './internal/http.js';
import { ENTITY_KINDS, type ApiBucket, type EntityKind, type Field } from './kinds.js';
import { POSTHOG_API_LIMITS, apiLimits, type PostHogRate } from './limits.js';

const VERSION = '0.1.0';
const check = optionChecker('@bulwark/posthog');

/**
 * Options of {@link posthog}.
 *
 * @category models
 * @since 0.1.0
 */
export interface PostHogOptions {
  /** The project API key (`phc_…`) for capture. Required to capture; never logged. */
  readonly projectApiKey?: string;
  /** A personal API key (`phx_…`) for the private API. Required to list, describe and query; never logged. */
  readonly personalApiKey?: string;
  /** The ingestion host. @default 'https://us.i.posthog.com' */
  readonly host?: string;
  /** The private API host. @default 'https://us.posthog.com' */
  readonly apiHost?: string;
  /** The project whose data the private API reads. @default '@current' (the key's current project) */
  readonly projectId?: number | string;
  /** The driver's name in events and health reports. @default 'posthog' */
  readonly name?: string;
  /** The clock for flush intervals, shutdown deadlines and timestamps. @default systemClock */
  readonly clock?: Clock;
  /** The `fetch` to send requests with (e.g. undici's, with a dispatcher of your own). @default globalThis.fetch */
  readonly fetch?: Fetch;
  /** Queue length that starts a flush. @default 20 */
  readonly flushAt?: number;
  /** Longest time an event waits in the queue before a flush, in milliseconds; also the least wait after a failed flush. @default 5000 */
  readonly flushIntervalMs?: number;
  /** Events per request. @default 100 */
  readonly maxBatchSize?: number;
  /** Bytes of event JSON per request (before gzip); PostHog takes up to 20 MB. @default 10485760 (10 MiB) */
  readonly maxBatchBytes?: number;
  /** Events held at most (queued and in flight). @default 10000 */
  readonly maxQueueSize?: number;
  /** Which event gives way when the queue is full, reported in a `dropped` event either way. @default 'drop-oldest' */
  readonly overflow?: 'drop-oldest' | 'drop-newest';
  /** Gzip request bodies. @default true */
  readonly compression?: boolean;
  /** Send to PostHog's historical pipeline (imports). @default false */
  readonly historicalMigration?: boolean;
  /** Add `$geoip_disable: true` to every event (server-side events would otherwise be located at the server). @default true */
  readonly disableGeoip?: boolean;
  /**
   * How long one request (one attempt) may take, in milliseconds, before it is aborted with a
   * `TimeoutError` (retryable); `Infinity` for no limit. Innermost: time waiting for a rate-limit slot
   * or a query slot does not count.
   * @default 10000 (posthog-node's request timeout)
   */
  readonly requestTimeoutMs?: number;
  /** Where the default retry's jitter comes from. @default systemRandom */
  readonly random?: Random;
  /** Rows per page when listing. @default 100 */
  readonly pageSize?: number;
  /**
   * The largest answer body read, in bytes: a longer one is cut off there and fails as a
   * `PostHogDecodeError`, so a misbehaving server or proxy cannot exhaust the process's memory. (The
   * body of a capture batch's 2xx is never read: its status is the delivery.)
   * @default 16777216 (16 MiB)
   */
  readonly maxResponseBytes?: number;
  /**
   * The policy around each ingestion request, outside the host's breaker.
   * @default noop: the capture queue is the retry (a batch that failed stays queued and goes again on the
   * next flush, no sooner than its Retry-After), so a flush never waits out backoffs
   */
  readonly ingestionPolicy?: Policy<PolicyEvent>;
  /**
   * The policy around each private-API request, or one per throttle bucket, outside the breaker and
   * the rate limiter (so every attempt takes a rate-limit slot).
   * @default a retry: 3 attempts, 1 s then 2 s (+ 0–30 % jitter), on no answer, a timeout, 408, 429 and 5xx, honouring Retry-After up to 60 s (each attempt also waits out the rest of its bucket's Retry-After pause)
   */
  readonly apiPolicy?: Policy<PolicyEvent> | ((bucket: ApiBucket) => Policy<PolicyEvent>);
  /**
   * Client-side rate limits of the private API per throttle bucket, as `{ limit, windowMs }` rates that
   * all apply; requests queue for their slot. `false` turns client-side limiting off.
   * @default POSTHOG_API_LIMITS (240/min and 1,200/hour analytics; 240/min and 2,400/hour query; 480/min and 4,800/hour crud)
   */
  readonly rateLimits?: false | Partial<Readonly<Record<ApiBucket, readonly PostHogRate[]>>>;
  /**
   * Where the rate limiters keep their state: `redisStore({ client, onUnavailable })` from
   * `@bulwark/ratelimit` shares the limits with every process using the same Redis, host and project.
   * @default memoryStore() (this process only)
   */
  readonly rateLimitStore?: RateLimitStoreFactory;
  /** Added to every rate window, in milliseconds, for the time a request takes to reach PostHog. @default 1000 */
  readonly rateLimitMarginMs?: number;
  /** Longest a request waits for its rate-limit slot before failing with a `RateLimitedError`, in milliseconds. @default 3600000 (an hour: the longest window) */
  readonly maxRateLimitWaitMs?: number;
  /** HogQL queries in flight at once (PostHog runs 3 per project and queues the rest); more wait in order. @default 3 */
  readonly queryConcurrency?: number;
  /**
   * A circuit breaker per host (ingestion, private API): after `failures` consecutive failures of the
   * host itself (no answer, a timeout, a 5xx; never a 4xx or a 429) requests fail fast for
   * `halfOpenAfterMs`, then one probe decides. `false` turns them off.
   * @default { failures: 5, halfOpenAfterMs: 30000 }
   */
  readonly breaker?: false | { readonly failures?: number; readonly halfOpenAfterMs?: number };
  /**
   * Telemetry sinks (`metrics()`, `jsonLogs()`, `openTelemetry()`, `prometheus()` from `@bulwark/telemetry`):
   * the ingestion policy is instrumented as `<name>.ingestion`, each bucket's API policy as
   * `<name>.api.<bucket>`, and the driver's own events (`dropped`, `flushed`, …) reach every sink under `<name>`.
   * @default none
   */
  readonly telemetry?: readonly TelemetrySink[];
}

/**
 * Options of `listObjects` and `iterateObjects`.
 *
 * @category models
 * @since 0.1.0
 */
export type { ListOptions, QueryOptions, QueryResult };

/**
 * A PostHog driver.
 *
 * @category models
 * @since 0.1.0
 */
export interface PostHog extends HealthSource {
  /** Queues an event; returns its UUID (stable across retries). */
  capture(input: CaptureInput): string;
  /** Queues an `$identify` event setting person properties (`$set`); returns its UUID. */
  identify(
    distinctId: string,
    properties?: Readonly<Record<string, unknown>>,
    setOnce?: Readonly<Record<string, unknown>>,
  ): string;
  /** Queues every event and flushes (see `flush`); resolves when the flush ends (never rejects). */
  batch(inputs: readonly CaptureInput[]): Promise<FlushResult>;
  /**
   * Sends what is queued now; resolves when the queue is empty or a batch failed for now (never rejects).
   * Before the wait a failed batch asked for (`Retry-After`) has passed, waits it out first; a
   * `shutdown()` deadline ends that wait, and it resolves with `retryInMs`, the time that was left.
   */
  flush(): Promise<FlushResult>;
  /**
   * Stops taking events and delivers what is queued within `timeoutMs` (on the driver's clock); what is
   * left is reported `dropped` with reason `shutdown`. Call it before the process exits.
   */
  shutdown(timeoutMs?: number): Promise<ShutdownResult>;
  /** Every row of `kind`, following `next` links. */
  listObjects<K extends EntityKind>(kind: K, options?: ListOptions): Promise<EntityOf[K][]>;
  /** The rows of `kind` one at a time, fetching pages as they are needed. */
  iterateObjects<K extends EntityKind>(kind: K, options?: ListOptions): AsyncIterable<EntityOf[K]>;
  /** The fields of `kind`: its columns, and the properties PostHog has seen for events and persons. */
  getFields(kind: EntityKind, options?: { readonly signal?: AbortSignal }): Promise<Field[]>;
  /** Runs a HogQL query through the query API. */
  query(hogql: string, options?: QueryOptions): Promise<QueryResult>;
  /** Subscribes to the driver's events (`dropped`, `flushed`, `flush-failed`, `batch-split`). */
  onEvent(listener: Listener<CaptureEvent>): Disposer;
  /** Queue figures. */
  readonly stats: CaptureQueue['stats'];
  /** The breakers (one per host), the rate limiters (one per bucket) and the query bulkhead, for a health report. */
  readonly components: readonly HealthSource[];
}

const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

function checkKey(name: string, value: unknown, wrongPrefix: string, wrongKind: string): string | undefined {
  if (value === undefined) return undefined;
  // Trimmed first: a key read from an env file often ends with a line break.
  const key = check.secret(name, typeof value === 'string' ? value.trim() : value);
  if (key.startsWith(wrongPrefix)) {
    throw new TypeError(
      `@bulwark/posthog: expected \`${name}\` to be a ${name === 'projectApiKey' ? 'project' : 'personal'} API key, got a ${wrongKind} (value not shown)`,
    );
  }
  return key;
}

function checkUrl(name: string, value: unknown, fallback: string): string {
  const url = check.string(name, value, fallback);
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
  } catch {
    return check.fail(name, 'an http(s) URL', url);
  }
  return url;
}

/**
 * Makes a PostHog driver.
 *
 * @example
 * ```ts
 * import { startFakePostHog } from '@bulwark/testkit/fake-posthog';
 *
 * const fake = await startFakePostHog();
 * const ph = posthog({
 *   projectApiKey: 'phc_example',
 *   personalApiKey: fake.personalApiKey,
 *   host: fake.ingestionUrl,
 *   apiHost: fake.apiUrl,
 * });
 * ph.capture({ event: 'signed up', distinctId: 'user-1', properties: { plan: 'pro' } });
 * await ph.shutdown();
 * assert.equal(fake.received.unique, 1);
 * const flags = await ph.listObjects('feature_flags');
 * assert.equal(flags.length, 3);
 * await fake.close();
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function posthog(options: PostHogOptions = {}): PostHog {
  check.object('options', options);
  const projectKey = checkKey('projectApiKey', options.projectApiKey, 'phx_', 'personal API key');
  const personalKey = checkKey('personalApiKey', options.personalApiKey, 'phc_', 'project API key');
  const host = checkUrl('host', options.host, 'https://us.i.posthog.com');
  const apiHost = checkUrl('apiHost', options.apiHost, 'https://us.posthog.com');
  const projectIdOption: unknown = options.projectId;
  if (
    projectIdOption !== undefined &&
    !(typeof projectIdOption === 'string'
      ? projectIdOption.length > 0
      : Number.isSafeInteger(projectIdOption) && (projectIdOption as number) > 0)
  ) {
    check.fail('projectId', "a positive integer or '@current'", projectIdOption);
  }
  const projectId = options.projectId === undefined ? '@current' : String(options.projectId);
  const name = check.string('name', options.name, 'posthog');
  const clock = options.clock ?? systemClock;
  if (!hasMethods(clock, ['now', 'setTimer', 'clearTimer', 'sleep'])) check.fail('clock', 'a Clock', clock);
  const fetchFn = check.func<Fetch, Fetch>('fetch', options.fetch, (input, init) => fetch(input, init));
  const flushAt = check.integer('flushAt', options.flushAt, 20, { min: 1 });
  const flushIntervalMs = check.number('flushIntervalMs', options.flushIntervalMs, 5000, { min: 1 });
  const maxBatchSize = check.integer('maxBatchSize', options.maxBatchSize, Math.max(100, flushAt), { min: 1 });
  const maxBatchBytes = check.integer('maxBatchBytes', options.maxBatchBytes, 10 * 1024 * 1024, { min: 1024 });
  const maxQueueSize = check.integer('maxQueueSize', options.maxQueueSize, 10_000, { min: 1 });
  if (maxQueueSize < flushAt) {
    // Named on the option the caller set: a `flushAt` past the default queue size is the mistake then.
    if (options.maxQueueSize === undefined)
      check.fail('flushAt', `an integer <= maxQueueSize (${maxQueueSize})`, flushAt);
    check.fail('maxQueueSize', `an integer >= flushAt (${flushAt})`, maxQueueSize);
  }
  const overflow = check.oneOf('overflow', options.overflow, 'drop-oldest', ['drop-oldest', 'drop-newest'] as const);
  const compression = check.boolean('compression', options.compression, true);
  const historicalMigration = check.boolean('historicalMigration', options.historicalMigration, false);
  const disableGeoip = check.boolean('disableGeoip', options.disableGeoip, true);
  const pageSize = check.integer('pageSize', options.pageSize, 100, { min: 1, max: 10_000 });
  const maxResponseBytes = check.integer('maxResponseBytes', options.maxResponseBytes, 16 * 1024 * 1024, { min: 1 });
  const telemetryOption: unknown = options.telemetry;
  if (
    telemetryOption !== undefined &&
    !(
      Array.isArray(telemetryOption) &&
      telemetryOption.every((sink) => typeof (sink as TelemetrySink | null)?.bind === 'function')
    )
  ) {
    check.fail('telemetry', 'an array of telemetry sinks', telemetryOption);
  }
  const sinks = options.telemetry ?? [];
  const observed = (policy: Policy<PolicyEvent>, part: string): Policy<PolicyEvent> =>
    sinks.length === 0 ? policy : instrument(policy, sinks, { name: `${name}.${part}` });
  const breakerOption: unknown = options.breaker;
  let breakers: { readonly ingestion: Breaker; readonly api: Breaker } | undefined;
  if (breakerOption !== false) {
    const given = check.object('breaker', breakerOption) as { failures?: unknown; halfOpenAfterMs?: unknown };
    const failures = check.integer('breaker.failures', given.failures, 5, { min: 1 });
    const halfOpenAfterMs = check.number('breaker.halfOpenAfterMs', given.halfOpenAfterMs, 30_000, { min: 0 });
    // Only the host's own failures count: a 4xx or a 429 is an answer from a healthy host.
    const isFailure = (error: unknown): boolean =>
      isPostHogNetworkError(error) ||
      (isPostHogHttpError(error) && error.status >= 500) ||
      (isBulwarkError(error) && error._tag === 'Timeout');
    const make = (host: string): Breaker =>
      breaker({
        name: `${name}.${host}`,
        strategy: consecutiveFailures(failures),
        halfOpenAfterMs,
        isFailure,
        // The driver's own limiter and query queue inside the breaker say nothing about the host:
        // neither a failure nor a success (which would reset the count of consecutive failures).
        ignore: (error) => isRateLimitedError(error) || isBulkheadRejectedError(error),
        clock,
      });
    breakers = { ingestion: make('ingestion'), api: make('api') };
  }
  const random: unknown = options.random;
  const isRandom = typeof random === 'object' && random !== null && typeof Reflect.get(random, 'next') === 'function';
  if (random !== undefined && !isRandom) {
    check.fail('random', 'a Random ({ next(): number })', random);
  }
  const retrying = (): Policy<PolicyEvent> => defaultRetry(clock, options.random);
  const requestTimeoutMs = check.number('requestTimeoutMs', options.requestTimeoutMs, 10_000, {
    min: 1,
    finite: false,
  });
  // One per host: attempts with one duration share one deadline queue and timer.
  const attemptTimeout = (host: string): Policy<PolicyEvent> =>
    requestTimeoutMs === Infinity
      ? noop
      : timeout({
          name: `${name}.${host}.timeout`,
          timeoutMs: requestTimeoutMs,
          // The timeout's own default reads time from performance.now(), which an NTP step cannot move.
          ...(options.clock !== undefined ? { clock } : {}),
        });
  const ingestionRetry = options.ingestionPolicy ?? noop;
  if (options.ingestionPolicy !== undefined && !hasMethods(options.ingestionPolicy, ['execute', 'decorate'])) {
    check.fail('ingestionPolicy', 'a policy', options.ingestionPolicy);
  }
  const ingestionPolicy = observed(
    pipeline(ingestionRetry, breakers?.ingestion ?? noop, attemptTimeout('ingestion')),
    'ingestion',
  );
  const apiPolicyOption: unknown = options.apiPolicy;
  if (
    apiPolicyOption !== undefined &&
    typeof apiPolicyOption !== 'function' &&
    !(typeof apiPolicyOption === 'object' && apiPolicyOption !== null && 'execute' in apiPolicyOption)
  )
    check.fail('apiPolicy', 'a policy or a function of the bucket', apiPolicyOption);
  const rateLimitsOption: unknown = options.rateLimits;
  if (rateLimitsOption !== undefined && rateLimitsOption !== false) {
    check.object('rateLimits', rateLimitsOption);
    for (const [bucket, rates] of Object.entries(rateLimitsOption as Record<string, unknown>)) {
      if (!['analytics', 'query', 'crud'].includes(bucket))
        check.fail('rateLimits', 'keys analytics, query or crud', bucket);
      if (!Array.isArray(rates) || rates.length === 0) {
        check.fail(`rateLimits.${bucket}`, 'a non-empty array of { limit, windowMs }', rates);
      }
      (rates as unknown[]).forEach((rate, i) => {
        const { limit, windowMs } = (check.object(`rateLimits.${bucket}[${i}]`, rate) ?? {}) as Partial<PostHogRate>;
        check.integer(`rateLimits.${bucket}[${i}].limit`, limit ?? null, undefined, { min: 1 });
        check.number(`rateLimits.${bucket}[${i}].windowMs`, windowMs ?? null, undefined, { min: 1 });
      });
    }
  }
  if (options.rateLimitStore !== undefined && !hasMethods(options.rateLimitStore, ['open'])) {
    check.fail('rateLimitStore', 'a rate limit store (memoryStore() or redisStore(…))', options.rateLimitStore);
  }
  const limits =
    options.rateLimits === false
      ? undefined
      : apiLimits({
          name,
          clock,
          rates: { ...POSTHOG_API_LIMITS, ...options.rateLimits },
          marginMs: check.number('rateLimitMarginMs', options.rateLimitMarginMs, 1000, { min: 0 }),
          maxWaitMs: check.number('maxRateLimitWaitMs', options.maxRateLimitWaitMs, 3_600_000, {
            min: 0,
            finite: false,
          }),
          store: options.rateLimitStore,
          queryConcurrency: check.integer('queryConcurrency', options.queryConcurrency, 3, { min: 1 }),
        });
  // One budget per API host and project, whichever key or process draws from it (never the key itself).
  const limitKey = `${new URL(apiHost).origin} ${projectId}`;
  const apiTimeout = attemptTimeout('api');
  const pauses = new BucketPauses(clock);
  const policies = new Map<ApiBucket, Policy<PolicyEvent>>();
  const policyFor = (bucket: ApiBucket): Policy<PolicyEvent> => {
    let policy = policies.get(bucket);
    if (policy === undefined) {
      const given = options.apiPolicy;
      const chosen = given === undefined ? retrying() : 'execute' in given ? given : given(bucket);
      if (!hasMethods(chosen, ['execute', 'decorate'])) {
        throw new TypeError(
          `@bulwark/posthog: expected \`apiPolicy\` to return a policy, got ${describeValue(chosen)}`,
        );
      }
      // Each attempt waits out the bucket's pause (a 429's Retry-After) before the breaker and its slot.
      const outer = pipeline(chosen, pauses.policy(bucket, `${name}.${bucket}.pause`), breakers?.api ?? noop);
      // The limiter is inside the retry: every attempt is a request PostHog counts. The timeout is
      // innermost: it bounds the request, not the wait for its slot or the bucket's pause.
      const limited =
        limits === undefined
          ? pipeline(outer, apiTimeout)
          : bucket === 'query'
            ? pipeline(outer, limits.limiters.query.forKey(limitKey), limits.queries, apiTimeout)
            : pipeline(outer, limits.limiters[bucket].forKey(limitKey), apiTimeout);
      policy = observed(limited, `api.${bucket}`);
      policies.set(bucket, policy);
    }
    return policy;
  };

  const userAgent = `bulwark-posthog/${VERSION}`;
  const events = new Emitter<CaptureEvent>();
  if (sinks.length > 0) {
    // The driver's own events reach telemetry as a policy's do (logs, event counts, span events).
    const bindings = sinks.map((sink) => sink.bind(name));
    events.on((event) => {
      for (const binding of bindings) binding.event?.(event, undefined);
    });
  }
  const superProperties: Record<string, unknown> = { $lib: 'bulwark-posthog', $lib_version: VERSION };
  if (disableGeoip) superProperties['$geoip_disable'] = true;

  // A server may echo a key back in an error text; a start of one, too, where the text was cut.
  const keys = [projectKey, personalKey].filter((key): key is string => key !== undefined);
  const redact = (text: string): string => hideSecrets(text, keys);
  const queue = new CaptureQueue({
    name,
    host,
    token: () => projectKey as string,
    redact,
    fetch: fetchFn,
    clock,
    userAgent,
    maxResponseBytes,
    flushAt,
    flushIntervalMs,
    maxBatchSize,
    maxBatchBytes,
    maxQueueSize,
    overflow,
    compression,
    historicalMigration,
    superProperties,
    policy: ingestionPolicy,
    events,
  });
  const api = new ApiClient({
    host: apiHost,
    projectId,
    pageSize,
    fetch: fetchFn,
    userAgent,
    policyFor,
    authorization: () => `Bearer ${personalKey as string}`,
    redact,
    maxResponseBytes,
    pauses,
  });

  const needProjectKey = (): void => {
    if (projectKey === undefined) throw new TypeError('@bulwark/posthog: capturing needs `projectApiKey` (a phc_ key)');
  };
  const needPersonalKey = (): void => {
    if (personalKey === undefined)
      throw new TypeError('@bulwark/posthog: the private API needs `personalApiKey` (a phx_ key)');
  };
  const checkKind = (kind: unknown): void => {
    if (!ENTITY_KINDS.includes(kind as EntityKind)) check.fail('kind', `one of ${ENTITY_KINDS.join(', ')}`, kind);
  };

  const driver: PostHog = {
    name,
    kind: 'posthog',
    capture(input) {
      needProjectKey();
      return queue.capture(input);
    },
    identify(distinctId, properties, setOnce) {
      needProjectKey();
      const props: Record<string, unknown> = {};
      if (properties !== undefined) props['$set'] = { ...properties };
      if (setOnce !== undefined) props['$set_once'] = { ...setOnce };
      return queue.capture({ event: '$identify', distinctId, properties: props });
    },
    batch(inputs) {
      needProjectKey();
      for (const input of inputs) queue.capture(input);
      return queue.flush();
    },
    flush: () => queue.flush(),
    shutdown(timeoutMs = 30_000) {
      check.number('timeoutMs', timeoutMs, 30_000, { min: 0 });
      return queue.shutdown(timeoutMs);
    },
    async listObjects(kind, listOptions = {}) {
      needPersonalKey();
      checkKind(kind);
      const rows: EntityOf[typeof kind][] = [];
      for await (const row of api.list(kind, listOptions)) rows.push(row);
      return rows;
    },
    iterateObjects(kind, listOptions = {}) {
      needPersonalKey();
      checkKind(kind);
      return api.list(kind, listOptions);
    },
    getFields(kind, fieldOptions = {}) {
      needPersonalKey();
      checkKind(kind);
      return api.fields(kind, fieldOptions.signal);
    },
    query(hogql, queryOptions = {}) {
      needPersonalKey();
      if (typeof hogql !== 'string' || hogql.trim() === '') check.fail('hogql', 'a non-empty string', hogql);
      return api.query(hogql, queryOptions);
    },
    onEvent: (listener) => events.on(listener),
    get stats() {
      const stats = queue.stats;
      return { ...stats, activeRequests: stats.activeRequests + api.active };
    },
    components: [
      ...(breakers === undefined ? [] : [breakers.ingestion, breakers.api]),
      ...(limits === undefined
        ? []
        : [limits.limiters.analytics, limits.limiters.query, limits.limiters.crud, limits.queries]),
    ],
    health(): Health {
      const stats = queue.stats;
      const fill = stats.queued / maxQueueSize;
      const status = stats.closed ? 'unhealthy' : stats.lastError !== undefined || fill >= 0.8 ? 'degraded' : 'healthy';
      return {
        status,
        details: {
          queued: stats.queued,
          inFlight: stats.inFlight,
          captured: stats.captured,
          sent: stats.sent,
          dropped: stats.dropped,
          closed: stats.closed,
          lastError:
            stats.lastError === undefined ? null : stats.lastError instanceof Error ? stats.lastError.name : 'error',
        },
      };
    },
  };
  return driver;
}
