/**
 * The bulkhead's queue: a ring buffer of plain slots (the waiter's `resolve`, its scope, when it
 * queued), so a queued call costs the queue 24 bytes and no object of its own, and a queue of any
 * length drains in linear time. This is most of what a long queue costs: draining 100,000 calls was
 * about 60 % garbage collection, and every byte a waiter holds is copied by each collection it lives
 * through.
 *
 * A waiter whose caller aborted leaves in O(1): its slot becomes a hole that `shift` steps over. Holes
 * never make the ring grow: when it is full and at most half of it is live, it is compacted instead,
 * so it holds at most twice the live waiters (and shrinks again as the queue empties).
 *
 * Only a waiter that can abort gets an object ({@link Watched}): its slot and its place in its
 * signal's group. Node's `EventTarget` scans a signal's listeners on every `addEventListener`
 * and `removeEventListener`, so one listener per waiter on a signal many calls share (an
 * application's shutdown signal) would make a long queue quadratic. Instead, waiters are grouped by
 * signal: a {@link SignalGroup} is the one listener of its signal and links its waiters, and it stops
 * listening when its last waiter leaves.
 *
 * @module
 */

import type { Scope } from '@bulwark/core';

type Resolve = (token: undefined) => void;

/** A queued call that can abort: where it waits, and its signal's group. */
export class Watched {
  /** Its slot in the ring (kept up to date when the ring is resized). */
  slot = -1;
  group: SignalGroup | undefined = undefined;
  groupPrev: Watched | undefined = undefined;
  groupNext: Watched | undefined = undefined;

  constructor(readonly scope: Scope) {}
}

const MIN_CAPACITY = 16;

/** A FIFO of waiting calls with O(1) removal of one that aborted. */
export class WaitQueue {
  /** How many calls wait (holes left by aborted ones not counted). */
  size = 0;
  /** Set by {@link WaitQueue.shift}: the scope and the queueing time of the waiter it took out. */
  shiftedScope: Scope | undefined = undefined;
  shiftedAt = 0;
  shiftedWatch: Watched | undefined = undefined;

  // A slot is live while its `resolves` entry is set; `owners` holds the scope, or the Watched of a
  // waiter that can abort. Allocated on the first wait: most bulkheads rarely queue.
  private resolves: (Resolve | undefined)[] = [];
  private owners: (Scope | Watched | undefined)[] = [];
  private since = new Float64Array(0);
  private mask = -1;
  private head = 0;
  /** Slots in use from `head` on, holes included. */
  private span = 0;

  /** How many slots the ring has now (holes and free ones included). */
  get capacity(): number {
    return this.resolves.length;
  }

  /** Queues a waiter at the back. */
  push(resolve: Resolve, owner: Scope | Watched, queuedAt: number): void {
    const capacity = this.resolves.length;
    if (this.span === capacity) {
      if (capacity === 0) this.resize(MIN_CAPACITY);
      else if (this.size <= capacity >> 1) this.resize(capacity);
      else if (this.head === 0 && this.size === this.span) this.extend(capacity * 2);
      else this.resize(capacity * 2);
    }
    const slot = (this.head + this.span) & this.mask;
    this.resolves[slot] = resolve;
    this.owners[slot] = owner;
    this.since[slot] = queuedAt;
    if (owner instanceof Watched) owner.slot = slot;
    this.span++;
    this.size++;
  }

  /**
   * Takes the oldest waiter out and returns its `resolve`, leaving its scope, queueing time and
   * {@link Watched} (if any) in `shiftedScope`, `shiftedAt` and `shiftedWatch`; returns `undefined`
   * when none waits.
   */
  shift(): Resolve | undefined {
    const { resolves, owners, mask } = this;
    while (this.span > 0) {
      const slot = this.head;
      const resolve = resolves[slot];
      this.head = (slot + 1) & mask;
      this.span--;
      if (resolve === undefined) continue;
      const owner = owners[slot] as Scope | Watched;
      resolves[slot] = undefined;
      owners[slot] = undefined;
      this.size--;
      if (owner instanceof Watched) {
        owner.slot = -1;
        this.shiftedWatch = owner;
        this.shiftedScope = owner.scope;
      } else {
        this.shiftedWatch = undefined;
        this.shiftedScope = owner;
      }
      this.shiftedAt = this.since[slot] as number;
      // Shrink to a quarter once an eighth is in use: a draining queue copies what is left a few times,
      // not at every halving.
      if (this.size < resolves.length >> 3 && resolves.length > MIN_CAPACITY) {
        this.resize(Math.max(MIN_CAPACITY, resolves.length >> 2));
      }
      return resolve;
    }
    this.shiftedScope = this.shiftedWatch = undefined;
    return undefined;
  }

  /** When the waiter in `slot` queued. */
  queuedAt(slot: number): number {
    return this.since[slot] as number;
  }

  /** Takes an aborted waiter out, leaving a hole; returns its `resolve` (`undefined` if it already left). */
  remove(watched: Watched): Resolve | undefined {
    const slot = watched.slot;
    if (slot < 0) return undefined;
    watched.slot = -1;
    const resolve = this.resolves[slot];
    this.resolves[slot] = undefined;
    this.owners[slot] = undefined;
    this.size--;
    return resolve;
  }

  /**
   * Grows a ring that starts at slot 0 and has no holes in place: every waiter keeps its slot, so
   * nothing is copied one by one (a queue filled at once, as a burst does, only ever grows this way).
   */
  private extend(capacity: number): void {
    const { resolves, owners } = this;
    for (let slot = resolves.length; slot < capacity; slot++) {
      resolves.push(undefined);
      owners.push(undefined);
    }
    const since = new Float64Array(capacity);
    since.set(this.since);
    this.since = since;
    this.mask = capacity - 1;
  }

  /** Moves the live waiters, in order, into a ring of `capacity` slots (a power of two). */
  private resize(capacity: number): void {
    const { resolves, owners, since, mask, span } = this;
    const nextResolves = new Array<Resolve | undefined>(capacity).fill(undefined);
    const nextOwners = new Array<Scope | Watched | undefined>(capacity).fill(undefined);
    const nextSince = new Float64Array(capacity);
    let live = 0;
    for (let i = 0, slot = this.head; i < span; i++, slot = (slot + 1) & mask) {
      const resolve = resolves[slot];
      if (resolve === undefined) continue;
      const owner = owners[slot];
      nextResolves[live] = resolve;
      nextOwners[live] = owner;
      nextSince[live] = since[slot] as number;
      if (owner instanceof Watched) owner.slot = live;
      live++;
    }
    this.resolves = nextResolves;
    this.owners = nextOwners;
    this.since = nextSince;
    this.mask = capacity - 1;
    this.head = 0;
    this.span = live;
  }
}

/** The waiters of one queue whose calls abort with one signal, and that signal's one listener. */
class SignalGroup {
  private head: Watched | undefined = undefined;

  constructor(
    readonly signal: AbortSignal,
    private readonly owner: AbortWatch,
  ) {}

  add(waiter: Watched): void {
    if (this.head === undefined) this.signal.addEventListener('abort', this);
    waiter.group = this;
    waiter.groupNext = this.head;
    if (this.head !== undefined) this.head.groupPrev = waiter;
    this.head = waiter;
  }

  delete(waiter: Watched): void {
    const { groupPrev, groupNext } = waiter;
    if (groupPrev === undefined) this.head = groupNext;
    else groupPrev.groupNext = groupNext;
    if (groupNext !== undefined) groupNext.groupPrev = groupPrev;
    waiter.group = waiter.groupPrev = waiter.groupNext = undefined;
    if (this.head === undefined) {
      this.signal.removeEventListener('abort', this);
      this.owner.groups.delete(this.signal);
    }
  }

  /** The signal's `abort` listener: every waiter of the group leaves, oldest last. */
  handleEvent(): void {
    for (let waiter = this.head; waiter !== undefined; waiter = this.head) {
      this.delete(waiter);
      this.owner.onAbort(waiter);
    }
  }
}

/** Watches the signals of one queue's waiters, calling `onAbort` for each waiter whose call aborts. */
export class AbortWatch {
  /** @internal */ readonly groups = new WeakMap<AbortSignal, SignalGroup>();

  constructor(/** @internal */ readonly onAbort: (waiter: Watched) => void) {}

  watch(waiter: Watched, signal: AbortSignal): void {
    let group = this.groups.get(signal);
    if (group === undefined) this.groups.set(signal, (group = new SignalGroup(signal, this)));
    group.add(waiter);
  }

  /** Stops watching `waiter` (it left the queue); does nothing if it was not watched. */
  unwatch(waiter: Watched): void {
    waiter.group?.delete(waiter);
  }
}
