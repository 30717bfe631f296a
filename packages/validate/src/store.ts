/**
 * Where the last good values live: any store with Keyv's `get`/`set`, and a bounded one in memory.
 *
 * The interface is the part of Keyv the rules use, so a `Keyv` instance (in memory, or on Redis
 * through `@keyv/redis` so that several processes share what they learnt) fits as it is. The memory
 * store answers synchronously, which lets a validate policy run as a gate.
 *
 * Laws (memory store): it never holds more than `maxEntries` keys; a key set again since the oldest
 * key was inserted outlives it; a value set with a TTL is gone once the TTL has passed on its clock.
 *
 * @module
 */

import { systemClock, type Clock } from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';

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
   * The most keys held; setting one more evicts the key set longest ago (keys set again since get a
   * second chance).
   * @default 10_000
   */
  readonly maxEntries?: number;
  /**
   * The clock TTLs are measured on.
   * @default systemClock
   */
  readonly clock?: Clock;
}

/** One key's value in the memory store, updated in place when the key is set again. */
interface Slot<V> {
  value: V;
  /** When the value expires on the store's clock; `Infinity` without a TTL. */
  expiresAt: number;
  /** Set again since it was last moved to the back of the eviction order. */
  recent: boolean;
}

/**
 * A bounded in-memory store that answers synchronously.
 *
 * Eviction is least-recently-set with a second chance: setting a key that is held only updates it in
 * place and marks it; when a new key needs room, marked keys at the front of the insertion order are
 * moved to the back (and unmarked) until an unmarked one is found and evicted. So setting a held key
 * costs one `Map` lookup, and eviction is O(1) amortised.
 *
 * @example
 * ```ts
 * import { VirtualClock } from '@bulwark/testkit';
 * const clock = new VirtualClock();
 * const store = new MemoryStore<string>({ clock, maxEntries: 100 });
 * store.set('session', 'x', 1000);
 * await clock.advance(1000);
 * assert.equal(store.get('session'), undefined);
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export class MemoryStore<V> implements KeyValueStore<V> {
  readonly synchronous = true;
  readonly maxEntries: number;
  private readonly clock: Clock;
  private readonly slots = new Map<string, Slot<V>>();

  constructor(options: MemoryStoreOptions = {}) {
    const check = optionChecker('@bulwark/validate');
    check.object('options', options);
    this.maxEntries = check.integer('maxEntries', options.maxEntries, 10_000, { min: 1 });
    const clock = options.clock ?? systemClock;
    if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function')
      check.fail('clock', 'a Clock', clock);
    this.clock = clock;
  }

  /** How many keys are held (expired ones included until they are read or evicted). */
  get size(): number {
    return this.slots.size;
  }

  /** The value under `key`, or `undefined` when there is none or its TTL has passed. */
  get(key: string): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt !== Number.POSITIVE_INFINITY && this.clock.now() >= slot.expiresAt) {
      this.slots.delete(key);
      return undefined;
    }
    return slot.value;
  }

  /** Stores `value` under `key`, forgotten after `ttl` milliseconds when given (and above 0). */
  set(key: string, value: V, ttl?: number): true {
    const expiresAt =
      ttl !== undefined && ttl > 0 && Number.isFinite(ttl) ? this.clock.now() + ttl : Number.POSITIVE_INFINITY;
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      slot.value = value;
      slot.expiresAt = expiresAt;
      slot.recent = true;
      return true;
    }
    if (this.slots.size >= this.maxEntries) this.evictOne();
    this.slots.set(key, { value, expiresAt, recent: false });
    return true;
  }

  /** Forgets `key`; says whether it was there. */
  delete(key: string): boolean {
    return this.slots.delete(key);
  }

  /** Forgets every key. */
  clear(): void {
    this.slots.clear();
  }

  /** Evicts the key set longest ago, giving keys set again since a second chance. */
  private evictOne(): void {
    for (const [key, slot] of this.slots) {
      this.slots.delete(key);
      if (!slot.recent) return;
      slot.recent = false;
      this.slots.set(key, slot);
    }
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
