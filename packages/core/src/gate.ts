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
 * first; a gate that throws in `enter` is not exited, and the gates outside it see its error; a retry
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

/** Returned by {@link Gate.exit} to let the outcome go on outward. */
export const PASS = -1;

/**
 * A policy's bookkeeping around the inner part of a call, in the form the runner can fuse.
 *
 * @typeParam T - What `enter` hands to `exit` for one entry (a start time, a slot, a child scope).
 * @category models
 * @since 0.1.0
 */
export interface Gate<T = unknown> {
  /**
   * Runs before the inner part, in the scope `ctx`. Returns a token for `exit`. Throws (a policy
   * error) to reject the call: the inner part does not run and this gate is not exited.
   * A gate with `waits` may return a promise of the token (a queue).
   */
  enter(ctx: Scope): T;
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

function raceAbort(scope: Scope, inner: PromiseLike<unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    scope.whenAborted(reject);
    inner.then(resolve, reject);
  });
}

/**
 * Waits out a gate's retry delay in `scope`. On abort, the gate's entry ends: it is exited once more
 * with the abort as the outcome (so it can report giving up) and whatever it answers, the abort goes
 * on outward.
 */
function sleepBeforeRetry(gate: Gate, ms: number, scope: Scope): Promise<void> | undefined {
  if (ms <= 0 && !scope.aborted) return undefined;
  return gate.sleep !== undefined ? gate.sleep(ms, scope.signal) : systemClock.sleep(ms, scope.signal);
}

/**
 * Runs `inner` behind a row of gates (outermost first) in one async frame.
 *
 * @category combinators
 * @since 0.1.0
 */
export function fuseGates<A>(gates: readonly Gate[], inner: Task<A>): (ctx: Scope) => Promise<A> {
  const n = gates.length;
  const only = gates[0];
  if (n === 1 && only !== undefined && only.waits !== true && only.interrupts !== true) return fuseOne(only, inner);
  const interrupting = gates[n - 1]?.interrupts === true;
  const anyWaits = gates.some((gate) => gate.waits === true);

  return async function runGates(root: Scope): Promise<A> {
    const tokens: unknown[] = new Array(n);
    // scopes[i] is the scope gate i entered in; scopes[n] the one the inner part ran in.
    const scopes: Scope[] = new Array(n + 1);
    const outcome: Outcome = { ok: true, value: undefined };
    let ctx = root;
    let from = 0;
    for (;;) {
      let entered = from;
      try {
        for (; entered < n; entered++) {
          const gate = gates[entered] as Gate;
          scopes[entered] = ctx;
          let token = gate.enter(ctx);
          if (anyWaits && gate.waits === true) token = await token;
          tokens[entered] = token;
          if (gate.scoped === true) ctx = token as Scope;
        }
        scopes[n] = ctx;
        const pending = inner(ctx);
        outcome.value = await (interrupting ? raceAbort(ctx, pending) : pending);
        outcome.ok = true;
      } catch (error) {
        outcome.ok = false;
        outcome.value = error;
      }

      let i = entered - 1;
      for (;;) {
        let delay = PASS;
        for (; i >= 0; i--) {
          delay = (gates[i] as Gate).exit(tokens[i], outcome, scopes[i + 1] as Scope);
          if (delay !== PASS) break;
        }
        if (i < 0) {
          if (outcome.ok) return outcome.value as A;
          throw outcome.value;
        }
        // Gate i asked to run its inner part again, in a new attempt scope under its own.
        const gate = gates[i] as Gate;
        const parent = scopes[i] as Scope;
        const next = parent.child(false, (scopes[i + 1] as Scope).attempt + 1);
        try {
          await sleepBeforeRetry(gate, delay, parent);
        } catch (error) {
          outcome.ok = false;
          outcome.value = error;
          gate.exit(tokens[i], outcome, next);
          i -= 1;
          continue;
        }
        ctx = next;
        from = i + 1;
        break;
      }
    }
  };
}

/** The common case of a policy used alone: one gate that neither waits nor interrupts. */
function fuseOne<A>(gate: Gate, inner: Task<A>): (ctx: Scope) => Promise<A> {
  const scoped = gate.scoped === true;
  return async function runGate(root: Scope): Promise<A> {
    const token = gate.enter(root);
    let ctx = scoped ? (token as Scope) : root;
    const outcome: Outcome = { ok: true, value: undefined };
    for (;;) {
      try {
        outcome.value = await inner(ctx);
        outcome.ok = true;
      } catch (error) {
        outcome.ok = false;
        outcome.value = error;
      }
      const delay = gate.exit(token, outcome, ctx);
      if (delay === PASS) {
        if (outcome.ok) return outcome.value as A;
        throw outcome.value;
      }
      const next = root.child(false, ctx.attempt + 1);
      try {
        await sleepBeforeRetry(gate, delay, root);
      } catch (error) {
        outcome.ok = false;
        outcome.value = error;
        gate.exit(token, outcome, next);
        throw error;
      }
      ctx = next;
    }
  };
}
