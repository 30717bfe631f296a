/**
 * Where a rate limiter keeps its state: the store interface, and the in-memory store with a bounded
 * number of keys (least recently used first out).
 *
 * @module
 */

import { type HealthStatus } from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';

import { LimitPlan, type Limit } from './limits.js';

const check = optionChecker('@bulwark/ratelimit');

/**
 * What a store tells its limiter about its own health, so the limiter can emit events.
 *
 * @category models
 * @since 0.1.0
 */
export interface StoreHooks {
  /** The limiter's name, for key names in a shared store. */
  readonly name: string;
  /** The store failed; `failOpen` says whether the call was admitted anyway. */
  readonly onError: (error: unknown, failOpen: boolean) => void;
  /** The store answered again after failing. */
  readonly onRecover: () => void;
}

/**
 * A store opened for one limiter's limits.
 *
 * @category models
 * @since 0.1.0
 */
export interface RateLimitStore {
  /**
   * Decides one call for `key` at `now` and records it if admitted.
   *
   * @param now - The limiter's clock (a store may use its own, e.g. Redis's).
   * @param maxWaitMs - How long the call may wait for its slot: 0 in reject mode.
   * @returns The wait in milliseconds (0: at once) when admitted, or `-retryAfterMs` (negative) when
   *   refused. A store that fails closed throws a `RateLimitedError` with reason `store-unavailable`.
   */
  reserve(key: string, now: number, maxWaitMs: number): number | Promise<number>;
  /** How many keys it holds in this process (a remote store may say `undefined`). */
  readonly keys: number | undefined;
  /**
   * `healthy` while it answers; while a remote store cannot reach its server, `degraded` if it fails
   * open (or falls back to local limits), `unhealthy` if it fails closed.
   */
  readonly health: HealthStatus;
}

/**
 * Makes a {@link RateLimitStore} for a limiter's limits: what the `store` option takes.
 *
 * @category models
 * @since 0.1.0
 */
export interface RateLimitStoreFactory {
  open(limits: readonly Limit[], hooks: StoreHooks): RateLimitStore;
}

/**
 * The in-memory store: each key's state in this process, at most `maxKeys` keys.
 *
 * A key that has to make room is the least recently used one. Forgetting a key forgets its history,
 * so a limit is exact per key only while the keys active within the longest window fit in
 * `maxKeys`; size it for that.
 */
export class MemoryStore implements RateLimitStore {
  private readonly plan: LimitPlan;
  private readonly states = new Map<string, Float64Array>();
  // The most recent key needs no reordering: the common single-key limiter does no map work at all.
  private lastKey: string | undefined = undefined;
  private lastState: Float64Array | undefined = undefined;
  /** The time of the latest decision, on the store's own timeline (see `reserve`). */
  private latest = Number.NEGATIVE_INFINITY;
  /** How far the clock has stepped back in all: added to every reading. */
  private behind = 0;

  constructor(
    limits: readonly Limit[],
    private readonly maxKeys: number,
  ) {
    this.plan = new LimitPlan(limits);
  }

  get keys(): number {
    return this.states.size;
  }

  readonly health = 'healthy';

  reserve(key: string, now: number, maxWaitMs: number): number {
    // A wall clock set back (an NTP step; `systemClock` reads `Date.now()`) would leave every key's
    // recorded times in the future, and a key under its limits refused for as long as the step. The
    // store keeps a timeline of its own instead: a reading before the latest counts as the latest, and
    // later readings go on from there (the timeout's deadline queue does the same).
    let at = now + this.behind;
    if (at < this.latest) {
      this.behind += this.latest - at;
      at = this.latest;
    }
    this.latest = at;
    return this.plan.reserve(this.stateOf(key), at, maxWaitMs);
  }

  private stateOf(key: string): Float64Array {
    if (key === this.lastKey) return this.lastState as Float64Array;
    const { states } = this;
    let state = states.get(key);
    if (state !== undefined) {
      states.delete(key);
      states.set(key, state);
    } else {
      state = this.plan.fresh();
      states.set(key, state);
      if (states.size > this.maxKeys) states.delete(states.keys().next().value as string);
    }
    this.lastKey = key;
    this.lastState = state;
    return state;
  }
}

/**
 * The in-memory store, keeping at most `maxKeys` keys (least recently used out first).
 *
 * @param options.maxKeys - How many keys to keep: a positive integer. @default 10000
 *
 * @example
 * ```ts
 * const limiter = rateLimit({ limits: [slidingWindow({ limit: 1, windowMs: 1000 })], store: memoryStore({ maxKeys: 100 }) });
 * await limiter.forKey('a').execute(async () => 'ok');
 * assert.equal(limiter.health().details['keys'], 1);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function memoryStore(options: { maxKeys?: number } = {}): RateLimitStoreFactory {
  const maxKeys = check.integer(
    'maxKeys',
    (check.object('memoryStore options', options) as { maxKeys?: unknown }).maxKeys,
    10_000,
    {
      min: 1,
    },
  );
  return { open: (limits) => new MemoryStore(limits, maxKeys) };
}
