/**
 * The retry policy: a gate (ADR 0001) whose `exit` returns a delay when the inner part should run
 * again, around the pure {@link retryDecision}.
 *
 * The success path costs next to nothing: `enter` returns the call's scope as the token (no
 * allocation, no clock read) unless the schedule keeps per-call state (`maxElapsed` needs the start
 * time, decorrelated jitter the previous delay), and `exit` on a success with no `handleResult`
 * returns at once. The attempt number comes from the scopes: the runner gives each retry a child
 * scope numbered one more than the last. When retries run out, the last error is rethrown unchanged
 * (a refused result is returned), as cockatiel and p-retry do.
 *
 * Laws (test/laws.test.ts): never more than `maxAttempts` attempts; an aborted call is never retried
 * and stops waiting at once with the abort reason, leaving no timer; every call ends with exactly one
 * `success` or `give-up` event.
 *
 * @module
 */

import {
  definePolicy,
  Emitter,
  PASS,
  systemClock,
  systemRandom,
  type Clock,
  type ErrorFilter,
  type Gate,
  type Outcome,
  type Policy,
  type Random,
  type Scope,
} from '@bulwark/core';
import { guardedPredicate, optionChecker } from '@bulwark/core/options';

import { checkBackoff, elapsedLimit, fullJitter, readsPreviousDelay, type Backoff } from './backoff.js';
import type { RetryBudget } from './budget.js';
import { retryDecision, type GiveUpReason, type RetryRules } from './decision.js';
import type { RetryEvent } from './events.js';

const check = optionChecker('@bulwark/retry');

/** AWS SDKs' standard retry mode: full jitter from 100 ms, capped at 20 s (with 3 attempts). */
const DEFAULT_BACKOFF = fullJitter({ baseMs: 100, capMs: 20_000 });

/**
 * Options of {@link retry}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryOptions {
  /**
   * The most attempts per call, the first one included: an integer >= 1, or `Infinity` to let the
   * schedule alone decide (`upTo`, `maxElapsed`). `1` never retries.
   *
   * @default 3
   */
  readonly maxAttempts?: number;
  /** What to wait before each retry, and when to stop. @default fullJitter({ baseMs: 100, capMs: 20_000 }) */
  readonly backoff?: Backoff;
  /**
   * Which errors to retry: error classes (`instanceof` any) or a predicate. A predicate that throws
   * counts as "do not retry" and its error is rethrown on a later tick.
   *
   * @default every error
   */
  readonly handle?: ErrorFilter;
  /**
   * Which results to retry, e.g. `(response) => response.status === 503`. When retries run out on
   * a result, that last result is returned (not thrown).
   *
   * @default none: every result is a success
   */
  // A method, not a property: its parameter is then checked bivariantly, so a predicate typed for
  // the caller's results (`(r: Response) => r.status === 503`) is accepted where `unknown` is given.
  handleResult?(this: void, result: unknown): boolean;
  /**
   * Also retry Bulwark errors whose `retryable` is `false` (an open circuit, an isolated breaker, a
   * validation failure, a 4xx from an adapter), if `handle` accepts them.
   *
   * @default false
   */
  readonly retryNonRetryable?: boolean;
  /**
   * The longest wait an error's `retryAfterMs` (a 429's `Retry-After`) may impose, in milliseconds.
   * A hint longer than the schedule's delay replaces it, up to this; `0` ignores hints.
   *
   * @default 60000
   */
  readonly maxRetryAfterMs?: number;
  /** A retry budget shared with other calls and policies (see `retryBudget`). @default none */
  readonly budget?: RetryBudget;
  /** The policy's name in events. @default 'retry' */
  readonly name?: string;
  /** Where time is read (only for `maxElapsed`) and backoff waits sleep. @default systemClock */
  readonly clock?: Clock;
  /** Where jitter comes from. @default systemRandom */
  readonly random?: Random;
}

/**
 * A retry policy.
 *
 * @category models
 * @since 0.1.0
 */
export interface Retry extends Policy<RetryEvent> {
  readonly kind: 'retry';
  /** As configured (`Infinity` when unbounded). */
  readonly maxAttempts: number;
  /** The checked schedule. */
  readonly backoff: Backoff;
}

/** What a retry keeps per call when its schedule needs it. */
class CallState {
  previousDelayMs = 0;
  constructor(
    readonly scope: Scope,
    /** When the first attempt started, on the policy's clock (read only for `maxElapsed`). */
    readonly startedAt: number,
  ) {}
}

/**
 * The caller aborted a backoff wait. The runner hands the wait's rejection to `exit`; this wrapper
 * tells `exit` that no new attempt ran, and carries the abort reason it puts back in the outcome.
 */
class WaitAborted {
  constructor(readonly reason: unknown) {}
}
const waitAborted = (reason: unknown): never => {
  throw new WaitAborted(reason);
};

const everyError = (): boolean => true;

class RetryGate implements Gate<Scope | CallState> {
  /** The schedule reads elapsed time: `enter` reads the clock. */
  private readonly timed: boolean;
  /** The schedule keeps per-call state: `enter` allocates a {@link CallState}. */
  private readonly stateful: boolean;

  constructor(
    private readonly name: string,
    private readonly rules: RetryRules,
    private readonly handleResult: ((result: unknown) => boolean) | undefined,
    private readonly budget: RetryBudget | undefined,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly events: Emitter<RetryEvent>,
  ) {
    this.timed = elapsedLimit(rules.backoff) !== Number.POSITIVE_INFINITY;
    this.stateful = this.timed || readsPreviousDelay(rules.backoff);
  }

  enter(ctx: Scope): Scope | CallState {
    if (this.budget !== undefined) this.budget.deposit();
    return this.stateful ? new CallState(ctx, this.timed ? this.clock.now() : 0) : ctx;
  }

  exit(token: Scope | CallState, outcome: Outcome, inner: Scope): number {
    if (outcome.ok && this.handleResult === undefined) {
      if (this.events.active) this.succeeded(token, inner);
      return PASS;
    }
    return this.afterAttempt(token, outcome, inner);
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return this.clock.sleep(ms, signal).then(undefined, waitAborted);
  }

  private scopeOf(token: Scope | CallState): Scope {
    return this.stateful ? (token as CallState).scope : (token as Scope);
  }

  private succeeded(token: Scope | CallState, inner: Scope): void {
    const attempts = inner.attempt - this.scopeOf(token).attempt + 1;
    this.events.emit({ type: 'success', policy: this.name, context: inner, attempts });
  }

  /** A failure, or a result to check: retry (return the delay) or let the outcome go out. */
  private afterAttempt(token: Scope | CallState, outcome: Outcome, inner: Scope): number {
    const call = this.stateful ? (token as CallState) : undefined;
    const scope = call !== undefined ? call.scope : (token as Scope);
    // The runner numbers each retry's scope one more than the last.
    let attempts = inner.attempt - scope.attempt + 1;
    let decision: number | GiveUpReason;
    if (!outcome.ok && outcome.value instanceof WaitAborted) {
      // Aborted while waiting: `inner` is the scope of an attempt that never ran.
      outcome.value = outcome.value.reason;
      attempts -= 1;
      decision = 'aborted';
    } else if (outcome.ok && !(this.handleResult as (result: unknown) => boolean)(outcome.value)) {
      if (this.events.active) this.succeeded(token, inner);
      return PASS;
    } else if (scope.aborted) {
      decision = 'aborted';
    } else {
      const elapsedMs = this.timed ? this.clock.now() - (call as CallState).startedAt : 0;
      const previousDelayMs = call !== undefined ? call.previousDelayMs : 0;
      decision = retryDecision(this.rules, { attempt: attempts, elapsedMs, previousDelayMs }, outcome, this.random);
      if (typeof decision === 'number' && this.budget !== undefined && !this.budget.tryWithdraw()) decision = 'budget';
    }
    if (typeof decision !== 'number') {
      if (this.events.active) this.gaveUp(inner, attempts, decision, outcome);
      return PASS;
    }
    if (call !== undefined) call.previousDelayMs = decision;
    if (this.events.active) {
      const failure = outcome.ok ? { error: undefined, result: outcome.value } : { error: outcome.value };
      this.events.emit({
        type: 'retry',
        policy: this.name,
        context: inner,
        attempt: attempts,
        delayMs: decision,
        ...failure,
      });
    }
    return decision;
  }

  private gaveUp(inner: Scope, attempts: number, reason: GiveUpReason, outcome: Outcome): void {
    const failure = outcome.ok ? { error: undefined, result: outcome.value } : { error: outcome.value };
    this.events.emit({ type: 'give-up', policy: this.name, context: inner, attempts, reason, ...failure });
  }
}

/**
 * Makes a retry policy: a failed attempt is tried again after the schedule's delay, up to
 * `maxAttempts` attempts. When retries run out, the last error is rethrown unchanged (a result refused
 * by `handleResult` is returned). Bulwark errors marked `retryable: false` (an open circuit) are never
 * retried unless `retryNonRetryable` is set; an aborted call is never retried, and a caller's abort
 * ends a backoff wait at once with the abort reason.
 *
 * @throws TypeError or RangeError - when an option is invalid, naming it and the value.
 * @example
 * ```ts
 * import { VirtualClock } from '@bulwark/testkit';
 * const clock = new VirtualClock();
 * const policy = retry({ maxAttempts: 3, backoff: exponential({ baseMs: 1_000 }), clock });
 * let calls = 0;
 * const flaky = async () => {
 *   if (++calls < 3) throw new Error('flaky');
 *   return 'ok';
 * };
 * assert.equal(await clock.run(policy.execute(flaky)), 'ok');
 * assert.equal(calls, 3);
 * assert.equal(clock.now(), 3_000); // waited 1 s, then 2 s
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function retry(options: RetryOptions = {}): Retry {
  const opts = check.object('options', options) as Partial<RetryOptions>;
  const maxAttempts =
    opts.maxAttempts === Number.POSITIVE_INFINITY
      ? opts.maxAttempts
      : check.integer('maxAttempts', opts.maxAttempts, 3, { min: 1 });
  const backoff = opts.backoff === undefined ? DEFAULT_BACKOFF : checkBackoff(opts.backoff, 'backoff');
  const handle = check.errorFilter('handle', opts.handle);
  const handleResult = check.func<(result: unknown) => boolean, undefined>(
    'handleResult',
    opts.handleResult,
    undefined,
  );
  const retryNonRetryable = check.boolean('retryNonRetryable', opts.retryNonRetryable, false);
  const maxRetryAfterMs = check.number('maxRetryAfterMs', opts.maxRetryAfterMs, 60_000, { min: 0 });
  const budget = opts.budget === undefined ? undefined : (check.object('budget', opts.budget) as RetryBudget);
  if (budget !== undefined) {
    check.method('budget.deposit', (budget as Partial<RetryBudget>).deposit);
    check.method('budget.tryWithdraw', (budget as Partial<RetryBudget>).tryWithdraw);
  }
  const name = check.string('name', opts.name, 'retry');
  const clock = check.clock('clock', opts.clock, systemClock, ['now', 'sleep']);
  const random = check.object('random', opts.random ?? systemRandom) as Random;
  check.method('random.next', (random as Partial<Random>).next);

  const rules: RetryRules = {
    maxAttempts,
    backoff,
    handle: handle === undefined ? everyError : guardedPredicate(handle, false),
    retryNonRetryable,
    maxRetryAfterMs,
  };
  const events = new Emitter<RetryEvent>();
  const guardedResult = handleResult === undefined ? undefined : guardedPredicate(handleResult, false);
  const gate = new RetryGate(name, rules, guardedResult, budget, clock, random, events);
  return Object.defineProperties(definePolicy(name, [{ gate }], events), {
    kind: { value: 'retry', enumerable: true },
    maxAttempts: { value: maxAttempts, enumerable: true },
    backoff: { value: backoff, enumerable: true },
  }) as Retry;
}
