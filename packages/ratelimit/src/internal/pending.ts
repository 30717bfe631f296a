/**
 * The Redis store's decisions waiting for an answer, and their timeout under one timer.
 *
 * Every decision of a store has the same timeout, so they expire in the order they were sent: a FIFO
 * list, and one timer armed for its oldest entry, replace a timer per decision (setting and clearing
 * one cost about as much as the rest of the store's work on a call). Answers mostly arrive in order,
 * so the list stays as short as the calls in flight.
 *
 * @module
 */

import type { Clock } from '@bulwark/core';

/** One decision sent to Redis. */
export class PendingCall {
  /** When it times out, on the store's clock. */
  deadline = 0;
  /** Answered, failed or timed out: nothing more happens to it. */
  settled = false;
  next: PendingCall | undefined = undefined;

  constructor(
    readonly resolve: (value: never) => void,
    readonly reject: (reason: unknown) => void,
    /** `'w'`: the wait only (a reservation); `'t'`: the wait and Redis's time (an audit). */
    readonly reply: 'w' | 't',
    readonly key: string,
    readonly now: number,
    readonly maxWaitMs: number,
  ) {}
}

/** Calls in flight, oldest first, and the one timer that expires them. */
export class PendingCalls {
  private head: PendingCall | undefined = undefined;
  private tail: PendingCall | undefined = undefined;
  /** Whether the timer is set. */
  private armed = false;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    /** Called for each call still unsettled at its deadline. */
    private readonly expire: (call: PendingCall) => void,
  ) {}

  add(call: PendingCall): void {
    call.deadline = this.clock.now() + this.timeoutMs;
    if (this.tail === undefined) this.head = call;
    else this.tail.next = call;
    this.tail = call;
    if (!this.armed) this.arm(this.timeoutMs);
  }

  /** Some call settled: drops the settled ones from the front. */
  settled(): void {
    let head = this.head;
    while (head !== undefined && head.settled) {
      const next = head.next;
      head.next = undefined;
      head = next;
    }
    this.head = head;
    if (head === undefined) this.tail = undefined;
  }

  private arm(ms: number): void {
    // Not cleared when the list empties (that would be a timer per call again at low concurrency):
    // it fires at most once per timeout, finds nothing, and is not re-armed. It never keeps the
    // process alive.
    this.armed = true;
    this.clock.setTimer(() => this.fire(), ms, false);
  }

  private fire(): void {
    this.armed = false;
    const now = this.clock.now();
    for (let call = this.head; call !== undefined && (call.settled || call.deadline <= now); call = this.head) {
      this.head = call.next;
      call.next = undefined;
      if (this.head === undefined) this.tail = undefined;
      if (!call.settled) this.expire(call);
    }
    if (this.head !== undefined) this.arm(Math.max(0, this.head.deadline - now));
  }
}
