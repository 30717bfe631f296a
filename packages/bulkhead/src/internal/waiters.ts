/**
 * The bulkhead's queue: an intrusive doubly linked list, so enqueue, dequeue and the removal of a
 * waiter whose caller aborted are all O(1), and a queue of any length drains in linear time.
 *
 * Abort listening is O(1) per waiter too. Node's `EventTarget` scans a signal's listeners on every
 * `addEventListener` and `removeEventListener`, so one listener per waiter on a signal many calls
 * share (an application's shutdown signal) would make a long queue quadratic. Instead, waiters are
 * grouped by signal: a {@link SignalGroup} is the one listener of its signal and links its waiters,
 * and it stops listening when its last waiter leaves.
 *
 * @module
 */

import type { Scope } from '@bulwark/core';

/** One queued call. */
export class Waiter {
  /** Neighbours in the queue. */
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  /** Neighbours in its signal's group. */
  groupPrev: Waiter | undefined = undefined;
  groupNext: Waiter | undefined = undefined;
  group: SignalGroup | undefined = undefined;
  queued = true;
  resolve!: (token: undefined) => void;
  reject!: (reason: unknown) => void;

  constructor(
    readonly scope: Scope,
    /** When it was queued, on the owner's clock. */
    readonly queuedAt: number,
  ) {}
}

/** A FIFO of {@link Waiter}s with O(1) removal anywhere. */
export class WaiterQueue {
  private head: Waiter | undefined = undefined;
  private tail: Waiter | undefined = undefined;
  size = 0;

  push(waiter: Waiter): void {
    waiter.prev = this.tail;
    if (this.tail === undefined) this.head = waiter;
    else this.tail.next = waiter;
    this.tail = waiter;
    this.size++;
  }

  /** Takes the oldest waiter out, or returns `undefined` when none waits. */
  shift(): Waiter | undefined {
    const waiter = this.head;
    if (waiter !== undefined) this.remove(waiter);
    return waiter;
  }

  /** Takes `waiter` out wherever it is; does nothing if it already left. */
  remove(waiter: Waiter): void {
    if (!waiter.queued) return;
    waiter.queued = false;
    const { prev, next } = waiter;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    waiter.prev = waiter.next = undefined;
    this.size--;
  }
}

/** The waiters of one queue whose calls abort with one signal, and that signal's one listener. */
class SignalGroup {
  private head: Waiter | undefined = undefined;

  constructor(
    readonly signal: AbortSignal,
    private readonly owner: AbortWatch,
  ) {}

  add(waiter: Waiter): void {
    if (this.head === undefined) this.signal.addEventListener('abort', this);
    waiter.group = this;
    waiter.groupNext = this.head;
    if (this.head !== undefined) this.head.groupPrev = waiter;
    this.head = waiter;
  }

  delete(waiter: Waiter): void {
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

  constructor(/** @internal */ readonly onAbort: (waiter: Waiter) => void) {}

  watch(waiter: Waiter, signal: AbortSignal): void {
    let group = this.groups.get(signal);
    if (group === undefined) this.groups.set(signal, (group = new SignalGroup(signal, this)));
    group.add(waiter);
  }

  /** Stops watching `waiter` (it left the queue); does nothing if it was not watched. */
  unwatch(waiter: Waiter): void {
    waiter.group?.delete(waiter);
  }
}
