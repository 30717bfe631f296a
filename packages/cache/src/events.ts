/**
 * The events a cache policy emits. Per-call events carry the call's `context`.
 *
 * @module
 */

import type { Context, PolicyEvent } from '@bulwark/core';

/**
 * A call was answered from the cache: an entry at most `ttlMs` old.
 *
 * @category events
 * @since 0.1.0
 */
export interface CacheHitEvent extends PolicyEvent {
  readonly type: 'hit';
  readonly context: Context;
  readonly key: string;
  /** The entry's age, in milliseconds. */
  readonly ageMs: number;
  /** Where the entry came from: the in-process L1 or the store. */
  readonly source: 'l1' | 'store';
}

/**
 * A call was answered by the origin: there was no entry fresh enough.
 *
 * @category events
 * @since 0.1.0
 */
export interface CacheMissEvent extends PolicyEvent {
  readonly type: 'miss';
  readonly context: Context;
  readonly key: string;
  /** Whether this call shared another call's origin call (single flight) rather than making its own. */
  readonly coalesced: boolean;
}

/**
 * A call was answered with an entry past its TTL: while it is refreshed in the background
 * (`revalidate`), or because the origin failed (`error`).
 *
 * @category events
 * @since 0.1.0
 */
export interface CacheStaleEvent extends PolicyEvent {
  readonly type: 'stale';
  readonly context: Context;
  readonly key: string;
  /** The entry's age, in milliseconds. */
  readonly ageMs: number;
  readonly reason: 'revalidate' | 'error';
  /** With `reason: 'error'`: the origin's error the entry stands in for. */
  readonly error?: unknown;
}

/**
 * A background refresh (stale-while-revalidate) ended.
 *
 * @category events
 * @since 0.1.0
 */
export interface CacheRefreshEvent extends PolicyEvent {
  readonly type: 'refresh';
  /** The call that started the refresh. */
  readonly context: Context;
  readonly key: string;
  /** Whether the origin's call succeeded (and its result was stored). */
  readonly ok: boolean;
  /** When it did not: the origin's error. The stale entry stays. */
  readonly error?: unknown;
}

/**
 * The store failed, answered too late, or held something that is not an entry; or a result could not
 * be stored. The call went on without the cache: this never fails a call.
 *
 * @category events
 * @since 0.1.0
 */
export interface CacheStoreErrorEvent extends PolicyEvent {
  readonly type: 'store-error';
  /** The call it happened in, when it happened in one. */
  readonly context?: Context;
  /** The entry's key, when the failure concerns one. */
  readonly key?: string;
  /**
   * What failed: reading (`get`), writing (`set`), deleting (`delete`), clearing the namespace (`clear`),
   * an entry read back that is not one (`decode`: it was not served), a result that is not JSON data
   * (`encode`: it was returned but not stored), or an error the store reported on its own (`store`).
   */
  readonly operation: 'get' | 'set' | 'delete' | 'clear' | 'decode' | 'encode' | 'store';
  readonly error: unknown;
}

/**
 * Every event of a cache policy.
 *
 * @category events
 * @since 0.1.0
 */
export type CacheEvent = CacheHitEvent | CacheMissEvent | CacheStaleEvent | CacheRefreshEvent | CacheStoreErrorEvent;
