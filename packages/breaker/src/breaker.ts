/**
 * The breaker policy: a gate around the pure machine of `machine.ts`.
 *
 * `enter` admits the call (closed), admits it as a probe (open with its wait over, or half-open with
 * a free slot) or throws a {@link BrokenCircuitError} / {@link IsolatedError}; `exit` classifies the
 * outcome and feeds it to the machine. On the closed success path nothing is allocated and the clock
 * is read only when a time window or slow-call detection needs it: `enter` returns a number (the start
 * time, or 0), and `exit` steps the machine, which returns the same state for a success into a
 * healthy window.
 *
 * With a store, a {@link FleetSync} keeps the state in line with the fleet's (see `internal/fleet.ts`).
 *
 * @module
 */

import {
  Emitter,
  PASS,
  definePolicy,
  refuse,
  systemClock,
  type Clock,
  type Context,
  type Disposer,
  type ErrorFilter,
  type ExecuteOptions,
  type Gate,
  type Health,
  type HealthSource,
  type HealthStatus,
  type Json,
  type Listener,
  type Outcome,
  type Policy,
  type Refusal,
  type Scope,
  type Task,
  type WrapOptions,
} from '@bulwark/core';
import { guardedPredicate, optionChecker } from '@bulwark/core/options';

import { BrokenCircuitError, IsolatedError } from './errors.js';
import type { BreakerEvent } from './events.js';
import { FleetSync } from './internal/fleet.js';
import { Probe } from './internal/probe.js';
import {
  admission,
  closed,
  events,
  fromSnapshot,
  needsClockOnSuccess,
  step,
  toSnapshot,
  type BreakerState,
  type MachineConfig,
  type MachineEvent,
  type MachineSnapshot,
  type MachineState,
} from './machine.js';
import type { BreakerStore } from './store.js';
import { checkStrategy, consecutiveFailures, type Strategy } from './strategy.js';
import { windowStats, type WindowStats } from './window.js';

const check = optionChecker('@bulwark/breaker');

/**
 * Options of {@link breaker}.
 *
 * @category models
 * @since 0.1.0
 */
export interface BreakerOptions {
  /** The breaker's name in events, errors, health reports and its store. @default 'breaker' */
  readonly name?: string;
  /** When a closed breaker trips. @default consecutiveFailures(5) */
  readonly strategy?: Strategy;
  /** How long the breaker stays open after tripping before a probe may go, in milliseconds. @default 60000 */
  readonly halfOpenAfterMs?: number;
  /**
   * The longest open wait, in milliseconds: each failed probe multiplies the wait by `backoffFactor`
   * up to this. Equal to `halfOpenAfterMs` (the default), the wait never grows.
   *
   * @default halfOpenAfterMs
   */
  readonly maxHalfOpenAfterMs?: number;
  /** What each failed probe multiplies the open wait by, >= 1 (only with `maxHalfOpenAfterMs`). @default 2 */
  readonly backoffFactor?: number;
  /** Probes admitted at once in half-open (across the fleet with a store); other calls are refused. @default 1 */
  readonly probes?: number;
  /** Successful probes in a row that close the breaker. @default probes */
  readonly successesToClose?: number;
  /**
   * Calls taking at least this long, in milliseconds, are slow: a slow call counts as a failure for
   * `consecutiveFailures`, toward `slowCallRate` for the windows, and a slow probe fails. Off by default.
   *
   * @default undefined (off)
   */
  readonly slowCallMs?: number;
  /** Which errors count as failures; the others count as successes (the dependency did answer). @default every error */
  readonly isFailure?: ErrorFilter;
  /** Errors that pass through without counting at all (checked before `isFailure`). @default none */
  readonly ignore?: ErrorFilter;
  /** Values that count as failures although the call resolved (a 503 response object). The value is still returned. @default none */
  // A method, not a property: its parameter is then checked bivariantly, so a predicate typed for
  // the caller's results (`(r: Response) => r.status >= 500`) is accepted where `unknown` is given.
  isFailureResult?(this: void, value: unknown): boolean;
  /** Time source. @default systemClock */
  readonly clock?: Clock;
  /** A snapshot (from `snapshot()`, possibly through JSON) to start from, e.g. across a restart. @default a closed breaker */
  readonly initial?: BreakerSnapshot;
  /** Shares the breaker's state with other processes (see `@bulwark/breaker/redis`). @default none (local) */
  readonly store?: BreakerStore;
  /** With a store: distinct breakers (processes) that must trip within `quorumWindowMs` before the fleet opens. @default 1 */
  readonly quorum?: number;
  /** With a store: how long a trip vote counts toward the quorum, in milliseconds. @default 60000 */
  readonly quorumWindowMs?: number;
  /**
   * With a store: how long a probe holds its fleet-wide slot if its process never reports (crashed),
   * in milliseconds. Set it above your slowest call.
   *
   * @default 30000
   */
  readonly probeLeaseMs?: number;
}

/**
 * A breaker's state as JSON, from `snapshot()`; give it to `initial` to start a breaker from it.
 *
 * @category models
 * @since 0.1.0
 */
export interface BreakerSnapshot {
  readonly version: 1;
  readonly name: string;
  readonly machine: MachineSnapshot;
}

/**
 * A breaker's counts: the window's while closed, zeros otherwise.
 *
 * @category models
 * @since 0.1.0
 */
export type BreakerStats = WindowStats;

/**
 * A circuit breaker: a {@link Policy} with its state, manual controls and a health report.
 *
 * @category models
 * @since 0.1.0
 */
export interface Breaker extends Policy<BreakerEvent>, HealthSource {
  readonly kind: 'breaker';
  /** The state now. An open breaker whose wait is over stays `open` until a call comes to probe. */
  readonly state: BreakerState;
  /** The window's counts while closed (for `consecutiveFailures`: failures in a row). */
  readonly stats: BreakerStats;
  /**
   * Opens the breaker until the returned function is called (with a store: across the fleet).
   * Isolations stack; the breaker closes when the last is released.
   */
  isolate(): Disposer;
  /** Closes the breaker with an empty window, ending every isolation (with a store: across the fleet). */
  reset(): void;
  /** The state as JSON. */
  snapshot(): BreakerSnapshot;
  /** Stops sharing through the store (a no-op without one). The breaker goes on locally. */
  dispose(): void;
}

type Classified = 'success' | 'failure' | 'ignored';

/** @internal The breaker's gate and state; exported to the fleet sync only. */
export class BreakerCore implements Gate<number | Probe> {
  machine: MachineState;
  /** +1 on every change of `machine.state`. */
  generation = 0;
  /**
   * Probes admitted here and not yet settled, of any generation, leased by the fleet or not (and
   * those asking the fleet for a lease). The machine counts only the probes of the half-open it is
   * in; a probe of an earlier half-open (one that failed and reopened the breaker) still loads the
   * dependency, so a new probe waits until fewer than `probes` are running.
   */
  private probesRunning = 0;
  /**
   * A state in which a success is known to change nothing (a healthy full window, no clock needed,
   * no result predicate): `exit` compares the current state with it and stops there.
   */
  private successIsNoopIn: MachineState | undefined = undefined;
  /** The last clock reading: what a success that needs no time passes the machine as `now`. */
  private lastNow = 0;
  private readonly timed: boolean;
  private readonly measured: boolean;
  readonly waits: boolean;
  readonly fleet: FleetSync | undefined;
  private holds = 0;
  /** +1 on every reset: an isolation taken before a reset has nothing left to release. */
  private resets = 0;

  constructor(
    readonly name: string,
    readonly config: MachineConfig,
    readonly clock: Clock,
    readonly emitter: Emitter<BreakerEvent>,
    private readonly isFailure: ((error: unknown) => boolean) | undefined,
    private readonly ignore: ((error: unknown) => boolean) | undefined,
    private readonly isFailureResult: ((value: unknown) => boolean) | undefined,
    initial: MachineState,
    store: { store: BreakerStore; quorum: number; quorumWindowMs: number; probeLeaseMs: number } | undefined,
  ) {
    this.machine = initial;
    // Restored isolations, without a store: no function releases them, a reset ends them. With a
    // store, isolations live in Redis under the ids of the processes that took them, and a snapshot
    // cannot tell this breaker's own from the fleet's it followed: the breaker follows the fleet.
    if (initial.state === 'isolated' && store === undefined) this.holds = initial.holders;
    this.timed = needsClockOnSuccess(config);
    this.measured = Number.isFinite(config.slowCallMs);
    this.waits = store !== undefined;
    this.fleet =
      store === undefined
        ? undefined
        : new FleetSync(this, store.store, {
            halfOpenAfterMs: config.halfOpenAfterMs,
            maxHalfOpenAfterMs: config.maxHalfOpenAfterMs,
            backoffFactor: config.backoffFactor,
            probes: config.probes,
            successesToClose: config.successesToClose,
            quorum: store.quorum,
            quorumWindowMs: store.quorumWindowMs,
            probeLeaseMs: store.probeLeaseMs,
          });
  }

  // -------------------------------------------------------------------------------------------
  // the gate
  // -------------------------------------------------------------------------------------------

  enter(ctx: Scope): number | Probe | Refusal {
    if (this.machine.state === 'closed') return this.measured ? this.clock.now() : 0;
    return this.enterNotClosed(ctx);
  }

  exit(token: number | Probe, outcome: Outcome, inner: Scope): number {
    if (typeof token === 'number') {
      // The success path of a healthy breaker: a success would leave this very state as it is.
      if (outcome.ok && this.machine === this.successIsNoopIn) return PASS;
      // An outcome of a call admitted while closed counts only while the breaker is still closed.
      if (this.machine.state === 'closed') this.closedOutcome(token, outcome, inner);
    } else {
      this.probeOutcome(token, outcome, inner);
    }
    return PASS;
  }

  private closedOutcome(start: number, outcome: Outcome, inner: Scope): void {
    let failed: boolean;
    if (outcome.ok) {
      failed = this.isFailureResult !== undefined && this.isFailureResult(outcome.value);
    } else {
      const kind = this.classify(outcome.value, inner);
      if (kind === 'ignored') return;
      failed = kind === 'failure';
    }
    if (failed && !outcome.ok && this.emitter.active) {
      this.emitter.emit({ type: 'failure', policy: this.name, context: inner, error: outcome.value });
    }
    if (failed || this.timed) {
      const now = (this.lastNow = this.clock.now());
      const event: MachineEvent = this.measured
        ? { type: failed ? 'failure' : 'success', durationMs: now - start }
        : failed
          ? events.failure
          : events.success;
      this.apply(event, now, 'local');
      return;
    }
    // A success under a strategy that keeps no time: the machine reads `now` only if the success
    // trips the window (it can, reaching `minimumCalls`), so the clock is read only then.
    const previous = this.machine;
    const next = step(previous, events.success, this.lastNow, this.config);
    if (next === previous) {
      // States are immutable and the step is pure: remember that a success changes nothing here,
      // and skip the step for every success until the state changes (see `exit`).
      if (this.isFailureResult === undefined) this.successIsNoopIn = previous;
      return;
    }
    if (next.state === 'closed') this.machine = next;
    else this.apply(events.success, this.now(), 'local');
  }

  private probeOutcome(probe: Probe, outcome: Outcome, inner: Scope): void {
    let kind: Classified;
    if (outcome.ok) {
      kind = this.isFailureResult !== undefined && this.isFailureResult(outcome.value) ? 'failure' : 'success';
    } else {
      kind = this.classify(outcome.value, inner);
    }
    const now = (this.lastNow = this.clock.now());
    const durationMs = now - probe.start;
    this.probesRunning--;
    if (kind === 'failure' && !outcome.ok && this.emitter.active) {
      this.emitter.emit({ type: 'failure', policy: this.name, context: inner, error: outcome.value });
    }
    if (probe.lease !== undefined && this.fleet !== undefined) {
      // The fleet decides; a slow probe is a failed one, as the machine would judge it.
      const reported =
        kind === 'ignored' ? 'release' : kind === 'success' && durationMs >= this.config.slowCallMs ? 'failure' : kind;
      this.fleet.probeDone(probe, reported, now);
      return;
    }
    this.probeSettled(probe, kind, durationMs, now);
  }

  /** Counts a probe from its admission (or its request for a lease) until it settles. */
  takeProbeSlot(): void {
    this.probesRunning++;
  }

  /** Gives back the slot of a probe that will not run after all (its lease was refused). */
  freeProbeSlot(): void {
    this.probesRunning--;
  }

  /** Feeds a probe's outcome to the machine, if the breaker is still in the half-open it was admitted in. */
  probeSettled(probe: Probe, kind: Classified | 'release', durationMs: number, now: number): void {
    if (probe.generation !== this.generation) return;
    if (kind === 'ignored' || kind === 'release') this.apply(events.release, now, 'local');
    else this.apply(this.measured ? { type: kind, durationMs } : events[kind], now, 'local');
  }

  private classify(error: unknown, inner: Scope): Classified {
    // A call its caller (or an outer policy) cancelled says nothing about the dependency, whether
    // the task rejected with the abort's reason or with an error of its own making.
    if (inner.aborted) return 'ignored';
    if (this.ignore !== undefined && this.ignore(error)) return 'ignored';
    if (this.isFailure === undefined || this.isFailure(error)) return 'failure';
    return 'success';
  }

  private enterNotClosed(ctx: Scope): number | Probe | Refusal {
    const now = (this.lastNow = this.clock.now());
    const decision = admission(this.machine, now, this.config);
    if (decision.kind === 'pass') return now;
    if (decision.kind === 'probe') {
      // Full, counting stragglers of an earlier half-open: a slot frees when one settles.
      if (this.probesRunning >= this.config.probes) return refuse(this.rejection(ctx, 0));
      // A gate that `waits` may return a promise of its token (ADR 0001): a fleet lease.
      if (this.fleet?.leasesProbes() === true) return this.fleet.acquire(ctx, now) as unknown as Probe;
      this.apply(events.probe, now, 'local');
      this.takeProbeSlot();
      return new Probe(this.generation, now, undefined, '');
    }
    // Refused without a throw: the runner rejects the call's promise with the error, once.
    return refuse(this.rejection(ctx, decision.retryAfterMs));
  }

  /** The error for a refused call, with its event. */
  rejection(ctx: Scope, retryAfterMs: number): Error {
    const state = this.machine.state === 'closed' ? 'open' : this.machine.state;
    if (this.emitter.active) {
      this.emitter.emit({ type: 'rejected', policy: this.name, context: ctx, state, retryAfterMs });
    }
    return state === 'isolated' ? new IsolatedError(this.name) : new BrokenCircuitError(this.name, state, retryAfterMs);
  }

  /** Why a call would be refused now, or `undefined` if it would be admitted. */
  refusal(now: number): number | undefined {
    const decision = admission(this.machine, now, this.config);
    return decision.kind === 'reject' ? decision.retryAfterMs : undefined;
  }

  // -------------------------------------------------------------------------------------------
  // state
  // -------------------------------------------------------------------------------------------

  apply(event: MachineEvent, now: number, source: 'local' | 'manual'): void {
    const previous = this.machine;
    const next = step(previous, event, now, this.config);
    if (next === previous) return;
    this.machine = next;
    if (next.state !== previous.state) this.changed(previous, next, now, source);
  }

  /** Replaces the state with the fleet's. */
  force(next: MachineState, now: number): void {
    const previous = this.machine;
    this.machine = next;
    if (next.state !== previous.state) this.changed(previous, next, now, 'fleet');
  }

  private changed(previous: MachineState, next: MachineState, now: number, source: 'local' | 'manual' | 'fleet'): void {
    this.generation++;
    if (this.emitter.active) {
      this.emitter.emit(
        next.state === 'open'
          ? {
              type: 'state-change',
              policy: this.name,
              from: previous.state,
              to: next.state,
              source,
              retryAfterMs: Math.max(0, next.untilMs - now),
            }
          : { type: 'state-change', policy: this.name, from: previous.state, to: next.state, source },
      );
    }
    this.fleet?.transition(previous, next, source);
  }

  now(): number {
    return (this.lastNow = this.clock.now());
  }

  isolate(): Disposer {
    this.holds++;
    this.apply(events.isolate, this.now(), 'manual');
    const holder = this.fleet?.isolate();
    const resets = this.resets;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      // A reset since ended every isolation, this one included.
      if (this.resets !== resets) return;
      // With a store, so did a reset of the fleet made after this isolation reached it.
      if (holder !== undefined && this.fleet?.release(holder) === false) return;
      this.holds--;
      this.apply(events.unisolate, this.now(), 'manual');
    };
  }

  reset(): void {
    this.holds = 0;
    this.resets++;
    this.apply(events.reset, this.now(), 'manual');
    this.fleet?.reset();
  }

  /** Isolations taken by this breaker and not released. */
  get ownHolds(): number {
    return this.holds;
  }

  /** Someone reset the fleet: that ended `count` of this breaker's isolations (the fleet's sync knows which). */
  dropHolds(count: number): void {
    this.holds -= count;
  }

  health(): Health {
    const now = this.now();
    const m = this.machine;
    let status: HealthStatus;
    const details: Record<string, Json> = { state: m.state };
    switch (m.state) {
      case 'closed': {
        status = 'healthy';
        const stats = windowStats(m.window, now, this.config.strategy);
        details['calls'] = stats.calls;
        details['failures'] = stats.failures;
        details['slowCalls'] = stats.slowCalls;
        break;
      }
      case 'open':
        status = now >= m.untilMs ? 'degraded' : 'unhealthy';
        details['retryAfterMs'] = Math.max(0, m.untilMs - now);
        details['openings'] = m.openings;
        break;
      case 'half-open':
        status = 'degraded';
        details['probesInFlight'] = m.inFlight;
        details['successes'] = m.successes;
        details['openings'] = m.openings;
        break;
      case 'isolated':
        status = 'unhealthy';
        details['retryAfterMs'] = null;
        details['isolations'] = m.holders;
        break;
    }
    if (this.fleet !== undefined) {
      details['store'] = this.fleet.reachable ? 'reachable' : 'unreachable';
      if (!this.fleet.reachable && status === 'healthy') status = 'degraded';
    }
    return { status, details };
  }

  stats(): BreakerStats {
    const m = this.machine;
    if (m.state !== 'closed') return { calls: 0, failures: 0, slowCalls: 0 };
    return windowStats(m.window, this.now(), this.config.strategy);
  }
}

/**
 * Makes a circuit breaker.
 *
 * @throws TypeError or RangeError naming the option, for a bad option.
 * @example
 * ```ts
 * import { VirtualClock } from '@bulwark/testkit';
 *
 * const clock = new VirtualClock();
 * const database = breaker({ name: 'database', strategy: consecutiveFailures(2), halfOpenAfterMs: 1000, clock });
 * const failing = async () => { throw new Error('connection refused'); };
 * await assert.rejects(database.execute(failing), /connection refused/);
 * await assert.rejects(database.execute(failing), /connection refused/);
 * assert.equal(database.state, 'open');
 * await assert.rejects(database.execute(async () => 'ok'), isBrokenCircuitError);
 * await clock.advance(1000);
 * assert.equal(await database.execute(async () => 'ok'), 'ok'); // the probe closes it
 * assert.equal(database.state, 'closed');
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function breaker(options: BreakerOptions = {}): Breaker {
  check.object('options', options);
  const name = check.string('name', options.name, 'breaker');
  if (name.length === 0) check.fail('name', 'a non-empty string', name);
  const strategy = options.strategy === undefined ? consecutiveFailures(5) : checkStrategy(options.strategy);
  const halfOpenAfterMs = check.number('halfOpenAfterMs', options.halfOpenAfterMs, 60_000, { min: 0 });
  const maxHalfOpenAfterMs = check.number('maxHalfOpenAfterMs', options.maxHalfOpenAfterMs, halfOpenAfterMs, {
    min: halfOpenAfterMs,
  });
  const backoffFactor = check.number('backoffFactor', options.backoffFactor, 2, { min: 1 });
  const probes = check.integer('probes', options.probes, 1, { min: 1 });
  const successesToClose = check.integer('successesToClose', options.successesToClose, probes, { min: 1 });
  const slowCallMs = check.number('slowCallMs', options.slowCallMs, Number.POSITIVE_INFINITY, {
    min: 0,
    finite: false,
  });
  const clock = options.clock ?? systemClock;
  check.object('clock', clock);
  if (typeof clock.now !== 'function') check.fail('clock', 'a Clock (with `now`)', clock);
  const isFailureResult = check.func<(value: unknown) => boolean, undefined>(
    'isFailureResult',
    options.isFailureResult,
    undefined,
  );
  const config: MachineConfig = Object.freeze({
    strategy,
    halfOpenAfterMs,
    maxHalfOpenAfterMs,
    backoffFactor,
    probes,
    successesToClose,
    slowCallMs,
  });

  let initial: MachineState = closed(config);
  if (options.initial !== undefined) {
    const snapshot = options.initial as unknown;
    const restored =
      typeof snapshot === 'object' && snapshot !== null && (snapshot as { version?: unknown }).version === 1
        ? fromSnapshot((snapshot as { machine?: unknown }).machine, config)
        : undefined;
    if (restored === undefined) return check.fail('initial', 'a snapshot from breaker.snapshot()', snapshot);
    // Probes in flight when the snapshot was taken died with the process that ran them.
    initial = restored.state === 'half-open' ? { ...restored, inFlight: 0 } : restored;
  }

  // Checked with a store or without: a mistake must not wait for the day a store is added.
  const quorum = check.integer('quorum', options.quorum, 1, { min: 1 });
  const quorumWindowMs = check.integer('quorumWindowMs', options.quorumWindowMs, 60_000, { min: 1 });
  const probeLeaseMs = check.integer('probeLeaseMs', options.probeLeaseMs, 30_000, { min: 1 });
  let store: ConstructorParameters<typeof BreakerCore>[8];
  if (options.store !== undefined) {
    check.object('store', options.store);
    if (typeof options.store.attach !== 'function')
      check.fail('store', 'a BreakerStore (with `attach`)', options.store);
    store = { store: options.store, quorum, quorumWindowMs, probeLeaseMs };
  }

  const guarded = (predicate: ((value: unknown) => boolean) | undefined, fallback: boolean) =>
    predicate === undefined ? undefined : guardedPredicate(predicate, fallback);
  const emitter = new Emitter<BreakerEvent>();
  const core = new BreakerCore(
    name,
    config,
    clock,
    emitter,
    // A predicate that throws is a bug, surfaced on a later tick, never in the call: an error counts
    // as a failure, a value as a success.
    guarded(check.errorFilter('isFailure', options.isFailure), true),
    guarded(check.errorFilter('ignore', options.ignore), false),
    guarded(isFailureResult, false),
    initial,
    store,
  );
  return new BreakerImpl(definePolicy<BreakerEvent>(name, [{ gate: core }], emitter), core);
}

/**
 * A breaker: core's policy, with the breaker's members beside it. It delegates to the policy rather
 * than adding members to it, so the policy object keeps the one shape every policy has (adding
 * properties to it would make the calls through it polymorphic, measurably slower).
 */
class BreakerImpl implements Breaker {
  readonly kind = 'breaker';
  readonly name: string;
  readonly layers: Policy<BreakerEvent>['layers'];

  constructor(
    private readonly policy: Policy<BreakerEvent>,
    private readonly core: BreakerCore,
  ) {
    this.name = policy.name;
    this.layers = policy.layers;
  }

  get state(): BreakerState {
    return this.core.machine.state;
  }

  get stats(): BreakerStats {
    return this.core.stats();
  }

  decorate<A>(next: Task<A>): Task<A> {
    return this.policy.decorate(next);
  }

  execute<A>(task: Task<A>, options?: AbortSignal | ExecuteOptions): Promise<A> {
    return this.policy.execute(task, options);
  }

  wrap<F extends (...args: never[]) => PromiseLike<unknown>>(fn: F, options?: WrapOptions<Parameters<F>>): F {
    return this.policy.wrap(fn, options);
  }

  wrapWithContext<Args extends unknown[], R>(
    fn: (context: Context, ...args: Args) => PromiseLike<R>,
    options?: WrapOptions<Args>,
  ): (...args: Args) => Promise<R> {
    return this.policy.wrapWithContext(fn, options);
  }

  onEvent(listener: Listener<BreakerEvent>): Disposer {
    return this.policy.onEvent(listener);
  }

  isolate(): Disposer {
    return this.core.isolate();
  }

  reset(): void {
    this.core.reset();
  }

  snapshot(): BreakerSnapshot {
    return { version: 1, name: this.name, machine: toSnapshot(this.core.machine, this.core.config) };
  }

  health(): Health {
    return this.core.health();
  }

  dispose(): void {
    this.core.fleet?.dispose();
  }
}
