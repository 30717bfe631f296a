/**
 * The timeout policy: a call that has not settled `timeoutMs` after it started fails with a
 * {@link TimeoutError}, and its task's signal aborts with that error.
 *
 * It is a scoped gate (ADR 0001): `enter` runs the call in a child scope and queues it on the
 * deadline queue of its duration (`internal/deadline-queue.ts`), `exit` takes it out. The success path
 * allocates the child scope and nothing else: no clock read, no timer of its own, no listener, no
 * `AbortController` unless the task reads its signal, no `abort()`. A call times out `timeoutMs` after
 * it started, never earlier and at most 1 ms later (the queue stamps new calls once a millisecond).
 *
 * - **Aggressive** (the default): at the deadline the scope aborts with the `TimeoutError` and the call
 *   rejects with it at once (the gate `interrupts`), leaving the task to settle in the background.
 * - **Cooperative**: at the deadline the scope aborts, and the call waits for the task to settle, then
 *   rejects with the `TimeoutError` whatever the task did.
 *
 * A caller's abort is not a timeout: its reason passes through, even once the deadline has passed.
 *
 * Laws (test/laws.test.ts): a call settles within `timeoutMs` (+ 1 ms) on the virtual clock when it is
 * aggressive or its task honours its signal; a task that settles first keeps its value or its error;
 * a cooperative timeout waits for its task, an aggressive one does not.
 *
 * @module
 */

import {
  definePolicy,
  Emitter,
  PASS,
  systemClock,
  type Clock,
  type Context,
  type Gate,
  type Outcome,
  type Policy,
  type PolicyEvent,
  type Scope,
} from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';

import { TimeoutError } from './errors.js';
import {
  deadlineQueue,
  DROPPED,
  EXPIRED,
  QUEUED,
  type DeadlineQueue,
  type Entry,
  type ExpiryHandler,
} from './internal/deadline-queue.js';

/**
 * What happens at the deadline.
 *
 * - `'aggressive'`: the call rejects at once; the task's signal aborts and the task settles in the background.
 * - `'cooperative'`: the task's signal aborts; the call waits for the task, then rejects.
 *
 * @category models
 * @since 0.1.0
 */
export type TimeoutStrategy = 'aggressive' | 'cooperative';

/**
 * Options of {@link timeout}.
 *
 * @category models
 * @since 0.1.0
 */
export interface TimeoutOptions {
  /** The time limit of a call, in milliseconds: a finite number > 0. */
  readonly timeoutMs: number;
  /**
   * What happens at the deadline: `'aggressive'` rejects at once, `'cooperative'` waits for the task
   * to settle after aborting its signal.
   *
   * @default 'aggressive'
   */
  readonly strategy?: TimeoutStrategy;
  /**
   * The policy's name in events.
   *
   * @default 'timeout'
   */
  readonly name?: string;
  /**
   * Where time is read and deadlines are armed.
   *
   * @default systemClock's timers, with time read from `performance.now()`
   */
  readonly clock?: Clock;
}

/**
 * A call's deadline passed: its signal aborted with a {@link TimeoutError}.
 *
 * @category events
 * @since 0.1.0
 */
export interface TimeoutEvent extends PolicyEvent {
  readonly type: 'timeout';
  /** The scope the task runs in (its signal has just aborted). */
  readonly context: Context;
  /** The limit that passed, in milliseconds. */
  readonly timeoutMs: number;
  readonly strategy: TimeoutStrategy;
}

/**
 * A timeout: a {@link Policy} with its limit and strategy.
 *
 * @category models
 * @since 0.1.0
 */
export interface Timeout extends Policy<TimeoutEvent> {
  /** The limit, in milliseconds. */
  readonly timeoutMs: number;
  readonly strategy: TimeoutStrategy;
}

/** The gate behind a {@link Timeout}. */
class TimeoutGate implements Gate<Scope>, ExpiryHandler {
  readonly scoped = true;
  readonly interrupts: boolean;

  constructor(
    private readonly name: string,
    private readonly strategy: TimeoutStrategy,
    private readonly queue: DeadlineQueue,
    private readonly events: Emitter<TimeoutEvent>,
  ) {
    this.interrupts = strategy === 'aggressive';
  }

  enter(ctx: Scope): Scope {
    const scope = ctx.child(true);
    scope.link = this.queue.push(scope, this);
    return scope;
  }

  exit(scope: Scope, outcome: Outcome): number {
    const entry = scope.link as Entry;
    scope.link = undefined;
    const state = entry.state;
    if (state === QUEUED) this.queue.remove(entry);
    else if (state === EXPIRED) this.timedOut(scope, outcome);
    this.queue.release(entry);
    return PASS;
  }

  /** The call's outcome once its deadline has passed: the timeout, with the task's own error as cause. */
  private timedOut(scope: Scope, outcome: Outcome): void {
    const reason = scope.reason as TimeoutError;
    if (!outcome.ok && outcome.value !== reason) {
      outcome.value = new TimeoutError(reason.timeoutMs, { cause: outcome.value });
    } else {
      outcome.ok = false;
      outcome.value = reason;
    }
  }

  expire(entry: Entry): void {
    const scope = entry.scope as Scope;
    if (scope.aborted) {
      // The caller (or a policy outside) gave up first: its reason stands. An aggressive timeout
      // still stops waiting for a task that ignores the abort, with the caller's reason.
      entry.state = DROPPED;
      if (this.interrupts) scope.abort(scope.reason);
      return;
    }
    entry.state = EXPIRED;
    const { timeoutMs } = this.queue;
    scope.abort(new TimeoutError(timeoutMs));
    if (this.events.active) {
      this.events.emit({ type: 'timeout', policy: this.name, context: scope, timeoutMs, strategy: this.strategy });
    }
  }
}

const check = optionChecker('@bulwark/timeout');

/**
 * The default clock: the system's timers, and time from `performance.now()`, which only goes forward
 * at the rate of real time. `systemClock` reads `Date.now()`, the wall clock, which an NTP correction
 * can step forward by seconds: deadlines stamped before the step would then look passed at the next
 * alarm, and calls would time out early. (A step back is handled by the queue either way.)
 */
const steadyClock: Clock = {
  now: () => performance.now(),
  setTimer: (callback, ms, keepAlive) => systemClock.setTimer(callback, ms, keepAlive),
  clearTimer: (handle) => systemClock.clearTimer(handle),
  sleep: (ms, signal) => systemClock.sleep(ms, signal),
};

/**
 * Makes a timeout: a call that has not settled within `timeoutMs` rejects with a
 * {@link TimeoutError}, and its task's `signal` aborts with that error.
 *
 * @param options - The limit in milliseconds, or {@link TimeoutOptions}.
 * @throws TypeError or RangeError - when an option is invalid, naming it and the value.
 *
 * @example
 * ```ts
 * import { setTimeout as sleep } from 'node:timers/promises';
 *
 * const quick = timeout(50);
 * assert.equal(await quick.execute(async () => 'in time'), 'in time');
 *
 * // The task passes its signal on: at the deadline its sleep stops too.
 * const slow = quick.execute((ctx) => sleep(10_000, 'late', { signal: ctx.signal }));
 * await assert.rejects(slow, (error) => isTimeoutError(error) && error.timeoutMs === 50);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function timeout(options: number | TimeoutOptions): Timeout {
  const opts = (
    typeof options === 'number' ? { timeoutMs: options } : check.object('options', options)
  ) as Partial<TimeoutOptions>;
  if (opts.timeoutMs === undefined) {
    throw new TypeError(
      '@bulwark/timeout: expected `timeoutMs` to be a finite number > 0 (it has no default), got undefined',
    );
  }
  const timeoutMs = check.number('timeoutMs', opts.timeoutMs, 0);
  if (!(timeoutMs > 0)) check.fail('timeoutMs', 'a finite number > 0', timeoutMs);
  const strategy = check.oneOf('strategy', opts.strategy, 'aggressive', ['aggressive', 'cooperative'] as const);
  const name = check.string('name', opts.name, 'timeout');
  const clock = check.clock('clock', opts.clock, steadyClock, ['now', 'setTimer']);

  const events = new Emitter<TimeoutEvent>();
  const gate = new TimeoutGate(name, strategy, deadlineQueue(clock, timeoutMs), events);
  const policy = definePolicy(name, [{ gate }], events);
  return Object.defineProperties(policy, {
    timeoutMs: { value: timeoutMs, enumerable: true },
    strategy: { value: strategy, enumerable: true },
  }) as Timeout;
}
