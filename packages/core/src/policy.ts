/**
 * Policies: values that decorate tasks, and the two ways to run them (`execute`, `wrap`).
 *
 * A policy is a list of layers, outermost first; each layer is a {@link Gate} (bookkeeping around the
 * inner call, fusable) or a decorator (`Task -> Task`, for policies that must own the call, like a
 * cache or a hedge). `pipeline` concatenates layer lists, so composition is associative with `noop`
 * (no layers) as its identity: policies form a monoid.
 *
 * Everything a call needs is built once, when the policy is first run: adjacent gates are fused into
 * one runner, decorators are applied to a fixed innermost task that reads the caller's task from the
 * call's root scope. A call then allocates its root scope and whatever its layers need, nothing more.
 *
 * @module
 */

import { Scope, type Context, type Task } from './context.js';
import { type Emitter, type Disposer, type Listener, type PolicyEvent } from './events.js';
import { fuseGates, type Gate } from './gate.js';

/**
 * A decorator layer: takes the inner task, returns the task that runs in its place.
 *
 * It must pass on the {@link Context} it receives (or a child scope of it), never a context of its own
 * making: the innermost task finds the caller's task through it.
 *
 * @category models
 * @since 0.1.0
 */
export type Decorator = <A>(next: Task<A>) => Task<A>;

/**
 * One layer of a policy.
 *
 * @category models
 * @since 0.1.0
 */
export type Layer =
  { readonly gate: Gate; readonly decorate?: never } | { readonly decorate: Decorator; readonly gate?: never };

/**
 * Where a wrapped function's caller passes an `AbortSignal`, and an optional correlation id.
 *
 * @category models
 * @since 0.1.0
 */
export interface WrapOptions<Args extends readonly unknown[]> {
  /** Picks the caller's signal out of the arguments of each call, e.g. `(url, init) => init?.signal`. */
  readonly signal?: (...args: Args) => AbortSignal | undefined;
  /** Picks the call's correlation id out of the arguments, e.g. a request id. */
  readonly correlationId?: (...args: Args) => string | undefined;
}

/**
 * How a call is run by {@link Policy.execute}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ExecuteOptions {
  /** The caller's signal: aborting it aborts the call. */
  readonly signal?: AbortSignal;
  /** The call's correlation id; a random UUID is made on first read when absent. */
  readonly correlationId?: string;
}

/**
 * A value that decorates async tasks with some resilience behaviour.
 *
 * @typeParam E - The events the policy emits.
 * @category models
 * @since 0.1.0
 */
export interface Policy<E extends PolicyEvent = PolicyEvent> {
  /** The policy's name in events and reports: its kind (`'retry'`), or the name it was given. */
  readonly name: string;
  /** The layers, outermost first. Policy authors read them; users need not. */
  readonly layers: readonly Layer[];
  /** Decorates a task: the essential operation. */
  decorate<A>(next: Task<A>): Task<A>;
  /**
   * Runs `task` under the policy.
   *
   * @param task - Receives the {@link Context}; may ignore it.
   * @param options - The caller's `AbortSignal`, or {@link ExecuteOptions}.
   */
  execute<A>(task: Task<A>, options?: AbortSignal | ExecuteOptions): Promise<A>;
  /**
   * Wraps `fn` so that every call runs under the policy, keeping its exact type.
   *
   * `fn` is called with the arguments it was given and nothing else; to read the {@link Context},
   * use {@link Policy.wrapWithContext}.
   */
  wrap<F extends (...args: never[]) => PromiseLike<unknown>>(fn: F, options?: WrapOptions<Parameters<F>>): F;
  /**
   * Wraps `fn`, which takes the call's {@link Context} first; the wrapped function takes the rest.
   */
  wrapWithContext<Args extends unknown[], R>(
    fn: (context: Context, ...args: Args) => PromiseLike<R>,
    // Not inferred from: a picker that ignores the arguments (`{ signal: () => batch.signal }`)
    // would otherwise make `Args` empty.
    options?: NoInfer<WrapOptions<Args>>,
  ): (...args: Args) => Promise<R>;
  /** Subscribes to every event of the policy (and, for a pipeline, of its parts). */
  onEvent(listener: Listener<E>): Disposer;
}

/** The innermost task of every compiled policy: the caller's task, found through the call's root scope. */
const callersTask: Task<unknown> = (context) => {
  const ctx = context as Scope;
  // Not `instanceof`: on every call, a property read costs less (and a scope is never subclassed).
  if (ctx.constructor !== Scope) {
    throw new TypeError('@bulwark/core: a decorator must pass its context on');
  }
  // A call whose caller (or a policy outside) has already aborted does not start its task, as `fetch`
  // does not start a request with an aborted signal: it rejects with the reason.
  if (ctx.aborted) throw ctx.reason;
  const root = ctx.root;
  const task = root.task as Task<unknown>;
  if (root.args === undefined) return task(ctx);
  return root.withContext
    ? (task as (ctx: Context, ...args: readonly unknown[]) => PromiseLike<unknown>)(ctx, ...root.args)
    : (task as (...args: readonly unknown[]) => PromiseLike<unknown>)(...root.args);
};

/** Builds the task that runs every layer around {@link callersTask}: adjacent gates fused into one runner. */
function compile(layers: readonly Layer[]): Task<unknown> {
  let inner: Task<unknown> = callersTask;
  let run: Gate[] = [];
  const flush = (): void => {
    if (run.length === 0) return;
    // The runners only ever receive scopes: every context in a call is one.
    inner = fuseGates(run, inner) as unknown as Task<unknown>;
    run = [];
  };
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as Layer;
    if (layer.gate !== undefined) {
      // A gate that interrupts stops waiting for everything inside it, so it must be the innermost
      // gate of its runner: what is inside then settles on its own, in the background.
      if (layer.gate.interrupts === true) flush();
      run.unshift(layer.gate);
    } else {
      flush();
      inner = layer.decorate(inner);
    }
  }
  flush();
  return inner;
}

class PolicyImpl<E extends PolicyEvent> implements Policy<E> {
  // Declared and set in the constructor (the bundle is smaller without field definitions).
  declare readonly name: string;
  declare readonly layers: readonly Layer[];
  declare private readonly subscribe: (listener: Listener<E>) => Disposer;
  declare private compiled: Task<unknown> | undefined;

  constructor(name: string, layers: readonly Layer[], subscribe: (listener: Listener<E>) => Disposer) {
    this.name = name;
    this.layers = layers;
    this.subscribe = subscribe;
    this.compiled = undefined;
  }

  decorate<A>(next: Task<A>): Task<A> {
    const run = (this.compiled ??= compile(this.layers));
    // Inside another call, run in a scope nested in the caller's (same signal, attempt and id);
    // given some other context, take its signal and id.
    return (ctx) =>
      run(ctx instanceof Scope ? ctx.nested(next) : Scope.root(next, ctx.signal, ctx.correlationId)) as PromiseLike<A>;
  }

  execute<A>(task: Task<A>, options?: AbortSignal | ExecuteOptions): Promise<A> {
    const run = (this.compiled ??= compile(this.layers));
    let root: Scope;
    if (options === undefined) root = Scope.root(task);
    else if (options instanceof AbortSignal) root = Scope.root(task, options);
    else root = Scope.root(task, options.signal, options.correlationId);
    return start(run, root) as Promise<A>;
  }

  wrap<F extends (...args: never[]) => PromiseLike<unknown>>(fn: F, options?: WrapOptions<Parameters<F>>): F {
    return this.wrapIn(
      false,
      fn as unknown as Task<unknown>,
      options as WrapOptions<unknown[]> | undefined,
    ) as unknown as F;
  }

  wrapWithContext<Args extends unknown[], R>(
    fn: (context: Context, ...args: Args) => PromiseLike<R>,
    options?: NoInfer<WrapOptions<Args>>,
  ): (...args: Args) => Promise<R> {
    return this.wrapIn(true, fn as unknown as Task<unknown>, options as WrapOptions<unknown[]> | undefined) as (
      ...args: Args
    ) => Promise<R>;
  }

  private wrapIn(
    withContext: boolean,
    task: Task<unknown>,
    options: WrapOptions<unknown[]> | undefined,
  ): (...args: unknown[]) => Promise<unknown> {
    const signalOf = options?.signal;
    const idOf = options?.correlationId;
    // Compiled here, once per wrapped function, not looked up on each of its calls.
    const run = (this.compiled ??= compile(this.layers));
    return (...args: unknown[]): Promise<unknown> => {
      let root: Scope;
      try {
        root = Scope.forArgs(task, withContext, args, signalOf?.(...args), idOf?.(...args));
      } catch (error) {
        // A picker that throws fails the call as its task would: a wrapped async function rejects.
        return Promise.reject(error);
      }
      return start(run, root);
    };
  }

  onEvent(listener: Listener<E>): Disposer {
    return this.subscribe(listener);
  }
}

/** Starts a compiled call: a synchronous throw becomes a rejection, a plain value a promise. */
function start(run: Task<unknown>, root: Scope): Promise<unknown> {
  try {
    const pending = run(root);
    return pending instanceof Promise ? pending : Promise.resolve(pending);
  } catch (error) {
    return Promise.reject(error);
  }
}

const noSubscription: Disposer = () => undefined;

/**
 * Makes a policy from its layers and its events. Policy packages build on this; `execute`, `wrap` and
 * composition come with it.
 *
 * @example
 * ```ts
 * let calls = 0;
 * const counting = definePolicy('counting', [
 *   { gate: { enter: () => calls++, exit: () => PASS } },
 * ]);
 * assert.equal(await counting.execute(async () => 'ok'), 'ok');
 * assert.equal(calls, 1);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function definePolicy<E extends PolicyEvent = never>(
  name: string,
  layers: readonly Layer[],
  events?: Emitter<E>,
): Policy<E> {
  return new PolicyImpl<E>(
    name,
    Object.freeze([...layers]),
    events !== undefined ? (l) => events.on(l) : () => noSubscription,
  );
}

/**
 * The policy that does nothing: the identity of {@link pipeline}.
 *
 * @example
 * ```ts
 * assert.equal(await noop.execute(async () => 42), 42);
 * ```
 *
 * @category instances
 * @since 0.1.0
 */
export const noop: Policy<never> = definePolicy('noop', []);

type EventOf<P> = P extends Policy<infer E> ? E : never;

/**
 * Composes policies, outermost first: `pipeline(retry, breaker, timeout)` retries calls that go
 * through the breaker, each attempt under the timeout.
 *
 * @example
 * ```ts
 * const both = pipeline(noop, noop);
 * assert.equal(await both.execute(async () => 'done'), 'done');
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export function pipeline<const Ps extends readonly Policy<PolicyEvent>[]>(
  ...policies: Ps
): Policy<EventOf<Ps[number]>> {
  const parts = policies.filter((p) => p.layers.length > 0 || p !== noop);
  if (parts.length === 1) return parts[0] as unknown as Policy<EventOf<Ps[number]>>;
  const layers = parts.flatMap((p) => p.layers);
  const name = parts.map((p) => p.name).join(' → ') || 'noop';
  const subscribe = (listener: Listener<EventOf<Ps[number]>>): Disposer => {
    const disposers = parts.map((p) => p.onEvent(listener as Listener<PolicyEvent>));
    return () => {
      for (const dispose of disposers) dispose();
    };
  };
  return new PolicyImpl(name, Object.freeze(layers), subscribe);
}
