/**
 * A clock whose time moves only when a test says so.
 *
 * Timers run in the order of their due time (ties in the order they were set), each with the clock
 * reading its own due time, and the promise jobs they start are settled before the next one runs.
 * So a test of a 60-second breaker takes microseconds and gives the same result every time.
 *
 * @module
 */

import { sleepOn, type Clock, type TimerHandle } from '@bulwark/core';

interface VirtualTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  readonly keepAlive: boolean;
  cancelled: boolean;
}

/**
 * Lets every promise job that is ready run: those queued now and those they queue in turn. I/O is not
 * waited for; only what settles without it.
 *
 * @example
 * ```ts
 * let done = false;
 * void Promise.resolve()
 *   .then(() => undefined)
 *   .then(() => (done = true));
 * await settle();
 * assert.ok(done);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A {@link Clock} that starts at `start` ms and moves only through {@link VirtualClock.advance},
 * {@link VirtualClock.next} and {@link VirtualClock.runAll}.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * let fired = false;
 * clock.setTimer(() => (fired = true), 1000);
 * await clock.advance(999);
 * assert.equal(fired, false);
 * await clock.advance(1);
 * assert.equal(fired, true);
 * assert.equal(clock.now(), 1000);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  // Sorted by (at, seq); tests hold few timers, so insertion into an array is cheap and simple.
  private timers: VirtualTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, ms: number, keepAlive = true): TimerHandle {
    const timer: VirtualTimer = {
      at: this.time + (Number.isFinite(ms) && ms > 0 ? ms : 0),
      seq: this.seq++,
      callback,
      keepAlive,
      cancelled: false,
    };
    let index = this.timers.length;
    while (index > 0 && (this.timers[index - 1] as VirtualTimer).at > timer.at) index--;
    this.timers.splice(index, 0, timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    const timer = handle as VirtualTimer;
    if (timer.cancelled) return;
    timer.cancelled = true;
    const index = this.timers.indexOf(timer);
    if (index >= 0) this.timers.splice(index, 1);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** How many waiting timers keep a process alive (a leak check for code that should have none). */
  get pendingKeepAlive(): number {
    return this.timers.filter((timer) => timer.keepAlive).length;
  }

  /** When the next timer is due, or `undefined` when none waits. */
  get nextAt(): number | undefined {
    return this.timers[0]?.at;
  }

  /**
   * Moves time forward by `ms`, running each timer that falls due on the way at its own due time and
   * settling the promise jobs it starts before the next.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advance: expected ms >= 0, got ${ms}`);
    const target = this.time + ms;
    await settle();
    for (let timer = this.timers[0]; timer !== undefined && timer.at <= target; timer = this.timers[0]) {
      this.timers.shift();
      this.time = timer.at;
      timer.callback();
      await settle();
    }
    this.time = target;
    await settle();
  }

  /** Moves time to the next timer and runs it (and any due at the same time). Returns false when none waits. */
  async next(): Promise<boolean> {
    await settle();
    const at = this.nextAt;
    if (at === undefined) return false;
    await this.advance(at - this.time);
    return true;
  }

  /**
   * Runs timers until none is left, including those set by the ones that run.
   *
   * @param maxTimers - Stops with an error after this many, so a policy that re-arms forever fails the test instead of hanging it.
   */
  async runAll(maxTimers = 100_000): Promise<void> {
    for (let count = 0; await this.next(); count++) {
      if (count >= maxTimers) throw new Error(`VirtualClock.runAll: still running after ${maxTimers} timers`);
    }
  }

  /**
   * Settles `promise` while running timers as it needs them: the usual way to await a policy's call in
   * a test. Rejects as `promise` does; fails if it is still pending once no timer is left.
   */
  async run<A>(promise: Promise<A>): Promise<A> {
    let done = false;
    const tracked = promise.finally(() => {
      done = true;
    });
    // Observed here so a rejection is not reported as unhandled while timers run.
    tracked.catch(() => undefined);
    await settle();
    while (!done) {
      if (!(await this.next())) {
        await settle();
        if (!done) throw new Error('VirtualClock.run: the promise is still pending and no timer is left to run');
      }
    }
    return tracked;
  }
}
