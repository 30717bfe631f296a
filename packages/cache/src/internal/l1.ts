/**
 * The optional in-process L1: a bounded LRU of entries in front of the store, each trusted for a short
 * time of its own (`ttlMs`) before the store is asked again.
 *
 * The L1 is what keeps a hot key off the network. Its TTL bounds how long this process may serve an
 * entry that another process has replaced or invalidated in the shared store. An L1 copy past that
 * TTL is not served as a hit, but it is kept (until evicted) as the fallback for when the store cannot
 * be read: then it stands in for the store's entry.
 *
 * @module
 */

import { LRUCache } from 'lru-cache';

import type { Entry } from '../entry.js';

/** An entry and when this process put it in the L1 (on the policy's clock). */
export interface L1Node {
  readonly entry: Entry;
  readonly at: number;
}

export class L1 {
  private readonly lru: LRUCache<string, L1Node>;

  constructor(
    maxEntries: number,
    /** How long an L1 copy is served without asking the store, in milliseconds. */
    readonly ttlMs: number,
  ) {
    this.lru = new LRUCache<string, L1Node>({ max: maxEntries });
  }

  get(key: string): L1Node | undefined {
    return this.lru.get(key);
  }

  set(key: string, entry: Entry, now: number): void {
    this.lru.set(key, { entry, at: now });
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }

  get size(): number {
    return this.lru.size;
  }
}
