/**
 * Gates: the fusable form of a policy, and the runner that settles a row of them in one promise hop.
 *
 * Most policies only keep books around the inner call: a breaker checks its state before and counts
 * the outcome after, a bulkhead takes a slot and gives it back, a retry decides after a failure whether
 * to go again. Written as `async (ctx) => { before; try { return await next(ctx) } finally { after } }`
 * each costs a promise hop per call. Written as a {@link Gate} (`enter` before, `exit` after, both
 * synchronous unless a gate must wait), a row of them runs in one `async` frame that awaits the task
 * once: see `docs/adr/0001-policy-shape.md`.
 *
 * Laws the runner keeps: every gate whose `enter` returned is exited exactly once per entry, innermost
 * first; a gate that refuses in `enter` (returns {@link refuse}'s marker, or throws) is not exited, and
 * the gates outside it see its error; a retry
 * (an `exit` returning a delay) re-enters only the gates inside the one that asked.
 *
 * @module
 */

import { systemClock } from './clock.js';
import type { Scope, Task } from './context.js';

/**
 * The outcome of the inner part of a call as the gates see it on the way out. A gate may rewrite it
 * (a timeout replaces the abort error with its `TimeoutError`).
 *
 * @category models
 * @since 0.1.0
 */
export interface Outcome {
  /** Whether the inner part produced a value. */
  ok: boolean;
  /** The value, or the error when `ok` is false. */
  value: unknown;
}

/**
 * Returned by {@link Gate.exit} to let the outcome go on outward (any other number is a delay in
 * milliseconds after which the inner part runs again).
 *
 * @example
 * ```ts
 * let attempts = 0;
 * // A gate that asks once for the inner part to run again, at once, after a failure.
 * const againOnce = definePolicy('again-once', [
 *   { gate: { enter: () => undefined, exit: (_token, outcome) => (outcome.ok || attempts > 1 ? PASS : 0) } },
 * ]);
 * const value = await againOnce.execute(async () => {
 *   if (++attempts === 1) throw new Error('flaky');
 *   return attempts;
 * });
 * assert.equal(value, 2);
 * ```
 *
 * @category constants
 * @since 0.1.0
 */
export const PASS = -1;

/**
 * What {@link refuse} returns, for a gate's `enter` to return as is.
 *
 * @category models
 * @since 0.1.0
 */
export interface Refusal {
  readonly [refusal]: true;
}
declare const refusal: unique symbol;

// One marker for every refusal, and the error beside it: the runner compares a token with the
// marker (an `instanceof` per gate per call would cost more than the rest of an empty gate) and takes
// the error at once, before any other gate can run.
const REFUSED = {} as Refusal;
let refusedWith: unknown;

/**
 * What a gate's `enter` returns to refuse the call with `error`: the inner part does not run, this
 * gate is not exited, the gates outside it see `error`, and the call rejects with it (unless a gate
 * outside rewrites it or retries). `enter` must return it at once.
 *
 * Throwing from `enter` has the same effect; returning a refusal lets the runner reject the call's
 * promise once, without a throw and a catch on the way.
 *
 * @example
 * ```ts
 * const closed = definePolicy('closed', [{ gate: { enter: () => refuse(new Error('closed')), exit: () => PASS } }]);
 * await assert.rejects(closed.execute(async () => 'never runs'), /closed/);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function refuse(error: unknown): Refusal {
  refusedWith = error;
  return REFUSED;
}

/**
 * A policy's bookkeeping around the inner part of a call, in the form the runner can fuse.
 *
 * @typeParam T - What `enter` hands to `exit` for one entry (a start time, a slot, a child scope).
 * @category models
 * @since 0.1.0
 */
export interface Gate<T = unknown> {
  /**
   * Runs before the inner part, in the scope `ctx`. Returns a token for `exit`, or a {@link Refusal}
   * (see {@link refuse}) to reject the call: the inner part does not run and this gate is not exited.
   * Throwing a policy error does the same, at the price of a throw. A gate with `waits` may return a
   * `Promise` of the token (a queue).
   */
  enter(ctx: Scope): T | Refusal;
  /**
   * Runs once after the inner part settled, innermost gate first. May rewrite `outcome`.
   *
   * @param token - What `enter` returned.
   * @param inner - The scope the inner part ran in: `ctx`, the token when `scoped`, or a retry's attempt.
   * @returns {@link PASS}, or a delay in milliseconds after which the inner part runs again (a retry).
   */
  exit(token: T, outcome: Outcome, inner: Scope): number;
  /** `enter` may return a promise; the runner awaits it. */
  readonly waits?: boolean;
  /** The token is a child {@link Scope} of `ctx` and the inner part runs in it. */
  readonly scoped?: boolean;
  /**
   * Only with `scoped`: when the token scope aborts itself, the call stops waiting for the inner part
   * and fails with the abort reason at once, leaving the inner part to settle in the background
   * (an aggressive timeout).
   */
  readonly interrupts?: boolean;
  /** Only for gates that may return a delay: how to wait it out (the gate's clock). */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

// One executor for every interrupting call's promise instead of a closure per call: it runs
// synchronously inside `new Promise`, right after this is set.
let racing: Frame<unknown> | undefined;
function startRace(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  const frame = racing as Frame<unknown>;
  racing = undefined;
  frame.resolve = resolve;
  frame.reject = reject;
}

/**
 * One call's passage through a row of gates: its outcome (which gates may rewrite) and, per gate,
 * the scope it entered in and its token. `slots[2i]` is gate i's scope, `slots[2i + 1]` its token,
 * `slots[2n]` the scope the inner part runs in.
 *
 * Frames are pooled per runner, with their promise handlers made once, so that the success path of
 * a call allocates nothing here but the promise `then` returns (and, behind an interrupting gate, the
 * call's own promise).
 */
class Frame<A> implements Outcome {
  // Fields declared and set in the constructor (the bundle is smaller without their initializers).
  declare ok: boolean;
  declare value: unknown;
  /**
   * Behind an interrupting gate: how to settle the call's promise (the race is settled here), until
   * it is. A frame left without them while its inner part runs was interrupted: the call went on in
   * another frame, and this one waits for the inner part to settle in the background, then is dropped.
   */
  declare resolve: ((value: unknown) => void) | undefined;
  declare reject: ((reason: unknown) => void) | undefined;
  declare slots: unknown[];
  /** The gate whose wait (a promise its `enter` returned) the call is in, or -1. */
  declare waitingAt: number;
  /** The handlers of what the call waits for: a gate's wait, or the inner part. */
  declare readonly onValue: (value: unknown) => unknown;
  declare readonly onError: (error: unknown) => unknown;
  /**
   * The hook on the interrupting gate's scope; only frames behind one have it (a frame per waiting
   * call is made beyond the pool, and the closure is a tenth of its size).
   */
  declare readonly onAbort: ((reason: unknown) => void) | undefined;

  constructor(runner: GateRunner<A>, size: number, interrupting: boolean) {
    this.ok = true;
    this.value = this.resolve = this.reject = undefined;
    this.waitingAt = -1;
    // Holey from the start: filling it would not make it packed (slots are cleared on release).
    this.slots = new Array<unknown>(size);
    this.onValue = (value) => runner.settled(this, true, value);
    this.onError = (error) => runner.settled(this, false, error);
    // Every frame has the same shape (the runner's code sees one), but only frames behind an
    // interrupting gate pay for the hook's closure.
    this.onAbort = interrupting ? (reason) => runner.interrupt(this, reason) : undefined;
  }
}

/** Frames kept per runner for reuse: enough for the calls in flight at once in most services. */
const FRAME_POOL_SIZE = 256;

/** Bits of a gate's kind. */
const WAITS = 1;
const SCOPED = 2;

/**
 * Runs a row of gates (outermost first) around `inner`. The success path costs one `then` on the
 * inner part's promise; waits (a queue) and retries chain further promises only when they happen.
 *
 * Behind an interrupting gate (the innermost of its runner), the call's promise is made here and
 * settled by whichever comes first: the inner part (through the frame's `then` handlers) or the gate's
 * scope aborting (through the frame's hook on it). Neither costs a promise of its own.
 */
class GateRunner<A> {
  declare private readonly gates: readonly Gate[];
  declare private readonly inner: Task<A>;
  declare private readonly n: number;
  declare private readonly interrupting: boolean;
  declare private readonly pool: Frame<A>[];
  /** Per gate, {@link WAITS} and {@link SCOPED}. */
  declare private readonly kinds: number[];
  declare private readonly enters: ((this: Gate, ctx: Scope) => unknown)[];
  declare private readonly exits: ((this: Gate, token: unknown, outcome: Outcome, inner: Scope) => number)[];

  constructor(gates: readonly Gate[], inner: Task<A>) {
    this.gates = gates;
    this.inner = inner;
    this.pool = [];
    this.n = gates.length;
    this.interrupting = gates[gates.length - 1]?.interrupts === true;
    // Read once: at these call sites every kind of gate in the process meets, and a property read
    // that has seen many shapes costs a lookup each time.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with `.call(gate, …)`
    this.enters = gates.map((gate) => gate.enter);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with `.call(gate, …)`
    this.exits = gates.map((gate) => gate.exit);
    this.kinds = gates.map((gate) => (gate.waits === true ? WAITS : 0) | (gate.scoped === true ? SCOPED : 0));
  }

  readonly run = (root: Scope): Promise<A> =>
    this.enterFrom(this.pool.pop() ?? new Frame<A>(this, 2 * this.n + 1, this.interrupting), 0, root);

  /** Enters gates `start..n-1` in `ctx`, then starts the inner part. */
  private enterFrom(frame: Frame<A>, start: number, ctx: Scope): Promise<A> {
    const { gates, n, kinds, enters } = this;
    const slots = frame.slots;
    let i = start;
    let pending: PromiseLike<A>;
    try {
      for (; i < n; i++) {
        slots[2 * i] = ctx;
        const token = (enters[i] as (this: Gate, ctx: Scope) => unknown).call(gates[i] as Gate, ctx);
        if (token === REFUSED) {
          const error = refusedWith;
          refusedWith = undefined;
          return this.finish(frame, i, false, error, false) as Promise<A>;
        }
        const kind = kinds[i] as number;
        if ((kind & WAITS) !== 0 && token instanceof Promise) {
          frame.waitingAt = i;
          return token.then(frame.onValue, frame.onError) as Promise<A>;
        }
        slots[2 * i + 1] = token;
        if ((kind & SCOPED) !== 0) ctx = token as Scope;
      }
      slots[2 * n] = ctx;
      pending = this.inner(ctx);
    } catch (error) {
      // A gate refused by throwing (or the task threw synchronously).
      if (i === n) slots[2 * n] = ctx;
      return this.finish(frame, i, false, error, false) as Promise<A>;
    }
    const settled = (pending instanceof Promise ? pending : Promise.resolve(pending)).then(
      frame.onValue,
      frame.onError,
    ) as Promise<A>;
    if (!this.interrupting) return settled;
    // The call's promise is settled by the frame, through the handlers above or the abort hook.
    racing = frame;
    ctx.whenAborted(frame.onAbort);
    return new Promise<unknown>(startRace) as Promise<A>;
  }

  /**
   * The frame's promise handlers: a gate's wait ended (enter the gates after it with its token, or
   * fail with its error), or the inner part settled.
   */
  settled(frame: Frame<A>, ok: boolean, value: unknown): unknown {
    const i = frame.waitingAt;
    if (i >= 0) {
      frame.waitingAt = -1;
      if (ok) {
        frame.slots[2 * i + 1] = value;
        return this.enterFrom(
          frame,
          i + 1,
          ((this.kinds[i] as number) & SCOPED) !== 0 ? (value as Scope) : (frame.slots[2 * i] as Scope),
        );
      }
      frame.ok = false;
      frame.value = value;
      return this.unwind(frame, i);
    }
    if (this.interrupting) {
      // Exit the gates and settle the call, unless it was interrupted first (then this frame is
      // done: the call went on in another).
      if (frame.resolve === undefined) return undefined;
      (frame.slots[2 * this.n] as Scope).whenAborted(undefined);
      return this.finish(frame, this.n, ok, value, true);
    }
    frame.ok = ok;
    frame.value = value;
    return this.unwind(frame, this.n);
  }

  /**
   * Exits the `entered` innermost-entered gates (from `entered - 1` down to 0) with the frame's
   * outcome. Returns `undefined` when the outcome is final (in the frame), or, when a gate asks to
   * run its inner part again, the promise of that.
   */
  private exitGates(frame: Frame<A>, entered: number): Promise<A> | undefined {
    for (let i = entered - 1; i >= 0; i--) {
      const delay = this.exit(frame, i, frame.slots[2 * i + 2] as Scope);
      if (delay !== PASS) return this.retry(frame, i, delay);
    }
    return undefined;
  }

  /**
   * Exits gate `i` with the frame's outcome, the inner part having run in `inner`. An `exit` that
   * throws makes its error the outcome: the gates outside still exit (a bulkhead gives its slot back)
   * and see it.
   */
  private exit(frame: Frame<A>, i: number, inner: Scope): number {
    try {
      return (this.exits[i] as (this: Gate, t: unknown, o: Outcome, s: Scope) => number).call(
        this.gates[i] as Gate,
        frame.slots[2 * i + 1],
        frame,
        inner,
      );
    } catch (error) {
      frame.ok = false;
      frame.value = error;
      return PASS;
    }
  }

  /** {@link GateRunner.exitGates} in a promise handler: returns the value or a retry's promise, or throws the error. */
  unwind(frame: Frame<A>, entered: number): A | Promise<A> {
    const again = this.exitGates(frame, entered);
    if (again !== undefined) return again;
    const { ok, value } = frame;
    this.release(frame);
    if (ok) return value as A;
    throw value;
  }

  /**
   * {@link GateRunner.exitGates} with the outcome (`ok`, `value`) outside a promise handler, without a
   * throw: settles the call through the frame's `resolve` and `reject` when `raced` (behind an
   * interrupting gate), else returns the call's promise (a gate refused, or the task threw at once).
   */
  finish(frame: Frame<A>, entered: number, ok: boolean, value: unknown, raced: boolean): Promise<A> | undefined {
    frame.ok = ok;
    frame.value = value;
    const { resolve, reject } = frame;
    frame.resolve = frame.reject = undefined;
    // Never throws: an `exit` that throws and a wait that cannot start become the outcome.
    const again = this.exitGates(frame, entered);
    if (again !== undefined) {
      ok = true;
      value = again;
    } else {
      ({ ok, value } = frame);
      this.release(frame);
    }
    if (!raced) return ok ? Promise.resolve(value as A) : Promise.reject(value);
    (ok ? (resolve as (value: unknown) => void) : (reject as (reason: unknown) => void))(value);
    return undefined;
  }

  /**
   * Behind an interrupting gate: its scope aborted while the inner part ran. The call goes on in a
   * new frame (the inner part's handlers still point to this one, and it may settle any time), and
   * settles a microtask later, as a promise rejected now would.
   */
  interrupt(frame: Frame<A>, reason: unknown): void {
    const next = new Frame<A>(this, frame.slots.length, true);
    const slots = next.slots;
    next.slots = frame.slots;
    frame.slots = slots;
    next.resolve = frame.resolve;
    next.reject = frame.reject;
    frame.resolve = frame.reject = undefined;
    queueMicrotask(() => this.settled(next, false, reason));
  }

  private release(frame: Frame<A>): void {
    frame.value = undefined;
    // A loop, not fill(): for a handful of slots the builtin's set-up costs more than the writes.
    const slots = frame.slots;
    for (let i = 0; i < slots.length; i++) slots[i] = undefined;
    if (this.pool.length < FRAME_POOL_SIZE) this.pool.push(frame);
  }

  /** Gate `i` asked for its inner part again after `delay` ms: a new attempt scope under its own. */
  private retry(frame: Frame<A>, i: number, delay: number): Promise<A> {
    const gate = this.gates[i] as Gate;
    const slots = frame.slots;
    const parent = slots[2 * i] as Scope;
    const previous = slots[2 * i + 2] as Scope;
    const next = parent.child(false, previous.attempt + 1);
    const again = (): Promise<A> => this.enterFrom(frame, i + 1, next);
    const giveUp = (error: unknown): A | Promise<A> => {
      // Aborted while waiting: the gate's entry ends; it sees the abort, then the gates outside it.
      frame.ok = false;
      frame.value = error;
      this.exit(frame, i, next);
      return this.unwind(frame, i);
    };
    // Started inside a promise: a wait that cannot start (a clock whose `sleep` throws) ends the entry
    // as an abort does. A delay of 0 runs again at once, but not in this stack: a task that fails
    // synchronously would otherwise recurse here once per attempt, and a few thousand overflow it.
    const waiting = new Promise<void>((resolve) =>
      resolve(
        delay <= 0 && !parent.aborted
          ? undefined
          : (gate.sleep?.(delay, parent.signal) ?? systemClock.sleep(delay, parent.signal)),
      ),
    );
    return waiting.then(again, giveUp);
  }
}

/**
 * Runs `inner` behind a row of gates (outermost first): the fused form of their policies.
 * Compilation uses it; a policy never needs to, and it only ever receives scopes.
 *
 * @example
 * ```ts
 * import type { Gate } from '@bulwark/core';
 * const seen: string[] = [];
 * const gate = (name: string): Gate => ({
 *   enter: () => void seen.push(`enter ${name}`),
 *   exit: () => (seen.push(`exit ${name}`), PASS),
 * });
 * const run = fuseGates([gate('outer'), gate('inner')], async () => 'done');
 * assert.equal(await run(Scope.root(async () => undefined)), 'done');
 * assert.deepEqual(seen, ['enter outer', 'enter inner', 'exit inner', 'exit outer']);
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export function fuseGates<A>(gates: readonly Gate[], inner: Task<A>): (ctx: Scope) => Promise<A> {
  return new GateRunner(gates, inner).run;
}
