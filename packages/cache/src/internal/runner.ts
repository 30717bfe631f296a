/**
 * The effectful half of the cache: the lookup (L1, then the store), single-flight origin calls,
 * background refreshes, writes and invalidation. Every decision is taken by the pure functions of
 * `../freshness.ts`; this file only sequences them.
 *
 * Laws it keeps (tests: `test/cache.test.ts`, `test/laws.test.ts`):
 * - concurrent lookups of one key share one store read;
 * - at most one origin call per key is in flight in a process, whether for a miss or for a refresh;
 *   concurrent misses of one key share it, and misses of different keys never do;
 * - a caller's abort ends only that caller's wait; the origin call is aborted when its last waiter
 *   has gone, never while one still waits;
 * - a result is stored only after the origin call succeeded, and never after its key was invalidated;
 * - a store read that an invalidation or a newer result overtook never fills the L1;
 * - nothing here rejects into the void: every background promise ends in a handler.
 *
 * @module
 */

import { Scope, type Clock, type Context, type Emitter, type Task } from '@bulwark/core';

import { jsonDataProblem, type Entry } from '../entry.js';
import { CacheExpiredError } from '../errors.js';
import type { CacheEvent } from '../events.js';
import { ageOf, fallback, verdict, type Freshness } from '../freshness.js';
import { detach, mayAbort } from './call.js';
import type { L1 } from './l1.js';
import { UNREADABLE, type ReadResult, type Store } from './store.js';

export interface RunnerConfig {
  readonly name: string;
  readonly freshness: Freshness;
  /** Which origin errors may be answered with a stale entry; `undefined` when none may. */
  readonly staleIfError: ((error: unknown) => boolean) | undefined;
  readonly clock: Clock;
  readonly store: Store;
  readonly l1: L1 | undefined;
  readonly emitter: Emitter<CacheEvent>;
}

/** What a single-flight origin call gives its waiters: the origin's result, or a stale entry in place of its error. */
interface Served {
  readonly value: unknown;
  /** The stale entry's age, in milliseconds; `-1` for the origin's own result. */
  readonly staleAgeMs: number;
  readonly error: unknown;
}

/** One origin call for a missed key, shared by every caller that misses the key while it runs. */
interface Flight {
  readonly key: string;
  /** Aborts the origin call; `undefined` when the flight shares a refresh's call (a refresh is never aborted). */
  readonly controller: AbortController | undefined;
  /** The entry at hand when the flight started: what stands in if the origin fails. */
  readonly candidate: Entry | undefined;
  waiters: number;
  settled: boolean;
  /** Set by invalidation: the result is still given to the waiters, but not stored. */
  invalidated: boolean;
  promise: Promise<Served>;
}

/** One store read, shared by the lookups of its key that start while it runs. */
interface Read {
  readonly result: Promise<ReadResult>;
  /**
   * Set when the key was invalidated or written while the read ran: what it found is still served to
   * the lookups that shared it (they began first), but it must not fill the L1, where it would undo
   * the invalidation or replace the newer entry.
   */
  superseded: boolean;
}

/** One background refresh of a key served stale. */
interface Refresh {
  readonly origin: Promise<unknown>;
  invalidated: boolean;
}

const ignore = (): void => undefined;

/** Runs `then` once `writing` is done, or at once when nothing is written. */
function afterWrite(writing: Promise<void> | undefined, then: () => void): void {
  if (writing === undefined) then();
  else void writing.then(then);
}

export class Runner {
  /** Store reads in progress: concurrent lookups of one key share one read. */
  private readonly reads = new Map<string, Read>();
  private readonly flights = new Map<string, Flight>();
  private readonly refreshes = new Map<string, Refresh>();
  private readonly freshness: Freshness;
  private readonly clock: Clock;
  private readonly store: Store;
  private readonly l1: L1 | undefined;
  private readonly emitter: Emitter<CacheEvent>;

  constructor(private readonly config: RunnerConfig) {
    this.freshness = config.freshness;
    this.clock = config.clock;
    this.store = config.store;
    this.l1 = config.l1;
    this.emitter = config.emitter;
  }

  /** Origin calls in flight (misses and refreshes). */
  get inFlight(): number {
    return this.flights.size + this.refreshes.size;
  }

  /** Answers one call for `key`: from the L1, the store, or the origin (`next`). */
  call(ctx: Context, next: Task<unknown>, key: string): PromiseLike<unknown> {
    const l1 = this.l1;
    let standIn: Entry | undefined;
    if (l1 !== undefined) {
      const node = l1.get(key);
      if (node !== undefined) {
        const now = this.clock.now();
        if (now - node.at < l1.ttlMs) {
          const age = ageOf(node.entry.t, now);
          const decided = verdict(age, this.freshness);
          if (decided !== 'expired') return Promise.resolve(this.serve(node.entry, age, decided, ctx, next, key, 'l1'));
        }
        standIn = node.entry;
      }
    }
    let read = this.reads.get(key);
    if (read === undefined) {
      const started: Read = (read = { result: this.store.read(key), superseded: false });
      this.reads.set(key, started);
      // Registered first, so it runs before the readers' callbacks: a lookup that starts after this
      // read settled makes its own.
      void started.result.then(() => {
        if (this.reads.get(key) === started) this.reads.delete(key);
      });
    }
    const shared = read;
    return shared.result.then((found) => this.afterRead(found, shared, standIn, ctx, next, key));
  }

  private afterRead(
    found: ReadResult,
    read: Read,
    standIn: Entry | undefined,
    ctx: Context,
    next: Task<unknown>,
    key: string,
  ): unknown {
    const now = this.clock.now();
    let entry: Entry | undefined;
    if (found === UNREADABLE) {
      // The store cannot be read: the L1's copy, however old, stands in for its entry.
      entry = standIn;
    } else {
      entry = found;
      if (this.l1 !== undefined && !read.superseded) {
        if (found !== undefined) this.l1.set(key, found, now);
        else if (standIn !== undefined) this.l1.delete(key);
      }
    }
    if (entry !== undefined) {
      const age = ageOf(entry.t, now);
      const decided = verdict(age, this.freshness);
      if (decided !== 'expired') {
        return this.serve(entry, age, decided, ctx, next, key, found === UNREADABLE ? 'l1' : 'store');
      }
    }
    return this.fromOrigin(ctx, next, key, entry);
  }

  /** Serves a fresh entry, or a stale one while a background call refreshes it. */
  private serve(
    entry: Entry,
    ageMs: number,
    decided: 'fresh' | 'revalidate',
    ctx: Context,
    next: Task<unknown>,
    key: string,
    source: 'l1' | 'store',
  ): unknown {
    const emitter = this.emitter;
    if (decided === 'fresh') {
      if (emitter.active) emitter.emit({ type: 'hit', policy: this.config.name, context: ctx, key, ageMs, source });
    } else {
      if (emitter.active) {
        emitter.emit({ type: 'stale', policy: this.config.name, context: ctx, key, ageMs, reason: 'revalidate' });
      }
      this.refresh(ctx, next, key);
    }
    return entry.v;
  }

  private fromOrigin(ctx: Context, next: Task<unknown>, key: string, candidate: Entry | undefined): Promise<unknown> {
    if (ctx instanceof Scope && ctx.aborted) return Promise.reject(ctx.reason);
    const flight = this.flights.get(key);
    if (flight !== undefined) return this.join(flight, ctx, key, true);
    return this.join(this.startFlight(ctx, next, key, candidate), ctx, key, false);
  }

  private startFlight(ctx: Context, next: Task<unknown>, key: string, candidate: Entry | undefined): Flight {
    const refresh = this.refreshes.get(key);
    const controller = refresh === undefined ? new AbortController() : undefined;
    const origin = refresh !== undefined ? refresh.origin : this.runOrigin(ctx, next, controller?.signal);
    const flight: Flight = {
      key,
      controller,
      candidate,
      waiters: 0,
      settled: false,
      invalidated: false,
      promise: undefined as unknown as Promise<Served>,
    };
    flight.promise = origin.then(
      (value): Served => {
        flight.settled = true;
        // A refresh stores its own result; a flight keeps its place until its write is done, so
        // a caller whose read raced the write joins it rather than calling the origin again.
        // `keep` never throws (what it cannot store, it reports): the flight always leaves the map.
        const writing = refresh === undefined && !flight.invalidated ? this.keep(key, value, ctx) : undefined;
        afterWrite(writing, () => this.land(flight));
        return { value, staleAgeMs: -1, error: undefined };
      },
      (error: unknown): Served => {
        flight.settled = true;
        this.land(flight);
        return this.standIn(key, flight.candidate, error);
      },
    );
    // The waiters observe the outcome; when all have gone, nobody does, and that is fine.
    flight.promise.catch(ignore);
    this.flights.set(key, flight);
    return flight;
  }

  /** The origin failed: a stale entry in its place, a `CacheExpiredError`, or its own error. */
  private standIn(key: string, candidate: Entry | undefined, error: unknown): Served {
    const ageMs = candidate === undefined ? undefined : ageOf(candidate.t, this.clock.now());
    const staleIfError = this.config.staleIfError;
    const allowed = ageMs !== undefined && staleIfError !== undefined && staleIfError(error);
    switch (fallback(ageMs, allowed, this.freshness)) {
      case 'serve-stale':
        return { value: (candidate as Entry).v, staleAgeMs: ageMs as number, error };
      case 'expired':
        throw new CacheExpiredError(key, ageMs as number, this.freshness.maxStaleAgeMs, error);
      case 'rethrow':
        throw error;
    }
  }

  /** Waits for a flight on behalf of one caller, who may stop waiting (abort) without ending it for the others. */
  private join(flight: Flight, ctx: Context, key: string, coalesced: boolean): Promise<unknown> {
    flight.waiters++;
    if (!mayAbort(ctx)) {
      // A caller who cannot abort waits to the end: no listener, and no signal made for it.
      return flight.promise.then(
        (served) => {
          flight.waiters--;
          this.delivered(served, ctx, key, coalesced);
          return served.value;
        },
        (error: unknown) => {
          flight.waiters--;
          throw error;
        },
      );
    }
    const signal = ctx.signal;
    return new Promise((resolve, reject) => {
      let done = false;
      const onAbort = (): void => {
        if (done) return;
        done = true;
        this.leave(flight, signal.reason);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (served) => {
          if (done) return;
          done = true;
          signal.removeEventListener('abort', onAbort);
          flight.waiters--;
          this.delivered(served, ctx, key, coalesced);
          resolve(served.value);
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          signal.removeEventListener('abort', onAbort);
          flight.waiters--;
          reject(error);
        },
      );
    });
  }

  private delivered(served: Served, ctx: Context, key: string, coalesced: boolean): void {
    const emitter = this.emitter;
    if (!emitter.active) return;
    if (served.staleAgeMs < 0) {
      emitter.emit({ type: 'miss', policy: this.config.name, context: ctx, key, coalesced });
    } else {
      emitter.emit({
        type: 'stale',
        policy: this.config.name,
        context: ctx,
        key,
        ageMs: served.staleAgeMs,
        reason: 'error',
        error: served.error,
      });
    }
  }

  /** A waiter aborted. The last one to go aborts the origin call, and a new miss starts afresh. */
  private leave(flight: Flight, reason: unknown): void {
    flight.waiters--;
    if (flight.waiters > 0 || flight.settled || flight.controller === undefined) return;
    this.land(flight);
    flight.controller.abort(reason);
  }

  /** Removes a flight from the map, unless another has already taken its place. */
  private land(flight: Flight): void {
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key);
  }

  /** Starts one background refresh of `key`, unless an origin call for it is already running. */
  private refresh(ctx: Context, next: Task<unknown>, key: string): void {
    if (this.refreshes.has(key) || this.flights.has(key)) return;
    const refresh: Refresh = { origin: this.runOrigin(ctx, next, undefined), invalidated: false };
    this.refreshes.set(key, refresh);
    const done = (): void => {
      if (this.refreshes.get(key) === refresh) this.refreshes.delete(key);
    };
    refresh.origin.then(
      (value) => {
        afterWrite(refresh.invalidated ? undefined : this.keep(key, value, ctx), done);
        this.refreshed(ctx, key, true, undefined);
      },
      (error: unknown) => {
        done();
        this.refreshed(ctx, key, false, error);
      },
    );
  }

  private refreshed(ctx: Context, key: string, ok: boolean, error: unknown): void {
    const emitter = this.emitter;
    if (!emitter.active) return;
    emitter.emit(
      ok
        ? { type: 'refresh', policy: this.config.name, context: ctx, key, ok }
        : { type: 'refresh', policy: this.config.name, context: ctx, key, ok, error },
    );
  }

  /** Runs the rest of the call (`next`) detached from the caller's signal, under `signal` instead. */
  private runOrigin(ctx: Context, next: Task<unknown>, signal: AbortSignal | undefined): Promise<unknown> {
    try {
      return Promise.resolve(next(detach(ctx, signal)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Stores an origin's result in the L1 and the store; `undefined` when it is not JSON data, or cannot
   * even be read (a property getter that throws): reported, never thrown.
   */
  private keep(key: string, value: unknown, ctx: Context): Promise<void> | undefined {
    let problem: string | undefined;
    let cause: unknown;
    try {
      problem = jsonDataProblem(value);
    } catch (error) {
      // The getter's error goes in `cause`, not in the message: it may quote the data.
      problem = 'reading it threw';
      cause = error;
    }
    if (problem !== undefined) {
      const emitter = this.emitter;
      if (emitter.active) {
        const message = `@bulwark/cache: the result was returned but not stored: ${problem}`;
        emitter.emit({
          type: 'store-error',
          policy: this.config.name,
          context: ctx,
          key,
          operation: 'encode',
          error: cause === undefined ? new TypeError(message) : new TypeError(message, { cause }),
        });
      }
      return undefined;
    }
    const now = this.clock.now();
    const entry: Entry = { v: value, t: now };
    this.supersedeRead(key);
    this.l1?.set(key, entry, now);
    return this.store.write(key, entry);
  }

  /** A read of `key` still running found what is now out of date: it must not fill the L1. */
  private supersedeRead(key: string): void {
    const read = this.reads.get(key);
    if (read === undefined) return;
    read.superseded = true;
    this.reads.delete(key);
  }

  /** Forgets `key`: its L1 copy, its store entry, and the result of any origin call for it now running. */
  invalidate(key: string): Promise<void> {
    this.l1?.delete(key);
    this.supersedeRead(key);
    const flight = this.flights.get(key);
    if (flight !== undefined) {
      flight.invalidated = true;
      this.flights.delete(key);
    }
    const refresh = this.refreshes.get(key);
    if (refresh !== undefined) {
      refresh.invalidated = true;
      this.refreshes.delete(key);
    }
    return this.store.remove(key);
  }

  /** Forgets every key of the namespace. */
  invalidateAll(): Promise<void> {
    this.l1?.clear();
    for (const read of this.reads.values()) read.superseded = true;
    this.reads.clear();
    for (const flight of this.flights.values()) flight.invalidated = true;
    for (const refresh of this.refreshes.values()) refresh.invalidated = true;
    this.flights.clear();
    this.refreshes.clear();
    return this.store.clear();
  }
}
