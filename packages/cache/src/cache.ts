/**
 * The cache policy: answers a call from a Keyv store while its entry is fresh, serves stale entries
 * while refreshing them or when the origin fails, and makes one origin call per key at a time.
 *
 * A cache owns the call (it may answer without running what it wraps), so it is a decorator layer
 * (ADR 0001). It sits outermost in a pipeline, in front of what makes the origin call resilient:
 * `pipeline(cache(…), retry(…), breaker(…), timeout(…))`.
 *
 * @module
 */

import {
  Emitter,
  definePolicy,
  isBulwarkError,
  systemClock,
  type Clock,
  type Context,
  type Health,
  type HealthSource,
  type Policy,
  type Task,
} from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';
import { Keyv, type KeyvStoreAdapter } from 'keyv';

import type { CacheEvent } from './events.js';
import { servableAge, type Freshness } from './freshness.js';
import { argumentsKey } from './key.js';
import { argumentsOf, calleeOf } from './internal/call.js';
import { L1 } from './internal/l1.js';
import { Runner } from './internal/runner.js';
import { Store } from './internal/store.js';

/**
 * The in-process L1 in front of the store.
 *
 * @category models
 * @since 0.1.0
 */
export interface L1Options {
  /**
   * The most entries the L1 holds; the least recently used goes first. At most 1,000,000: the L1
   * allocates room for them all when it is made.
   *
   * @default 1000
   */
  readonly maxEntries?: number;
  /**
   * How long, in milliseconds, an L1 copy is served without asking the store (while younger than this): the longest this process
   * may serve an entry another process has replaced or invalidated in the shared store.
   *
   * @default 1000
   */
  readonly ttlMs?: number;
}

/**
 * How a {@link cache} policy stores and serves results.
 *
 * @typeParam Args - The arguments of the function the policy wraps, as its `key` function takes them.
 * @category models
 * @since 0.1.0
 */
export interface CacheOptions<Args extends readonly unknown[] = readonly unknown[]> {
  /**
   * The policy's name in events and reports.
   *
   * @default 'cache'
   */
  readonly name?: string;
  /**
   * Any Keyv storage adapter: `new KeyvRedis(url)` from `@keyv/redis` to share entries between
   * processes, or a `Map`-like store. The cache makes its own `Keyv` over it (so it controls the
   * namespace, errors and serialization): pass the adapter, not a `Keyv`. An adapter serves one
   * namespace, so two caches with different namespaces need two adapters.
   *
   * @default a new in-process `Map` (unbounded: bound it with an LRU store, or use `l1` alone)
   */
  readonly store?: KeyvStoreAdapter | Map<unknown, unknown>;
  /**
   * The namespace of the entries in the store; {@link CachePolicy.invalidateAll} clears it.
   *
   * @default the policy's `name`
   */
  readonly namespace?: string;
  /**
   * Makes the key of a call from the wrapped function's arguments, e.g. `(code) => \`price:${code}\``.
   *
   * Without it, the key is the SHA-256 of the arguments' canonical JSON (see `argumentsKey`), and one
   * policy caches one function: calling it through another wrapped function fails with a `TypeError`.
   * Calls through `execute` carry no arguments: use {@link CachePolicy.forKey}.
   *
   * @default the SHA-256 of the arguments
   */
  readonly key?: (...args: Args) => string;
  /**
   * How long an entry is served as is, in milliseconds of age (time since the origin produced it): an
   * entry younger than this is fresh. `0` makes every call go to the origin, the cache only standing in
   * when it fails.
   *
   * @default 300_000 (5 minutes)
   */
  readonly ttlMs?: number;
  /**
   * From `ttlMs` on, for how many more milliseconds an entry is served while one background call
   * refreshes it. `0` turns stale-while-revalidate off.
   *
   * @default 0
   */
  readonly staleWhileRevalidateMs?: number;
  /**
   * The oldest entry, in milliseconds of age, served in place of an origin error that `staleIfError`
   * allows; past it the call fails with a `CacheExpiredError`.
   *
   * @default 3_600_000 (1 hour)
   */
  readonly maxStaleAgeMs?: number;
  /**
   * Which origin errors may be answered with a stale entry: `true` for all, `false` for none, or a
   * predicate on the error.
   *
   * @default every error but validation failures: `BulwarkError`s tagged `Validation` or `DataQuality`
   */
  readonly staleIfError?: boolean | ((error: unknown) => boolean);
  /**
   * How long the store keeps an entry, in milliseconds of wall time (Keyv's own TTL, which reads
   * `Date.now()`). It only lets the store forget entries; what is served is decided on the policy's
   * clock from the entry's own timestamp. At least the longest age at which an entry can be served;
   * `Infinity` keeps entries until they are replaced or invalidated.
   *
   * @default twice the longest servable age: `2 × max(ttlMs + staleWhileRevalidateMs, maxStaleAgeMs)`
   */
  readonly retainMs?: number;
  /**
   * How long, in milliseconds, a store operation may take before the cache gives up on it and goes
   * on without the store (a Redis that stopped answering). `Infinity` waits for ever.
   *
   * @default 250 for a store you give; no bound for the default in-process store
   */
  readonly storeTimeoutMs?: number;
  /**
   * An in-process LRU in front of the store, with its own short TTL: `true` for the defaults.
   *
   * @default off
   */
  readonly l1?: boolean | L1Options;
  /**
   * The clock entries are timestamped and judged by, and store timeouts run on (it needs `setTimer`
   * and `clearTimer` when `storeTimeoutMs` is finite: with a store you give, by default).
   *
   * @default systemClock
   */
  readonly clock?: Clock;
}

/**
 * A cache policy, with what it adds to a {@link Policy}: keys, invalidation and health.
 *
 * @category models
 * @since 0.1.0
 */
export interface CachePolicy<Args extends readonly unknown[] = readonly unknown[]>
  extends Policy<CacheEvent>, HealthSource {
  readonly kind: 'cache';
  /** The namespace of its entries in the store. */
  readonly namespace: string;
  /** The key a call with these arguments uses: what to pass to {@link CachePolicy.invalidate}. */
  keyOf(...args: Args): string;
  /**
   * The same cache (store, L1, flights, events) with a fixed key, for calls made through `execute`:
   * `prices.forKey('WTI').execute(fetchWti)`.
   */
  forKey(key: string): Policy<CacheEvent>;
  /**
   * Forgets one key: its L1 copy, its store entry, and the result of any origin call for it that is
   * running now. Rejects when the store fails (the entry may still be there).
   */
  invalidate(key: string): Promise<void>;
  /**
   * Forgets every key of the namespace (Keyv's `clear()`: for Redis, a `SCAN` of the namespace).
   * Other processes' L1 copies live on for at most their L1 `ttlMs`. Rejects when the store fails.
   */
  invalidateAll(): Promise<void>;
  /** `degraded` while the store is failing (the cache then runs on the origin alone), else `healthy`. */
  health(): Health;
}

const check = optionChecker('@bulwark/cache');

/**
 * The default `staleIfError`: any error but a validation failure (a `BulwarkError` tagged `Validation`
 * or `DataQuality`), since data that failed validation must not be hidden behind an older answer.
 *
 * @example
 * ```ts
 * assert.equal(staleOnAnyErrorButValidation(new Error('502 Bad Gateway')), true);
 * ```
 *
 * @category instances
 * @since 0.1.0
 */
export function staleOnAnyErrorButValidation(error: unknown): boolean {
  return !(isBulwarkError(error) && (error._tag === 'Validation' || error._tag === 'DataQuality'));
}

const isKeyv = (value: unknown): boolean =>
  value instanceof Keyv ||
  (typeof value === 'object' &&
    value !== null &&
    typeof (value as { getRaw?: unknown }).getRaw === 'function' &&
    'hooks' in value);

function storeOption(value: unknown): KeyvStoreAdapter | Map<unknown, unknown> | undefined {
  if (value === undefined || value instanceof Map) return value;
  if (isKeyv(value)) {
    throw new TypeError(
      '@bulwark/cache: expected `store` to be a Keyv storage adapter (e.g. new KeyvRedis(url)), got a Keyv; ' +
        'pass its adapter: the cache makes its own Keyv over it',
    );
  }
  const adapter = value as Partial<Record<'get' | 'set' | 'delete' | 'clear', unknown>>;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof adapter.get !== 'function' ||
    typeof adapter.set !== 'function' ||
    typeof adapter.delete !== 'function' ||
    typeof adapter.clear !== 'function'
  ) {
    return check.fail('store', 'a Keyv storage adapter (get, set, delete and clear) or a Map', value);
  }
  return value as unknown as KeyvStoreAdapter;
}

/** The most entries an L1 may hold: about 16 MB allocated at construction, whether used or not. */
const MAX_L1_ENTRIES = 1_000_000;

function l1Option(value: unknown): L1 | undefined {
  if (value === undefined || value === false) return undefined;
  const options: L1Options = value === true ? {} : check.object('l1', value);
  // lru-cache allocates its arrays for `max` entries up front, so the bound is checked here.
  const maxEntries = check.integer('l1.maxEntries', options.maxEntries, 1000, { min: 1, max: MAX_L1_ENTRIES });
  const ttlMs = check.number('l1.ttlMs', options.ttlMs, 1000, { min: 0, finite: false });
  return new L1(maxEntries, ttlMs);
}

function staleIfErrorOption(value: unknown): ((error: unknown) => boolean) | undefined {
  if (value === undefined) return staleOnAnyErrorButValidation;
  if (value === true) return () => true;
  if (value === false) return undefined;
  return check.func<(error: unknown) => boolean, undefined>('staleIfError', value, undefined);
}

/**
 * Makes a cache policy: results stored in a Keyv store under a key made from the call's arguments,
 * served while fresh (`ttlMs`), served stale while refreshed (`staleWhileRevalidateMs`) or in place of
 * an origin error (up to `maxStaleAgeMs`, then `CacheExpiredError`), with one origin call per key at a
 * time. A failing store never fails a call: the call goes to the origin and a `store-error` is emitted.
 *
 * @throws TypeError | RangeError - An option is invalid (the message names it and the value).
 * @example
 * ```ts
 * import { VirtualClock } from '@bulwark/testkit';
 *
 * const clock = new VirtualClock();
 * let calls = 0;
 * const prices = cache({ ttlMs: 5 * 60_000, maxStaleAgeMs: 60 * 60_000, clock });
 * const price = prices.wrap(async (code: string) => {
 *   calls++;
 *   if (calls > 1) throw new Error('502 Bad Gateway');
 *   return { code, usd: 78.1 };
 * });
 * assert.deepEqual(await price('WTI'), { code: 'WTI', usd: 78.1 });
 * await clock.advance(30 * 60_000); // past the TTL: the origin is asked, fails, and the entry stands in
 * assert.deepEqual(await price('WTI'), { code: 'WTI', usd: 78.1 });
 * await clock.advance(31 * 60_000); // past the maximum stale age
 * await assert.rejects(price('WTI'), (error) => isCacheExpiredError(error));
 * assert.equal(calls, 3);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function cache<Args extends readonly unknown[] = readonly unknown[]>(
  options: CacheOptions<Args> = {},
): CachePolicy<Args> {
  const o = check.object('options', options) as CacheOptions<Args>;
  const name = check.string('name', o.name, 'cache');
  // The namespace defaults to the name: an empty one is reported as the option the caller wrote.
  if (name === '') check.fail('name', 'a non-empty string', name);
  const namespace = check.string('namespace', o.namespace, name);
  if (namespace === '') check.fail('namespace', 'a non-empty string', namespace);
  const freshness: Freshness = {
    ttlMs: check.number('ttlMs', o.ttlMs, 300_000, { min: 0, finite: false }),
    staleWhileRevalidateMs: check.number('staleWhileRevalidateMs', o.staleWhileRevalidateMs, 0, {
      min: 0,
      finite: false,
    }),
    maxStaleAgeMs: check.number('maxStaleAgeMs', o.maxStaleAgeMs, 3_600_000, { min: 0, finite: false }),
  };
  const staleIfError = staleIfErrorOption(o.staleIfError);
  const servable = servableAge(freshness, staleIfError !== undefined);
  if (servable === 0) {
    check.fail('ttlMs', 'above 0 unless stale-while-revalidate or stale-if-error can serve an entry', freshness.ttlMs);
  }
  const retainMs = check.number('retainMs', o.retainMs, 2 * servable, { min: servable, finite: false });
  const given = storeOption(o.store);
  const storeTimeoutMs = check.number('storeTimeoutMs', o.storeTimeoutMs, given === undefined ? Infinity : 250, {
    min: 1,
    finite: false,
  });
  const l1 = l1Option(o.l1);
  // A store operation with a bound runs a timer on the clock: a clock without one fails here, not on
  // every operation.
  const clock = check.clock(
    'clock',
    o.clock,
    systemClock,
    Number.isFinite(storeTimeoutMs) ? ['now', 'setTimer', 'clearTimer'] : ['now'],
  );
  const key = check.func<(...args: Args) => string, undefined>('key', o.key, undefined);

  const emitter = new Emitter<CacheEvent>();
  const store = new Store({
    adapter: given ?? new Map<unknown, unknown>(),
    namespace,
    retainMs,
    timeoutMs: storeTimeoutMs,
    clock,
    report: (operation, error, entryKey) => {
      if (!emitter.active) return;
      emitter.emit(
        entryKey === undefined
          ? { type: 'store-error', policy: name, operation, error }
          : { type: 'store-error', policy: name, operation, error, key: entryKey },
      );
    },
  });
  const runner = new Runner({ name, freshness, staleIfError, clock, store, l1, emitter });

  const checked = (made: unknown): string => {
    if (typeof made !== 'string') {
      throw new TypeError(`@bulwark/cache: expected \`key\` to return a string, got ${typeof made}`);
    }
    return made;
  };
  // Without a `key`, a key says nothing about which function it is for: the first function seen is the
  // only one the policy caches, so two functions can never answer each other's calls.
  let callee: unknown = undefined;
  const keyOfCall = (ctx: Context): string => {
    const args = argumentsOf(ctx);
    if (args === undefined) {
      throw new TypeError(
        '@bulwark/cache: a call through `execute` has no arguments to make a key from; ' +
          'use `policy.forKey(key).execute(task)`, or `wrap` the function',
      );
    }
    if (key !== undefined) return checked(key(...(args as unknown as Args)));
    const fn = calleeOf(ctx);
    if (callee === undefined) callee = fn;
    else if (callee !== fn) {
      throw new TypeError(
        `@bulwark/cache: the policy "${name}" has no \`key\` and already caches another function; ` +
          'give it a `key` that tells the functions apart, or use one policy per function',
      );
    }
    return argumentsKey(args);
  };

  const decorate =
    <A>(next: Task<A>): Task<A> =>
    (ctx) =>
      runner.call(ctx, next, keyOfCall(ctx)) as PromiseLike<A>;
  const policy = definePolicy<CacheEvent>(name, [{ decorate }], emitter);

  const members = {
    kind: 'cache' as const,
    namespace,
    keyOf: (...args: Args): string => (key !== undefined ? checked(key(...args)) : argumentsKey(args)),
    forKey(fixed: string): Policy<CacheEvent> {
      const k = check.string('key', fixed, undefined);
      if (k === undefined) return check.fail('key', 'a string', fixed);
      const decorateFixed =
        <A>(next: Task<A>): Task<A> =>
        (ctx) =>
          runner.call(ctx, next, k) as PromiseLike<A>;
      return definePolicy<CacheEvent>(name, [{ decorate: decorateFixed }], emitter);
    },
    invalidate(entryKey: string): Promise<void> {
      if (typeof entryKey !== 'string') return Promise.reject(new TypeError('@bulwark/cache: expected a string key'));
      return runner.invalidate(entryKey);
    },
    invalidateAll: (): Promise<void> => runner.invalidateAll(),
    health(): Health {
      return {
        status: store.failing ? 'degraded' : 'healthy',
        details: {
          namespace,
          storeFailing: store.failing,
          storeFailures: store.failures,
          inFlight: runner.inFlight,
          l1Entries: l1?.size ?? 0,
        },
      };
    },
  };
  return Object.assign(policy, members);
}
