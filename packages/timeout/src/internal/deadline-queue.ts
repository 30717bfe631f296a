/**
 * A deadline queue: the pending calls of every timeout with the same duration on the same clock, and
 * the timers they share.
 *
 * Calls with the same duration expire in the order they started, so the queue is a FIFO: joining
 * appends, a call that settles in time unlinks its entry (a doubly linked list, O(1) anywhere), and one
 * timer, the **alarm**, is armed for the head's deadline. When it fires, every entry past its deadline
 * expires and the alarm is armed again for the new head.
 *
 * Joining does not read the clock: a clock read costs about as much as a bare async call, so reading it
 * per call would double the price of a call that never times out. A new entry joins **unstamped**,
 * at the tail, and a second timer, the **tick**, armed for 1 ms by the first unstamped entry, reads the
 * clock once and stamps every entry still pending with `deadline = now + timeoutMs`. An entry's stamp is
 * taken after it joined and at most 1 ms later (on a real clock: the timers' resolution, and any time
 * the event loop was blocked), so a call never times out early and at most 1 ms late. Entries that
 * settle within the millisecond are never stamped at all, and a burst of calls costs one tick.
 *
 * The success path arms nothing and clears nothing. A call that finds the tick armed joins its batch;
 * the alarm stays armed after the queue empties, fires on its own deadline, finds nothing due and is
 * armed again only if something is pending. Clearing it when the queue empties and arming it again for
 * the next call would be the per-call timer this design avoids. Neither timer keeps the process alive
 * (`keepAlive: false`): at worst the alarm fires once, `timeoutMs` after the last call, and does nothing.
 *
 * Entries are pooled (a free list), so a queue allocates nothing per call once it has seen its peak
 * number of calls in flight.
 *
 * Laws (test/deadline-queue.test.ts, test/laws.test.ts): an entry expires `timeoutMs` after it joined,
 * never before and at most 1 ms later (on the virtual clock); an entry that leaves first never expires;
 * the queue holds at most two timers (the tick only while entries join), and none once the last
 * deadline has passed.
 *
 * @module
 */

import type { Clock, Scope, TimerHandle } from '@bulwark/core';

// Where an entry is in its life (small integers: compared on every call).
/** In the queue, its deadline not passed. */
export const QUEUED = 0;
/** Its deadline passed while its call ran: the call timed out. */
export const EXPIRED = 1;
/** Its deadline passed after the caller had aborted the call: not a timeout. */
export const DROPPED = 2;
/** In the pool. */
export const FREE = 3;
/** Where an entry is in its life. */
export type EntryState = typeof QUEUED | typeof EXPIRED | typeof DROPPED | typeof FREE;

/** What expires entries: a timeout's gate. */
export interface ExpiryHandler {
  /** The entry's deadline passed while its call was pending; the queue has unlinked it. */
  expire(entry: Entry): void;
}

/** One pending call. Pooled: every field is reset when it is reused. */
export class Entry {
  state: EntryState = FREE;
  /** When the call times out, on the queue's clock; set by the tick after the entry joins. */
  deadline = 0;
  /** The call's scope (the one its task runs in). */
  scope: Scope | undefined = undefined;
  /** The gate that entered it: several timeouts of one duration share a queue. */
  owner: ExpiryHandler | undefined = undefined;
  prev: Entry | undefined = undefined;
  next: Entry | undefined = undefined;
}

/** How long a new entry may wait for its stamp, in milliseconds: the most a call can time out late. */
export const STAMP_EVERY_MS = 1;

/** Free entries kept per queue for reuse: more than most services have in flight per timeout. */
const POOL_SIZE = 1024;

/** The calls pending under every timeout of one duration on one clock. */
export class DeadlineQueue {
  private head: Entry | undefined = undefined;
  private tail: Entry | undefined = undefined;
  /** The oldest entry not stamped yet; every entry after it is unstamped too. */
  private unstamped: Entry | undefined = undefined;
  /** How many entries are queued. */
  size = 0;
  // `TimerHandle` is `unknown`: `undefined` stands for "not armed" (no clock returns it for a timer).
  private alarm: TimerHandle = undefined;
  private tick: TimerHandle = undefined;
  /** The latest time the queue has read, to notice a clock that steps back. */
  private lastNow = Number.NEGATIVE_INFINITY;
  private free: Entry | undefined = undefined;
  private freeCount = 0;

  constructor(
    private readonly clock: Clock,
    readonly timeoutMs: number,
  ) {}

  /** How many of the queue's timers are armed (for tests and the laws). */
  get timers(): number {
    return (this.alarm !== undefined ? 1 : 0) + (this.tick !== undefined ? 1 : 0);
  }

  /** Queues a call that starts now; returns its entry. */
  push(scope: Scope, owner: ExpiryHandler): Entry {
    let entry = this.free;
    if (entry !== undefined) {
      this.free = entry.next;
      this.freeCount--;
      entry.next = undefined;
    } else {
      entry = new Entry();
    }
    entry.state = QUEUED;
    entry.scope = scope;
    entry.owner = owner;
    const tail = this.tail;
    entry.prev = tail;
    if (tail === undefined) this.head = entry;
    else tail.next = entry;
    this.tail = entry;
    this.size++;
    if (this.unstamped === undefined) {
      this.unstamped = entry;
      if (this.tick === undefined) this.tick = this.clock.setTimer(this.stamp, STAMP_EVERY_MS, false);
    }
    return entry;
  }

  /** Takes a queued entry out (its call settled in time). */
  remove(entry: Entry): void {
    const { prev, next } = entry;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    if (entry === this.unstamped) this.unstamped = next;
    entry.prev = entry.next = undefined;
    this.size--;
  }

  /** Gives an entry that left the queue back to the pool. */
  release(entry: Entry): void {
    entry.state = FREE;
    entry.scope = undefined;
    entry.owner = undefined;
    if (this.freeCount >= POOL_SIZE) return;
    entry.next = this.free;
    this.free = entry;
    this.freeCount++;
  }

  /** The tick: stamps the entries that joined since the last one, and makes sure the alarm is armed. */
  private readonly stamp = (): void => {
    this.tick = undefined;
    const now = this.read();
    const deadline = now + this.timeoutMs;
    for (let entry = this.unstamped; entry !== undefined; entry = entry.next) entry.deadline = deadline;
    this.unstamped = undefined;
    if (this.alarm === undefined && this.head !== undefined) this.armAlarm(now);
  };

  /** The alarm: expires every stamped entry past its deadline, then arms itself for the next. */
  private readonly ring = (): void => {
    this.alarm = undefined;
    const now = this.read();
    for (let entry = this.head; entry !== undefined && entry !== this.unstamped && entry.deadline <= now;) {
      this.remove(entry);
      (entry.owner as ExpiryHandler).expire(entry);
      entry = this.head;
    }
    this.armAlarm(now);
  };

  /** Arms the alarm for the head's deadline, if the head is stamped (the tick arms it otherwise). */
  private armAlarm(now: number): void {
    const head = this.head;
    if (head !== undefined && head !== this.unstamped) {
      this.alarm = this.clock.setTimer(this.ring, head.deadline - now, false);
    }
  }

  /** Reads the clock; a clock that stepped back moves every stamped deadline with it. */
  private read(): number {
    const now = this.clock.now();
    if (now < this.lastNow) {
      // A wall clock set back: what was due in `x` ms is still due in `x` ms, instead of waiting for
      // the clock to catch up. (The queue cannot tell the step from the time since its last reading,
      // which moves the deadlines too: by at most `timeoutMs` while anything is pending.)
      const shift = now - this.lastNow;
      for (let entry = this.head; entry !== undefined && entry !== this.unstamped; entry = entry.next) {
        entry.deadline += shift;
      }
    }
    this.lastNow = now;
    return now;
  }
}

/**
 * One queue per duration per clock, shared by every timeout policy with that duration on that clock.
 * Held weakly: the policies (and, while armed, the queue's own timers) keep a queue alive, so a
 * service that makes a timeout per request with the time left in its budget (a new duration each
 * time) does not keep a queue for every duration it ever used. The registry drops a collected queue's
 * slot from its map.
 */
const queues = new WeakMap<Clock, Map<number, WeakRef<DeadlineQueue>>>();
const forgetCollected = new FinalizationRegistry<{
  readonly byDuration: Map<number, WeakRef<DeadlineQueue>>;
  readonly timeoutMs: number;
}>(({ byDuration, timeoutMs }) => {
  // The slot may hold a newer queue of the same duration by now.
  if (byDuration.get(timeoutMs)?.deref() === undefined) byDuration.delete(timeoutMs);
});

/** The deadline queue of `timeoutMs` on `clock`, made on first use (a policy's construction, not a call). */
export function deadlineQueue(clock: Clock, timeoutMs: number): DeadlineQueue {
  let byDuration = queues.get(clock);
  if (byDuration === undefined) queues.set(clock, (byDuration = new Map<number, WeakRef<DeadlineQueue>>()));
  let queue = byDuration.get(timeoutMs)?.deref();
  if (queue === undefined) {
    queue = new DeadlineQueue(clock, timeoutMs);
    byDuration.set(timeoutMs, new WeakRef(queue));
    forgetCollected.register(queue, { byDuration, timeoutMs });
  }
  return queue;
}
