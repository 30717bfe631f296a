/**
 * Where the last good values live: any store with Keyv's `get`/`set`, and a bounded one in memory.
 *
 * The interface is the part of Keyv the rules use, so a `Keyv` instance (in memory, or on Redis
 * through `@keyv/redis` so that several processes share what they learnt) fits as it is. The memory
 * store answers synchronously, which lets a validate policy run as a gate.
 *
 * Laws (memory store): it never holds more than `maxEntries` keys; setting a key makes it the last
 * to be evicted; a value set with a TTL is gone once the TTL has passed on its clock.
 *
 * @module
 */

import { optionChecker, systemClock, type Clock } from '@bulwark/core';

/**
 * A key-value store with Keyv's `get` and `set`: a `Keyv` instance, or the {@link memoryStore}.
 *
 * @typeParam V - What is stored under each key.
 * @category models
 * @since 0.1.0
 */
export interface KeyValueStore<V> {
  /** The value under `key`, or `undefined`; a promise of it for an asynchronous store. */
  get(key: string): V | undefined | PromiseLike<V | undefined>;
  /** Stores `value` under `key`, forgotten after `ttl` milliseconds when given. */
  set(key: string, value: V, ttl?: number): unknown;
  /**
   * `true` when `get` and `set` never return promises (the memory store). Leave it out for Keyv.
   * @default false
   */
  readonly synchronous?: boolean;
}

/**
 * Options of {@link memoryStore}.
 *
 * @category models
 * @since 0.1.0
 */
export interface MemoryStoreOptions {
  /**
   * The most keys held; setting one more evicts the key set longest ago.
   * @default 10_000
   */
  readonly maxEntries?: number;
  /**
   * The clock TTLs are measured on.
   * @default systemClock
   */
  readonly clock?: Clock;
}

/**
 * A bounded in-memory store that answers synchronously.
 *
 * @category models
 * @since 0.1.0
 */
export class MemoryStore<V> implements KeyValueStore<V> {
  readonly synchronous = true;
  readonly maxEntries: number;
  private readonly clock: Clock;
  // Insertion order is eviction order: `set` moves a key to the end.
  private readonly values = new Map<string, V>();
  // Only keys set with a TTL have an entry here, so a store without TTLs allocates nothing for them.
  private readonly expiries = new Map<string, number>();

  constructor(options: MemoryStoreOptions = {}) {
    const check = optionChecker('@bulwark/validate');
    check.object('options', options);
    this.maxEntries = check.integer('maxEntries', options.maxEntries, 10_000, { min: 1 });
    const clock = options.clock ?? systemClock;
    if (typeof clock.now !== 'function') check.fail('clock', 'a Clock', clock);
    this.clock = clock;
  }

  /** How many keys are held (expired ones included until they are read or evicted). */
  get size(): number {
    return this.values.size;
  }

  get(key: string): V | undefined {
    const value = this.values.get(key);
    if (value === undefined || this.expiries.size === 0) return value;
    const expiresAt = this.expiries.get(key);
    if (expiresAt !== undefined && this.clock.now() >= expiresAt) {
      this.delete(key);
      return undefined;
    }
    return value;
  }

  set(key: string, value: V, ttl?: number): true {
    this.values.delete(key);
    this.values.set(key, value);
    if (ttl !== undefined && ttl > 0 && Number.isFinite(ttl)) this.expiries.set(key, this.clock.now() + ttl);
    else if (this.expiries.size > 0) this.expiries.delete(key);
    if (this.values.size > this.maxEntries) {
      const oldest = this.values.keys().next().value as string;
      this.delete(oldest);
    }
    return true;
  }

  /** Forgets `key`; says whether it was there. */
  delete(key: string): boolean {
    this.expiries.delete(key);
    return this.values.delete(key);
  }

  /** Forgets every key. */
  clear(): void {
    this.values.clear();
    this.expiries.clear();
  }
}

/**
 * Makes a bounded in-memory store that answers synchronously.
 *
 * @example
 * ```ts
 * const store = memoryStore<number>({ maxEntries: 2 });
 * store.set('a', 1);
 * store.set('b', 2);
 * store.set('c', 3);
 * assert.equal(store.get('a'), undefined);
 * assert.equal(store.get('c'), 3);
 * assert.equal(store.size, 2);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function memoryStore<V>(options: MemoryStoreOptions = {}): MemoryStore<V> {
  return new MemoryStore<V>(options);
}
