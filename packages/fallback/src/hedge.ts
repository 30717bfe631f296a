/**
 * The hedge policy: when a call has not succeeded after a delay, start another attempt of it beside
 * the first (up to `maxAttempts` in all), take whichever succeeds first and abort the others.
 *
 * The delay is fixed, or a percentile of recent latencies it tracks (the "tail at scale" hedged
 * request: send a second request once the first is slower than, say, 95% of requests). An attempt
 * that fails starts the next one at once rather than after the delay, as Polly's hedging does; when
 * every attempt has failed, the call rejects with the last error.
 *
 * Each attempt runs in its own abortable child scope (`ctx.attempt` is its number, 1 for the
 * original), so a loser's signal aborts with a {@link HedgeLostError} when another wins, and every
 * attempt's signal aborts when the caller's does. Losers' outcomes are observed (no unhandled
 * rejection) and dropped.
 *
 * Which latencies the percentile tracks: the original attempt's (attempt 1) when it succeeds, and,
 * when a hedged attempt beats it, the time it had run by then (a lower bound of its latency). Recording
 * only the calls' winning latencies would let hedging feed on itself: the faster hedged answers would
 * lower the percentile, which would hedge sooner, down to `minDelayMs`.
 *
 * Laws (test/laws.test.ts): the result is the first success; every attempt still running when one
 * succeeds is aborted; no unhandled rejection; never more than `maxAttempts` attempts.
 *
 * @module
 */

import {
  definePolicy,
  Emitter,
  systemClock,
  type Clock,
  type Context,
  type ErrorFilter,
  type Policy,
  type PolicyEvent,
  type Scope,
  type Task,
  type TimerHandle,
} from '@bulwark/core';
import { guardedPredicate, optionChecker } from '@bulwark/core/options';

import { HedgeLostError } from './errors.js';
import { LatencyWindow } from './internal/latency-window.js';

/**
 * A delay that follows the latencies of recent calls.
 *
 * @category models
 * @since 0.1.0
 */
export interface PercentileDelay {
  /** Which percentile of recent latencies to wait before hedging, in (0, 100]: `95` for p95. */
  readonly p: number;
  /**
   * How many recent calls the percentile is taken over, at most 100,000.
   *
   * @default 1000
   */
  readonly windowSize?: number;
  /**
   * How many calls must have been measured before the percentile is used; until then the delay is
   * `maxDelayMs` (with the default `Infinity`: no hedging until there is data).
   *
   * @default Math.min(20, windowSize)
   */
  readonly minSamples?: number;
  /**
   * The shortest delay, in milliseconds, whatever the percentile says.
   *
   * @default 0
   */
  readonly minDelayMs?: number;
  /**
   * The longest delay, in milliseconds (`Infinity`: none), and the delay while too few calls were measured.
   *
   * @default Infinity
   */
  readonly maxDelayMs?: number;
}

/**
 * Options of {@link hedge}: exactly one of `delayMs` and `percentile`.
 *
 * @category models
 * @since 0.1.0
 */
export interface HedgeOptions {
  /** How long to wait, in milliseconds, before starting each further attempt. */
  readonly delayMs?: number;
  /** Wait for a percentile of recent latencies instead of a fixed delay. */
  readonly percentile?: PercentileDelay;
  /**
   * How many attempts a call may make in all, the original included (1 turns hedging off), at most 10.
   *
   * @default 2
   */
  readonly maxAttempts?: number;
  /**
   * Which failures another attempt may outlive: a failure it picks starts the next attempt at once
   * (or, with none left, waits for the others); one it does not pick (a 400, an open circuit: a
   * request another attempt would only repeat) ends the call at once with its error, and the attempts
   * still running are aborted. A predicate or an array of error classes, as Polly's `ShouldHandle`.
   *
   * @default every error
   */
  readonly handle?: ErrorFilter;
  /**
   * The policy's name in events.
   *
   * @default 'hedge'
   */
  readonly name?: string;
  /**
   * Where time is read and delays are armed.
   *
   * @default systemClock
   */
  readonly clock?: Clock;
}

/**
 * A further attempt started: after the delay, or at once (`delayMs` 0) because an attempt failed.
 *
 * @category events
 * @since 0.1.0
 */
export interface HedgeStartedEvent extends PolicyEvent {
  readonly type: 'hedge';
  /** The new attempt's scope. */
  readonly context: Context;
  /** Its number: 2 for the first hedge. */
  readonly attempt: number;
  /** How long after the previous attempt it started, in milliseconds. */
  readonly delayMs: number;
}

/**
 * An attempt of a call that was hedged (more than one attempt started) succeeded first.
 *
 * @category events
 * @since 0.1.0
 */
export interface HedgeWonEvent extends PolicyEvent {
  readonly type: 'hedge-won';
  /** The winning attempt's scope. */
  readonly context: Context;
  /** Its number: 1 when the original won after all. */
  readonly attempt: number;
}

/**
 * Every event a hedge emits.
 *
 * @category events
 * @since 0.1.0
 */
export type HedgeEvent = HedgeStartedEvent | HedgeWonEvent;

/**
 * A hedge: a {@link Policy} with the delay it would use now.
 *
 * @category models
 * @since 0.1.0
 */
export interface Hedge extends Policy<HedgeEvent> {
  /** How many attempts a call may make. */
  readonly maxAttempts: number;
  /** The delay a call starting now would wait before hedging, in milliseconds (`Infinity`: none). */
  readonly delayMs: number;
}

/** What every call of one hedge shares. */
interface HedgeConfig {
  readonly name: string;
  readonly maxAttempts: number;
  readonly clock: Clock;
  readonly events: Emitter<HedgeEvent>;
  /** The latencies tracked for a percentile delay, if any. */
  readonly window: LatencyWindow | undefined;
  /** The failures another attempt may outlive (`undefined`: every one). */
  readonly handle: ((error: unknown) => boolean) | undefined;
}

/** One hedged call: its attempts, its timer and its outcome. */
class HedgedCall<A> {
  /** Each attempt's scope, by attempt number - 1. */
  private readonly scopes: Scope[] = [];
  /** Whether each attempt is still running, by attempt number - 1. */
  private readonly running: boolean[] = [];
  private active = 0;
  private settled = false;
  private timer: TimerHandle = undefined;
  private lastError: unknown = undefined;
  private startedAt = 0;
  private resolve!: (value: A) => void;
  private reject!: (error: unknown) => void;

  constructor(
    private readonly config: HedgeConfig,
    private readonly next: Task<A>,
    private readonly ctx: Scope,
    private readonly delayMs: number,
  ) {}

  run(): Promise<A> {
    return new Promise<A>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      if (this.config.window !== undefined) this.startedAt = this.config.clock.now();
      this.launch(0);
    });
  }

  /** Starts the next attempt, `waitedMs` after the previous one, and arms the timer for the one after. */
  private readonly launch = (waitedMs: number): void => {
    this.timer = undefined;
    if (this.ctx.aborted) {
      // The caller gave up: no new attempt; the call ends when the running ones do.
      if (this.active === 0) this.fail(this.ctx.reason);
      return;
    }
    const attempt = this.scopes.length + 1;
    const scope = this.ctx.child(true, attempt);
    this.scopes.push(scope);
    this.running.push(true);
    this.active++;
    const { events, name, maxAttempts, clock } = this.config;
    if (attempt > 1 && events.active) {
      events.emit({ type: 'hedge', policy: name, context: scope, attempt, delayMs: waitedMs });
    }
    let pending: PromiseLike<A>;
    try {
      pending = this.next(scope);
    } catch (error) {
      pending = Promise.reject(error);
    }
    Promise.resolve(pending).then(
      (value) => this.succeeded(attempt, value),
      (error: unknown) => this.failed(attempt, error),
    );
    if (attempt < maxAttempts && this.delayMs !== Number.POSITIVE_INFINITY && !this.settled) {
      this.timer = clock.setTimer(() => this.launch(this.delayMs), this.delayMs);
    }
  };

  private succeeded(attempt: number, value: A): void {
    this.running[attempt - 1] = false;
    this.active--;
    if (this.settled) return; // a loser that finished anyway
    this.settled = true;
    this.cancelTimer();
    const window = this.config.window;
    if (window !== undefined) {
      // The original's latency; or, when a hedge beat it, how long it had run (a lower bound).
      if (attempt === 1 || this.running[0] === true) window.record(this.config.clock.now() - this.startedAt);
    }
    this.abortOthers(attempt);
    const { scopes } = this;
    const { events, name } = this.config;
    if (scopes.length > 1 && events.active) {
      events.emit({ type: 'hedge-won', policy: name, context: scopes[attempt - 1] as Scope, attempt });
    }
    this.resolve(value);
  }

  private failed(attempt: number, error: unknown): void {
    this.running[attempt - 1] = false;
    this.active--;
    if (this.settled) return;
    this.lastError = error;
    if (this.ctx.aborted) {
      if (this.active === 0) this.fail(this.ctx.reason);
      return;
    }
    const { handle } = this.config;
    if (handle !== undefined && !handle(error)) {
      // Another attempt would only repeat it: the call ends with it now.
      this.abortOthers(attempt);
      this.fail(error);
      return;
    }
    if (this.scopes.length < this.config.maxAttempts) {
      // Do not wait out the delay: the failed attempt will not answer.
      this.cancelTimer();
      this.launch(0);
    } else if (this.active === 0) {
      this.fail(this.lastError);
    }
  }

  /** Aborts the attempts still running: `attempt`'s outcome ended the call. */
  private abortOthers(attempt: number): void {
    if (this.active === 0) return;
    const { scopes, running } = this;
    const lost = new HedgeLostError(attempt);
    for (let i = 0; i < scopes.length; i++) if (running[i] === true) (scopes[i] as Scope).abort(lost);
  }

  private fail(error: unknown): void {
    this.settled = true;
    this.cancelTimer();
    this.reject(error);
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    this.config.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}

const check = optionChecker('@bulwark/fallback');

/** The delay a call starting now waits before its first hedge. */
function currentDelay(
  percentile: Required<PercentileDelay> | undefined,
  fixed: number,
  window: LatencyWindow | undefined,
): number {
  if (percentile === undefined || window === undefined) return fixed;
  const { p, minSamples, minDelayMs, maxDelayMs } = percentile;
  if (window.count < minSamples) return maxDelayMs;
  const at = window.percentile(p) as number;
  return at < minDelayMs ? minDelayMs : at > maxDelayMs ? maxDelayMs : at;
}

/** The largest latency window a percentile delay keeps (1.6 MB of samples). */
const MAX_WINDOW_SIZE = 100_000;

function checkPercentile(value: unknown): Required<PercentileDelay> {
  const opts = check.object('percentile', value) as Partial<PercentileDelay>;
  if (opts.p === undefined) {
    throw new TypeError(
      '@bulwark/fallback: expected `percentile.p` to be a number in (0, 100] (it has no default), got undefined',
    );
  }
  const p = check.number('percentile.p', opts.p, 0, { max: 100 });
  if (!(p > 0)) check.fail('percentile.p', 'a number in (0, 100]', p);
  // Two Float64Arrays of this size are made at once: bounded, so that a mistyped size fails here, naming
  // the option, rather than as a bare RangeError or gigabytes allocated.
  const windowSize = check.integer('percentile.windowSize', opts.windowSize, 1000, { min: 1, max: MAX_WINDOW_SIZE });
  const minSamples = check.integer('percentile.minSamples', opts.minSamples, Math.min(20, windowSize), {
    min: 1,
    max: windowSize,
  });
  const minDelayMs = check.number('percentile.minDelayMs', opts.minDelayMs, 0, { min: 0 });
  const maxDelayMs = check.number('percentile.maxDelayMs', opts.maxDelayMs, Number.POSITIVE_INFINITY, {
    min: minDelayMs,
    finite: false,
  });
  return { p, windowSize, minSamples, minDelayMs, maxDelayMs };
}

/**
 * Makes a hedge: a call that has not succeeded after the delay starts another attempt beside the
 * first, up to `maxAttempts`; the first success wins and the other attempts are aborted with a
 * {@link HedgeLostError}.
 *
 * Hedge only what is safe to run twice (idempotent reads), and pass the signal on, so that losers stop.
 *
 * @throws TypeError or RangeError - when an option is invalid, naming it and the value.
 *
 * @example
 * ```ts
 * import { setTimeout as sleep } from 'node:timers/promises';
 *
 * const hedged = hedge({ delayMs: 20, maxAttempts: 2 });
 * // The first attempt is stuck; the second, started 20 ms later, answers.
 * const answer = await hedged.execute((ctx) =>
 *   ctx.attempt === 1 ? sleep(10_000, 'stuck', { signal: ctx.signal }) : sleep(5, 'replica', { signal: ctx.signal }),
 * );
 * assert.equal(answer, 'replica');
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function hedge(options: HedgeOptions): Hedge {
  const opts = check.object('options', options) as Partial<HedgeOptions>;
  if ((opts.delayMs === undefined) === (opts.percentile === undefined)) {
    throw new TypeError(
      `@bulwark/fallback: expected exactly one of \`delayMs\` and \`percentile\`, got ${opts.delayMs === undefined ? 'neither' : 'both'}`,
    );
  }
  const fixed = check.number('delayMs', opts.delayMs, 0, { min: 0 });
  const percentile = opts.percentile !== undefined ? checkPercentile(opts.percentile) : undefined;
  // At most 10, as Polly's MaxHedgedAttempts: each attempt is another request to a service in trouble.
  const maxAttempts = check.integer('maxAttempts', opts.maxAttempts, 2, { min: 1, max: 10 });
  const filter = check.errorFilter('handle', opts.handle);
  // A predicate that throws is a bug, surfaced on a later tick: the failure counts as picked.
  const handle = filter === undefined ? undefined : guardedPredicate(filter, true);
  const name = check.string('name', opts.name, 'hedge');
  const clock = check.clock('clock', opts.clock, systemClock, ['now', 'setTimer', 'clearTimer']);

  const events = new Emitter<HedgeEvent>();
  const window = percentile !== undefined ? new LatencyWindow(percentile.windowSize) : undefined;
  const config: HedgeConfig = { name, maxAttempts, clock, events, window, handle };
  const decorate = <A>(next: Task<A>): Task<A> => {
    if (maxAttempts === 1) return next;
    // Decorators always receive a scope (see core's `Decorator`).
    return (ctx) => new HedgedCall(config, next, ctx as Scope, currentDelay(percentile, fixed, window)).run();
  };
  const policy = definePolicy(name, [{ decorate }], events);
  return Object.defineProperties(policy, {
    maxAttempts: { value: maxAttempts, enumerable: true },
    delayMs: {
      get: () => (maxAttempts === 1 ? Number.POSITIVE_INFINITY : currentDelay(percentile, fixed, window)),
      enumerable: true,
    },
  }) as Hedge;
}
