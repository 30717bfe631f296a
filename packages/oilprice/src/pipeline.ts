/**
 * The default pipeline: the policies every OilPriceAPI request runs under unless the caller says
 * otherwise, each one replaceable or removable.
 *
 * Order, outermost first: telemetry (around everything) → cache → validate → retry → breaker →
 * bulkhead → timeout → the request. The cache answers before anything else is spent and serves stale
 * answers when everything inside it failed; validation sits inside it so that an implausible price is
 * never cached; retry sits outside the breaker so that a call fails fast once the breaker opens; the
 * bulkhead holds a slot only for attempts the breaker let through; the timeout bounds each attempt.
 *
 * @module
 */

import { breaker, consecutiveFailures } from '@bulwark/breaker';
import { bulkhead, isBulkheadRejectedError } from '@bulwark/bulkhead';
import { cache } from '@bulwark/cache';
import {
  pipeline,
  type Clock,
  type Context,
  type HealthSource,
  type Policy,
  type Random,
  type Task,
} from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';
import { exponential, jitter, retry } from '@bulwark/retry';
import { timeout } from '@bulwark/timeout';
import { instrument, metrics, type MetricsSink, type TelemetrySink } from '@bulwark/telemetry';
import { each, maxChange, range, validate } from '@bulwark/validate';
import KeyvRedis from '@keyv/redis';
import * as t from 'io-ts';

import { type OilPriceRequest, type OilPriceResult } from './client.js';
import { type Price } from './codecs.js';
import { isDependencyFailure, isRetryableFailure } from './predicates.js';
import { DEFAULT_MAX_PRICE_CHANGE, knownPriceBounds } from './quality.js';

/**
 * The parts of the default pipeline inside telemetry, outermost first.
 *
 * @example
 * ```ts
 * assert.deepEqual(PIPELINE_PARTS, ['cache', 'validate', 'retry', 'breaker', 'bulkhead', 'timeout']);
 * const policy = defaultPipeline({ redisUrl: '', telemetry: false });
 * // Each part present is a policy; a part whose package is not in this build is listed as unavailable.
 * for (const name of PIPELINE_PARTS) assert.ok(policy.parts[name] !== undefined || policy.unavailable.includes(name));
 * ```
 *
 * @category instances
 * @since 0.1.0
 */
export const PIPELINE_PARTS = ['cache', 'validate', 'retry', 'breaker', 'bulkhead', 'timeout'] as const;

/**
 * The name of a part of the default pipeline.
 *
 * @category models
 * @since 0.1.0
 */
export type PartName = (typeof PIPELINE_PARTS)[number];

/**
 * A part of the default pipeline: `undefined` for the default, `false` to leave it out, or a policy of
 * your own in its place.
 *
 * @category models
 * @since 0.1.0
 */
export type PipelinePart = Policy | false | undefined;

/**
 * What every default part is built with.
 *
 * @category models
 * @since 0.1.0
 */
export interface PartEnvironment {
  readonly clock: Clock | undefined;
  readonly random: Random | undefined;
  readonly redisUrl: string | undefined;
  readonly namespace: string;
  /** Registers what must be released when the pipeline closes (a Redis connection). */
  onClose(release: () => Promise<void>): void;
}

/**
 * The default of each part, for the policy packages this build has. A part whose package is not in
 * this build has no default: it is left out unless you pass a policy for it.
 */
/** The client's results are decoded already: validation judges them as they are. */
const Result = new t.Type<OilPriceResult, OilPriceResult, unknown>(
  'OilPriceResult',
  (u): u is OilPriceResult => typeof u === 'object' && u !== null && 'operation' in u,
  (u, c) =>
    typeof u === 'object' && u !== null && 'operation' in u ? t.success(u as OilPriceResult) : t.failure(u, c),
  t.identity,
);

const pricesOf = (result: OilPriceResult): readonly Price[] =>
  result.operation === 'latest' ? [result.price] : result.operation === 'history' ? result.page.prices : [];

/**
 * Judges prices: every price (latest, or each row of a series) within its family's bounds, and a
 * latest price no further than 25 % from the last good one of its code. Rows of a series are not
 * judged against each other: a month can move more than a minute.
 */
function priceValidation(env: PartEnvironment): Policy {
  return validate(Result, {
    name: 'oilprice-validate',
    rules: [
      each(
        pricesOf,
        range<Price>({ name: 'price-range', value: (p) => p.price, key: (p) => p.code, perKey: knownPriceBounds() }),
      ),
      each(
        (result: OilPriceResult) => (result.operation === 'latest' ? [result.price] : []),
        maxChange<Price>({
          name: 'price-spike',
          value: (p) => p.price,
          key: (p) => p.code,
          maxRatio: DEFAULT_MAX_PRICE_CHANGE,
          rememberMs: 24 * 3_600_000,
        }),
      ),
    ],
    ...(env.clock !== undefined ? { clock: env.clock } : {}),
  });
}

/**
 * Caches every answer by its path and query (never the key) for 5 minutes, and stands in with an
 * answer up to an hour old when the API fails (not when a price was judged implausible). In Redis when
 * a URL is given: several processes then share answers, and one that finds Redis away goes to the API.
 */
function answerCache(env: PartEnvironment): Policy {
  let store: KeyvRedis<unknown> | undefined;
  if (env.redisUrl !== undefined && env.redisUrl !== '') {
    const redis = new KeyvRedis<unknown>({ url: env.redisUrl, disableOfflineQueue: true });
    store = redis;
    env.onClose(() => redis.disconnect());
  }
  return cache<[OilPriceRequest]>({
    name: 'oilprice-cache',
    namespace: env.namespace,
    key: (request) => request.key,
    ttlMs: 5 * 60_000,
    maxStaleAgeMs: 3_600_000,
    ...(store !== undefined ? { store } : {}),
    ...(env.clock !== undefined ? { clock: env.clock } : {}),
  });
}

/** The longest `Retry-After` the default retry waits for; a longer one ends the call at once. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Another attempt only for a failure worth one (a 429 burst, a 5xx, no answer, a timeout), and not
 * when the API asks for a pause longer than a caller should be kept waiting (an hourly limit's
 * quarter of an hour): that failure goes back to the caller at once, with its `retryAfterMs`.
 */
const worthRetrying = (error: unknown): boolean => {
  if (!isRetryableFailure(error)) return false;
  const hint = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof hint !== 'number' || hint <= MAX_RETRY_AFTER_MS;
};

const DEFAULTS: { readonly [K in PartName]?: (env: PartEnvironment) => Policy } = {
  cache: answerCache,
  validate: priceValidation,
  // The SDK's schedule with jitter: 1 s, 2 s, 4 s… capped at 60 s, each + 0–30 %, 3 attempts in all;
  // a Retry-After longer than the schedule's wait wins.
  retry: ({ clock, random }) =>
    retry({
      name: 'oilprice-retry',
      maxAttempts: 3,
      backoff: jitter(exponential({ baseMs: 1_000, capMs: 60_000 }), 0.3),
      handle: worthRetrying,
      maxRetryAfterMs: MAX_RETRY_AFTER_MS,
      ...(clock !== undefined ? { clock } : {}),
      ...(random !== undefined ? { random } : {}),
    }),
  // Five dependency failures in a row open it; after 60 s, three probes; three successes close it.
  // A refused request (4xx, an exhausted quota) is an answer from a healthy API and does not count.
  breaker: ({ clock }) =>
    breaker({
      name: 'oilprice-breaker',
      strategy: consecutiveFailures(5),
      halfOpenAfterMs: 60_000,
      probes: 3,
      isFailure: isDependencyFailure,
      // The bulkhead inside it refusing a request says nothing about the API: neither a failure nor a
      // success (which would reset the count of consecutive failures).
      ignore: isBulkheadRejectedError,
      ...(clock !== undefined ? { clock } : {}),
    }),
  // As many requests at once as the pool has connections; more wait in order (abortable), up to 1000.
  bulkhead: ({ clock }) =>
    bulkhead({ name: 'oilprice-bulkhead', capacity: 100, queueSize: 1000, ...(clock !== undefined ? { clock } : {}) }),
  // 15 s per attempt (the vendor SDK waits 90 s). Aggressive: the attempt ends at the deadline even if
  // the socket does not notice its abort at once, so the bulkhead slot and the caller are freed.
  timeout: ({ clock }) =>
    timeout({ name: 'oilprice-timeout', timeoutMs: 15_000, ...(clock !== undefined ? { clock } : {}) }),
};

const isHealthSource = (policy: Policy): policy is Policy & HealthSource =>
  typeof (policy as Partial<HealthSource>).health === 'function' &&
  typeof (policy as Partial<HealthSource>).kind === 'string';

/**
 * Options of {@link defaultPipeline}: one entry per part, plus what every part shares.
 *
 * @category models
 * @since 0.1.0
 */
export interface DefaultPipelineOptions {
  /** The clock every part uses. @default systemClock */
  readonly clock?: Clock;
  /** The random source every part uses (retry jitter). @default systemRandom */
  readonly random?: Random;
  /** Where the cache keeps answers shared by several processes; in memory when absent. @default process.env.REDIS_URL */
  readonly redisUrl?: string;
  /** The cache's namespace (its key prefix in Redis). @default 'oilprice' */
  readonly namespace?: string;
  /**
   * Telemetry around the whole pipeline: `instrument(…)` from `@bulwark/telemetry` with these sinks, or
   * `false` for none.
   * @default { sinks: [metrics()] }: in-process metrics, read through the pipeline's `metrics`
   */
  readonly telemetry?: false | { readonly sinks?: readonly TelemetrySink[]; readonly name?: string };
  /** @default 5 min TTL, stale-if-error up to 1 h, keyed by path and query */
  readonly cache?: PipelinePart;
  /** @default each price within its family's bounds, no move over 25 % from the last good price */
  readonly validate?: PipelinePart;
  /** @default 3 attempts, exponential backoff from 1 s (capped at 60 s) + 0–30 % jitter, Retry-After up to 60 s (longer: no retry), retryable failures only */
  readonly retry?: PipelinePart;
  /** @default opens after 5 consecutive dependency failures, probes after 60 s with 3 calls */
  readonly breaker?: PipelinePart;
  /** @default 100 requests at once, up to 1000 more waiting in order (`BulkheadRejected` beyond) */
  readonly bulkhead?: PipelinePart;
  /** @default 15 s per attempt */
  readonly timeout?: PipelinePart;
}

/**
 * The policy {@link defaultPipeline} builds, with its parts and its metrics.
 *
 * @category models
 * @since 0.1.0
 */
export interface OilPricePipeline extends Policy {
  /** The parts it holds, by name (absent: left out, or not in this build). */
  readonly parts: { readonly [K in PartName]?: Policy };
  /** Parts that have no default in this build because their package is not in it, and were not given. */
  readonly unavailable: readonly PartName[];
  /** The in-process metrics of the default telemetry (`report()`, `snapshot()`), when it has them. */
  readonly metrics: MetricsSink | undefined;
  /** Releases what the default parts hold (the cache's Redis connection). A client that made it closes it. */
  close(): Promise<void>;
}

const check = optionChecker('@bulwark/oilprice');

const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

/** The URL's protocol (`'redis:'`), or `''` for text that is no URL. */
function protocolOf(text: string): string {
  try {
    return new URL(text).protocol;
  } catch {
    return '';
  }
}

/**
 * Checks every option before any part is made: a part may hold a resource (the cache's Redis
 * connection), which a later bad option would leave open.
 */
function checkPipelineOptions(options: unknown): DefaultPipelineOptions {
  const opts = check.object('options', options) as DefaultPipelineOptions;
  if (opts.clock !== undefined && !hasMethods(opts.clock, ['now', 'setTimer', 'clearTimer', 'sleep'])) {
    check.fail('clock', 'a Clock', opts.clock);
  }
  if (opts.random !== undefined && !hasMethods(opts.random, ['next'])) check.fail('random', 'a Random', opts.random);
  const redisUrl = check.string('redisUrl', opts.redisUrl, undefined);
  if (redisUrl !== undefined && redisUrl !== '' && !/^rediss?:$/.test(protocolOf(redisUrl))) {
    // Not shown: a Redis URL may hold a password.
    check.fail('redisUrl', "a redis:// or rediss:// URL, or '' for none", '(not shown)');
  }
  check.string('namespace', opts.namespace, undefined);
  for (const name of PIPELINE_PARTS) {
    const part: unknown = opts[name];
    if (part !== undefined && part !== false && !hasMethods(part, ['decorate', 'execute', 'wrapWithContext'])) {
      check.fail(name, 'a policy, or false to leave it out', part);
    }
  }
  const telemetry: unknown = opts.telemetry;
  if (telemetry !== undefined && telemetry !== false) {
    const { sinks, name } = check.object('telemetry', telemetry) as { sinks?: unknown; name?: unknown };
    if (sinks !== undefined && !(Array.isArray(sinks) && sinks.every((sink) => hasMethods(sink, ['bind'])))) {
      check.fail('telemetry.sinks', 'an array of telemetry sinks', sinks);
    }
    check.string('telemetry.name', name, undefined);
  }
  return opts;
}

/**
 * Builds the default pipeline.
 *
 * @example
 * ```ts
 * const policy = defaultPipeline({ retry: false });
 * assert.equal(policy.parts.retry, undefined);
 * assert.ok(policy.parts.bulkhead !== undefined);
 * assert.equal(policy.metrics?.snapshot().policies[0]?.calls, 0);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function defaultPipeline(options: DefaultPipelineOptions = {}): OilPricePipeline {
  const opts = checkPipelineOptions(options);
  const releases: (() => Promise<void>)[] = [];
  const env: PartEnvironment = {
    clock: opts.clock,
    random: opts.random,
    redisUrl: opts.redisUrl ?? process.env['REDIS_URL'],
    namespace: opts.namespace ?? 'oilprice',
    onClose: (release) => void releases.push(release),
  };
  const parts: { [K in PartName]?: Policy } = {};
  const unavailable: PartName[] = [];
  for (const name of PIPELINE_PARTS) {
    const given = opts[name];
    if (given === false) continue;
    const made = given ?? DEFAULTS[name]?.(env);
    if (made === undefined) unavailable.push(name);
    else parts[name] = made;
  }
  const inner = pipeline(...PIPELINE_PARTS.flatMap((name) => parts[name] ?? []));
  let policy: Policy = inner;
  let sink: MetricsSink | undefined;
  if (opts.telemetry !== false) {
    const telemetry = opts.telemetry ?? {};
    const clock = opts.clock;
    // Breakers and bulkheads report their health (state, running, queued) beside the call figures.
    const sources = Object.values(parts).filter(isHealthSource);
    if (telemetry.sinks === undefined) sink = metrics({ sources, ...(clock !== undefined ? { clock } : {}) });
    policy = instrument(inner, telemetry.sinks ?? [sink as MetricsSink], {
      name: telemetry.name ?? 'oilprice',
      ...(clock !== undefined ? { clock } : {}),
    });
  }
  return {
    name: policy.name,
    layers: policy.layers,
    decorate: <A>(next: Task<A>): Task<A> => policy.decorate(next),
    execute: (task, executeOptions) => policy.execute(task, executeOptions),
    wrap: (fn, wrapOptions) => policy.wrap(fn, wrapOptions),
    wrapWithContext: <Args extends unknown[], R>(
      fn: (context: Context, ...args: Args) => PromiseLike<R>,
      wrapOptions?: Parameters<Policy['wrapWithContext']>[1],
    ) => policy.wrapWithContext(fn, wrapOptions),
    onEvent: (listener) => policy.onEvent(listener),
    parts,
    unavailable,
    metrics: sink,
    close: async () => {
      await Promise.all(releases.splice(0).map((release) => release()));
    },
  };
}
