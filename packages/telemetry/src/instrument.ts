/**
 * Attaching telemetry to a policy: one outermost gate that times every call, and one subscription to
 * the policy's events, both shared by every sink (metrics, OpenTelemetry, Prometheus, logs).
 *
 * Nothing here touches a policy that is not instrumented: its emitters stay inactive and its calls
 * run as before. An instrumented policy behaves exactly as the policy it wraps (same values, same
 * errors, same events); it only adds the measuring. A sink that throws never fails a call: its error
 * surfaces on a later tick, as a listener's does in core's `Emitter`.
 *
 * @module
 */

import {
  definePolicy,
  PASS,
  Scope,
  type Clock,
  type Context,
  type Disposer,
  type ExecuteOptions,
  type Gate,
  type Layer,
  type Listener,
  type Outcome,
  type Policy,
  type PolicyEvent,
  type Task,
  type WrapOptions,
} from '@bulwark/core';
import { optionChecker, type OptionChecker } from '@bulwark/core/options';

import { isArrayOf } from './internal/checks.js';

const check: OptionChecker = optionChecker('@bulwark/telemetry');

/**
 * What one sink does for one instrumented policy. Every member but `end` is optional, and the
 * instrumented gate skips work that no binding asked for (no per-call state when no binding has
 * `start`, no context switch when none has `around`).
 *
 * Called synchronously on the call's path: keep each member cheap, and build nothing that is not
 * going to be written.
 *
 * @typeParam S - What the binding keeps per call (a span), returned by `start`.
 * @since 0.1.0
 */
export interface SinkBinding<S = unknown> {
  /**
   * A call starts, in `context`; returns the binding's state for it, or `undefined` when it keeps
   * nothing for this call (then `around` is skipped and `end` and `event` receive `undefined`).
   */
  start?(context: Context): S;
  /**
   * Runs the inner part of the call inside something of the binding's (OpenTelemetry's active
   * context, so spans the task starts become children of the call's span). Must return what `run`
   * returns, and call it exactly once.
   */
  around?<A>(state: S, run: () => A): A;
  /**
   * A call ended after `durationMs` milliseconds with `outcome` (`ok` and the value or error).
   * `outcome` is only valid during the call: copy what you keep.
   *
   * A call in flight when the instrumented policy is disposed still ends, after `dispose`, for the
   * bindings whose `start` kept state for it (so a span started is always ended), and for no other.
   */
  end(context: Context, durationMs: number, outcome: Outcome, state: S): void;
  /**
   * An event of the policy. `state` is the binding's state of the call the event belongs to, when it
   * belongs to a call of this instrumented policy.
   */
  event?(event: PolicyEvent, state: S | undefined): void;
  /** The instrumented policy was disposed: let go of anything held for it. */
  dispose?(): void;
}

/**
 * Somewhere telemetry goes: in-process metrics, OpenTelemetry, Prometheus, a logger, or your own.
 * One sink may serve many instrumented policies; it is bound once to each.
 *
 * @example
 * ```ts
 * import { noop } from '@bulwark/core';
 * import type { TelemetrySink } from '@bulwark/telemetry';
 * const seen: string[] = [];
 * const outcomes: TelemetrySink = {
 *   bind: (policy) => ({ end: (_ctx, _ms, outcome) => void seen.push(`${policy}:${outcome.ok}`) }),
 * };
 * await instrument(noop, [outcomes], { name: 'db' }).execute(async () => 1);
 * assert.deepEqual(seen, ['db:true']);
 * ```
 *
 * @since 0.1.0
 */
export interface TelemetrySink {
  /** Binds the sink to the instrumented policy named `policy`. Called once per {@link instrument}. */
  bind(policy: string): SinkBinding;
}

/**
 * Options of {@link instrument}.
 *
 * @since 0.1.0
 */
export interface InstrumentOptions {
  /**
   * The name telemetry reports the policy under.
   * @default the policy's own name (for a pipeline, its parts' names joined by ' → ')
   */
  readonly name?: string;
  /**
   * Where call durations are read from; only `now()` is used, in milliseconds.
   * @default performance (sub-millisecond resolution)
   */
  readonly clock?: Pick<Clock, 'now'>;
}

/**
 * A policy with telemetry attached. It runs, composes and emits exactly as the policy it wraps.
 *
 * @since 0.1.0
 */
export interface InstrumentedPolicy<E extends PolicyEvent = PolicyEvent> extends Policy<E> {
  /** The policy telemetry was attached to. */
  readonly inner: Policy<E>;
  /**
   * Detaches telemetry: unsubscribes from the policy's events and stops measuring calls. A call in
   * flight still ends what it started (its span).
   */
  dispose(): void;
}

/** The high-resolution default: `performance.now()` reads in microseconds, `Date.now()` in milliseconds. */
const performanceClock: Pick<Clock, 'now'> = { now: () => performance.now() };

/** One call's record when some binding keeps per-call state. */
interface CallRecord {
  readonly startedAt: number;
  readonly states: unknown[];
}

function report(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** The gate and the event listener shared by every binding of one instrumented policy. */
class Instrumentation implements Gate<number | CallRecord> {
  /** Calls in flight by the scope they entered in, when some binding keeps per-call state. */
  private readonly calls: WeakMap<Scope, CallRecord> | undefined;
  private readonly stateful: boolean;
  private readonly starting: readonly number[];
  private readonly hearing: readonly number[];
  private readonly wrapping: readonly number[];
  private active = true;

  constructor(
    private readonly bindings: readonly SinkBinding[],
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    const indexes = (has: (b: SinkBinding) => boolean): number[] =>
      bindings.flatMap((binding, i) => (has(binding) ? [i] : []));
    this.starting = indexes((b) => b.start !== undefined);
    this.hearing = indexes((b) => b.event !== undefined);
    this.wrapping = indexes((b) => b.around !== undefined);
    this.stateful = this.starting.length > 0;
    this.calls = this.stateful ? new WeakMap() : undefined;
  }

  get wraps(): boolean {
    return this.wrapping.length > 0;
  }

  get listens(): boolean {
    return this.hearing.length > 0;
  }

  enter(ctx: Scope): number | CallRecord {
    const startedAt = this.clock.now();
    if (!this.stateful || !this.active) return startedAt;
    let states: unknown[] | undefined;
    for (const i of this.starting) {
      try {
        const state = (this.bindings[i] as Required<SinkBinding>).start(ctx);
        // A binding with nothing to keep for this call (a span that records nothing) costs no record.
        if (state !== undefined) (states ??= new Array<unknown>(this.bindings.length))[i] = state;
      } catch (error) {
        report(error);
      }
    }
    if (states === undefined) return startedAt;
    const record: CallRecord = { startedAt, states };
    this.calls?.set(ctx, record);
    return record;
  }

  exit(token: number | CallRecord, outcome: Outcome, inner: Scope): number {
    // The gate is not scoped, so the scope the inner part ran in is the one it entered in.
    if (this.active) this.end(token, outcome, inner, false);
    // A call that started before dispose() still ends what it started (a span), and only that.
    else if (typeof token !== 'number') this.end(token, outcome, inner, true);
    return PASS;
  }

  private end(token: number | CallRecord, outcome: Outcome, inner: Scope, onlyStarted: boolean): void {
    const now = this.clock.now();
    let startedAt: number;
    let states: unknown[] | undefined;
    if (typeof token === 'number') startedAt = token;
    else {
      startedAt = token.startedAt;
      states = token.states;
      this.calls?.delete(inner);
    }
    const durationMs = now > startedAt ? now - startedAt : 0;
    const bindings = this.bindings;
    for (let i = 0; i < bindings.length; i++) {
      const state = states?.[i];
      if (onlyStarted && state === undefined) continue;
      try {
        (bindings[i] as SinkBinding).end(inner, durationMs, outcome, state);
      } catch (error) {
        report(error);
      }
    }
  }

  /** Runs the inner part inside every binding's `around`, innermost binding last. */
  around<A>(ctx: Context, run: () => A): A {
    const record = ctx instanceof Scope ? this.calls?.get(ctx) : undefined;
    if (record === undefined || !this.active) return run();
    let wrapped = run;
    for (let k = this.wrapping.length - 1; k >= 0; k--) {
      const i = this.wrapping[k] as number;
      const state = record.states[i];
      if (state === undefined) continue;
      const binding = this.bindings[i] as Required<SinkBinding>;
      const inner = wrapped;
      wrapped = () => {
        // A binding that throws before running the inner part must not fail the call: run it anyway.
        let ran = false;
        try {
          return binding.around(state, () => {
            ran = true;
            return inner();
          });
        } catch (error) {
          if (ran) throw error;
          report(error);
          return inner();
        }
      };
    }
    return wrapped();
  }

  readonly listener: Listener<PolicyEvent> = (event) => {
    if (!this.active) return;
    const record = this.calls !== undefined ? this.callOf(event.context) : undefined;
    for (const i of this.hearing) {
      try {
        (this.bindings[i] as Required<SinkBinding>).event(event, record?.states[i]);
      } catch (error) {
        report(error);
      }
    }
  };

  /** The call an event belongs to: the nearest scope up its context's chain that entered this gate. */
  private callOf(context: Context | undefined): CallRecord | undefined {
    if (!(context instanceof Scope)) return undefined;
    for (let scope: Scope | undefined = context; scope !== undefined; scope = scope.parent) {
      const record = this.calls?.get(scope);
      if (record !== undefined) return record;
    }
    return undefined;
  }

  dispose(): void {
    if (!this.active) return;
    this.active = false;
    for (const binding of this.bindings) {
      try {
        binding.dispose?.();
      } catch (error) {
        report(error);
      }
    }
  }
}

class Instrumented<E extends PolicyEvent> implements InstrumentedPolicy<E> {
  constructor(
    readonly name: string,
    readonly inner: Policy<E>,
    private readonly measured: Policy<never>,
    private readonly detach: () => void,
  ) {}

  get layers(): readonly Layer[] {
    return this.measured.layers;
  }

  decorate<A>(next: Task<A>): Task<A> {
    return this.measured.decorate(next);
  }

  execute<A>(task: Task<A>, options?: AbortSignal | ExecuteOptions): Promise<A> {
    return this.measured.execute(task, options);
  }

  wrap<F extends (...args: never[]) => PromiseLike<unknown>>(fn: F, options?: WrapOptions<Parameters<F>>): F {
    return this.measured.wrap(fn, options);
  }

  wrapWithContext<Args extends unknown[], R>(
    fn: (context: Context, ...args: Args) => PromiseLike<R>,
    options?: WrapOptions<Args>,
  ): (...args: Args) => Promise<R> {
    return this.measured.wrapWithContext(fn, options);
  }

  onEvent(listener: Listener<E>): Disposer {
    return this.inner.onEvent(listener);
  }

  dispose(): void {
    this.detach();
  }
}

/**
 * Attaches telemetry to a policy or a whole pipeline: every call is timed and its outcome recorded,
 * and every event of the policy reaches the sinks.
 *
 * The returned policy puts one gate outside the policy's layers (a call's start in `enter`, its
 * outcome and duration in `exit`) and subscribes once to the policy's events. Use it in place of the
 * policy; the policy itself is unchanged, and costs nothing extra where it is used uninstrumented
 * (except that its events are now built, since someone listens).
 *
 * @param policy - The policy or pipeline to watch.
 * @param sinks - Where the telemetry goes: {@link metrics}, `openTelemetry(…)`, `prometheus(…)`, {@link jsonLogs}, or your own.
 * @throws TypeError when `sinks` is not an array of sinks or an option is malformed.
 * @example
 * ```ts
 * import { noop, pipeline } from '@bulwark/core';
 * const stats = metrics();
 * const api = instrument(pipeline(noop), [stats], { name: 'api' });
 * await api.execute(async () => 'ok');
 * await api.execute(async () => Promise.reject(new TypeError('bad'))).catch(() => undefined);
 * const [row] = stats.snapshot().policies;
 * assert.equal(row?.calls, 2);
 * assert.deepEqual(row?.failuresByType, { TypeError: 1 });
 * ```
 *
 * @since 0.1.0
 */
export function instrument<E extends PolicyEvent>(
  policy: Policy<E>,
  sinks: readonly TelemetrySink[],
  options: InstrumentOptions = {},
): InstrumentedPolicy<E> {
  check.object('options', options);
  if (
    typeof policy !== 'object' ||
    policy === null ||
    !isArrayOf((policy as { layers?: unknown }).layers, () => true)
  ) {
    check.fail('policy', 'a policy', policy);
  }
  if (!isArrayOf(sinks, (s) => typeof (s as Partial<TelemetrySink> | undefined)?.bind === 'function')) {
    throw new TypeError(`@bulwark/telemetry: expected \`sinks\` to be an array of sinks (objects with bind())`);
  }
  const name = check.string('name', options.name, policy.name);
  const clock = options.clock ?? performanceClock;
  if (typeof clock?.now !== 'function') check.fail('clock', 'an object with now()', clock);

  const bindings = sinks.map((sink) => sink.bind(name));
  const instrumentation = new Instrumentation(bindings, clock);
  const layers: Layer[] = [{ gate: instrumentation }];
  if (instrumentation.wraps) {
    layers.push({
      decorate:
        <A>(next: Task<A>): Task<A> =>
        (ctx) =>
          instrumentation.around(ctx, () => next(ctx)),
    });
  }
  layers.push(...policy.layers);
  const unsubscribe = instrumentation.listens ? policy.onEvent(instrumentation.listener) : undefined;
  const measured = definePolicy(name, layers);
  return new Instrumented(name, policy, measured, () => {
    unsubscribe?.();
    instrumentation.dispose();
  });
}
