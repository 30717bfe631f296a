/**
 * The bulkhead policy: at most `capacity` calls run at once, up to `queueSize` more wait in FIFO
 * order, and any beyond that are rejected at once with a {@link BulkheadRejectedError}.
 *
 * It is a gate (ADR 0001) that `waits`: with a free slot, `enter` counts the call and returns
 * `undefined` synchronously (no promise, no allocation); with every slot taken it returns a promise
 * that settles when a slot is handed over; with the queue full it throws. A slot that frees goes
 * straight to the oldest waiter, so a newcomer never overtakes the queue. A waiter whose caller
 * aborts leaves the queue at once (O(1)), rejects with the abort reason, and never runs.
 *
 * Laws (test/laws.test.ts): running never exceeds `capacity`, queued never exceeds `queueSize`,
 * every admitted call runs exactly once, admission is FIFO, aborted waiters never run.
 *
 * @module
 */

import {
  definePolicy,
  Emitter,
  PASS,
  refuse,
  systemClock,
  type Clock,
  type Context,
  type Gate,
  type Health,
  type HealthSource,
  type Policy,
  type PolicyEvent,
  type Refusal,
  type Scope,
} from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';

import { admission } from './admission.js';
import { BulkheadRejectedError } from './errors.js';
import { AbortWatch, WaitQueue, Watched } from './internal/waiters.js';

/**
 * Options of {@link bulkhead}.
 *
 * @category models
 * @since 0.1.0
 */
export interface BulkheadOptions {
  /** How many calls may run at once: a positive integer. */
  readonly capacity: number;
  /**
   * How many more calls may wait for a slot, in FIFO order: a non-negative integer, or `Infinity`
   * for an unbounded queue. With `0`, a call that finds every slot busy is rejected at once.
   *
   * @default 0
   */
  readonly queueSize?: number;
  /**
   * The policy's name in events, errors and health reports.
   *
   * @default 'bulkhead'
   */
  readonly name?: string;
  /**
   * Where time is read (only to measure how long calls waited in the queue).
   *
   * @default systemClock
   */
  readonly clock?: Clock;
}

/**
 * A call took a slot: at once (`waitedMs` 0) or after waiting in the queue.
 *
 * @category events
 * @since 0.1.0
 */
export interface BulkheadAdmittedEvent extends PolicyEvent {
  readonly type: 'admitted';
  readonly context: Context;
  /** How long the call waited in the queue, in milliseconds. */
  readonly waitedMs: number;
}

/**
 * A call found every slot busy and joined the queue.
 *
 * @category events
 * @since 0.1.0
 */
export interface BulkheadQueuedEvent extends PolicyEvent {
  readonly type: 'queued';
  readonly context: Context;
  /** How many calls wait now, this one included. */
  readonly queued: number;
}

/**
 * A call was rejected because every slot was busy and the queue was full.
 *
 * @category events
 * @since 0.1.0
 */
export interface BulkheadRejectedEvent extends PolicyEvent {
  readonly type: 'rejected';
  readonly context: Context;
  readonly running: number;
  readonly queued: number;
}

/**
 * A queued call's caller aborted: the call left the queue without running.
 *
 * @category events
 * @since 0.1.0
 */
export interface BulkheadAbandonedEvent extends PolicyEvent {
  readonly type: 'abandoned';
  readonly context: Context;
  /** How long it had waited, in milliseconds. */
  readonly waitedMs: number;
  /** The abort reason it was rejected with. */
  readonly reason: unknown;
}

/**
 * Every event a bulkhead emits.
 *
 * @category events
 * @since 0.1.0
 */
export type BulkheadEvent =
  BulkheadAdmittedEvent | BulkheadQueuedEvent | BulkheadRejectedEvent | BulkheadAbandonedEvent;

/**
 * A bulkhead: a {@link Policy} with live figures and a health report.
 *
 * @category models
 * @since 0.1.0
 */
export interface Bulkhead extends Policy<BulkheadEvent>, HealthSource {
  readonly kind: 'bulkhead';
  /** How many calls may run at once. */
  readonly capacity: number;
  /** How many may wait (`Infinity` when unbounded). */
  readonly queueSize: number;
  /** How many calls hold a slot now. */
  readonly running: number;
  /** How many wait for one now. */
  readonly queued: number;
  /** How many slots are free now: `capacity - running`. */
  readonly free: number;
  /**
   * `healthy` while a slot is free, `degraded` while calls queue, `unhealthy` while the queue is full
   * (new calls are rejected). Details: `running`, `queued`, `capacity`, `queueSize` (`null` when unbounded).
   */
  health(): Health;
}

type Token = undefined | Promise<undefined>;

// One executor for every waiter's promise, instead of a closure per waiter: it runs synchronously
// inside `new Promise`, and the caller takes `resolve` out at once. Only `resolve` is kept, for
// admission and abort alike (an aborted waiter is resolved with a rejected promise): keeping
// `reject` too would hold one more function per waiter.
let joinedResolve: ((token: undefined) => void) | undefined;
function join(resolve: (token: undefined) => void): void {
  joinedResolve = resolve;
}

/** The gate behind a {@link Bulkhead}; its fields are the live figures. */
class BulkheadGate implements Gate<Token> {
  readonly waits = true;
  running = 0;
  readonly queue = new WaitQueue();
  private readonly watch = new AbortWatch((waiter) => this.onAbort(waiter));

  constructor(
    readonly name: string,
    readonly capacity: number,
    readonly queueSize: number,
    private readonly clock: Clock,
    private readonly events: Emitter<BulkheadEvent>,
  ) {}

  enter(ctx: Scope): Token | Refusal {
    if (this.running < this.capacity && this.queue.size === 0) {
      this.running++;
      if (this.events.active) this.events.emit({ type: 'admitted', policy: this.name, context: ctx, waitedMs: 0 });
      return undefined;
    }
    return this.wait(ctx);
  }

  exit(): number {
    this.release();
    return PASS;
  }

  /** The slow path: every slot is busy. */
  private wait(ctx: Scope): Promise<undefined> | Refusal {
    const { running, capacity, queueSize } = this;
    const queued = this.queue.size;
    if (admission(running, queued, capacity, queueSize) === 'reject') {
      if (this.events.active) this.events.emit({ type: 'rejected', policy: this.name, context: ctx, running, queued });
      // Refused without a throw: the runner rejects the call once (core's `refuse`).
      return refuse(new BulkheadRejectedError(capacity, queueSize, running, queued));
    }
    if (ctx.aborted) return Promise.reject(ctx.reason);
    const promise = new Promise<undefined>(join);
    const resolve = joinedResolve as (token: undefined) => void;
    joinedResolve = undefined;
    // A call that cannot abort (no caller signal, no timeout around it) needs no listener and no
    // object of its own: reading `signal` would make an AbortController per waiter, which dominates
    // the cost of a long queue.
    if (ctx.mayAbort) {
      const watched = new Watched(ctx);
      this.queue.push(resolve, watched, this.clock.now());
      this.watch.watch(watched, ctx.signal);
    } else {
      this.queue.push(resolve, ctx, this.clock.now());
    }
    if (this.events.active) {
      this.events.emit({ type: 'queued', policy: this.name, context: ctx, queued: this.queue.size });
    }
    return promise;
  }

  /** A call gave its slot back: hand it to the oldest waiter, or free it. */
  private release(): void {
    const queue = this.queue;
    const resolve = queue.shift();
    if (resolve === undefined) {
      this.running--;
      return;
    }
    const { shiftedScope, shiftedAt, shiftedWatch } = queue;
    queue.shiftedScope = queue.shiftedWatch = undefined;
    if (shiftedWatch !== undefined) this.watch.unwatch(shiftedWatch);
    resolve(undefined);
    if (this.events.active) {
      const waitedMs = this.clock.now() - shiftedAt;
      this.events.emit({ type: 'admitted', policy: this.name, context: shiftedScope as Scope, waitedMs });
    }
  }

  /** A waiter's call aborted (its group already let it go). */
  private onAbort(waiter: Watched): void {
    const queuedAt = this.queue.queuedAt(waiter.slot);
    const resolve = this.queue.remove(waiter);
    const reason = waiter.scope.reason;
    // Resolving with a rejected promise rejects the waiter with `reason`.
    resolve?.(Promise.reject(reason) as never);
    if (this.events.active) {
      const waitedMs = this.clock.now() - queuedAt;
      this.events.emit({ type: 'abandoned', policy: this.name, context: waiter.scope, waitedMs, reason });
    }
  }

  health(): Health {
    const { running, capacity, queueSize } = this;
    const queued = this.queue.size;
    const status =
      running < capacity
        ? 'healthy'
        : admission(running, queued, capacity, queueSize) === 'queue'
          ? 'degraded'
          : 'unhealthy';
    return {
      status,
      details: { running, queued, capacity, queueSize: Number.isFinite(queueSize) ? queueSize : null },
    };
  }
}

const check = optionChecker('@bulwark/bulkhead');

/**
 * Makes a bulkhead: at most `capacity` calls at once, up to `queueSize` more waiting in FIFO order,
 * the rest rejected with a {@link BulkheadRejectedError}.
 *
 * @throws TypeError or RangeError - when an option is invalid, naming it and the value.
 *
 * @example
 * ```ts
 * const pool = bulkhead({ capacity: 2, queueSize: 1 });
 * let release!: () => void;
 * const gate = new Promise<void>((resolve) => (release = resolve));
 * const calls = [pool.execute(() => gate), pool.execute(() => gate), pool.execute(async () => 'third')];
 * assert.equal(pool.running, 2);
 * assert.equal(pool.queued, 1);
 * await assert.rejects(pool.execute(async () => 'fourth'), isBulkheadRejectedError);
 * release();
 * assert.equal((await Promise.all(calls))[2], 'third');
 * assert.equal(pool.free, 2);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function bulkhead(options: BulkheadOptions): Bulkhead {
  const opts = check.object('options', options) as Partial<BulkheadOptions>;
  if (opts.capacity === undefined) {
    throw new TypeError(
      '@bulwark/bulkhead: expected `capacity` to be an integer >= 1 (it has no default), got undefined',
    );
  }
  const capacity = check.integer('capacity', opts.capacity, 1, { min: 1 });
  const queueSize =
    opts.queueSize === Number.POSITIVE_INFINITY
      ? opts.queueSize
      : check.integer('queueSize', opts.queueSize, 0, { min: 0 });
  const name = check.string('name', opts.name, 'bulkhead');
  const clock = check.clock('clock', opts.clock, systemClock, ['now']);

  const events = new Emitter<BulkheadEvent>();
  const gate = new BulkheadGate(name, capacity, queueSize, clock, events);
  const policy = definePolicy(name, [{ gate }], events);
  return Object.defineProperties(policy, {
    kind: { value: 'bulkhead', enumerable: true },
    capacity: { value: capacity, enumerable: true },
    queueSize: { value: queueSize, enumerable: true },
    running: { get: () => gate.running, enumerable: true },
    queued: { get: () => gate.queue.size, enumerable: true },
    free: { get: () => gate.capacity - gate.running, enumerable: true },
    health: { value: () => gate.health(), enumerable: true },
  }) as Bulkhead;
}
