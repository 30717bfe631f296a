/**
 * The context a task runs in: its cancellation signal, its attempt number and its correlation id.
 *
 * A {@link Scope} is the one implementation. Scopes form a tree per call: the call's root scope, a
 * child per timeout or hedged attempt (each can be aborted on its own), a child per retry attempt.
 * Nothing is allocated for a part nobody reads: the `AbortController` is made when `signal` is first
 * read (or already aborted, when something aborted the scope before that), the correlation id when
 * `correlationId` is first read.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';

/**
 * What a task knows about the call it serves.
 *
 * @category models
 * @since 0.1.0
 */
export interface Context {
  /** Aborts when the caller aborts or a policy gives up on this attempt (a timeout, a hedge loser). */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** An id for the whole call, shared by its attempts: the caller's, or a random UUID made on first read. */
  readonly correlationId: string;
}

/**
 * An async operation that may use its {@link Context}.
 *
 * @category models
 * @since 0.1.0
 */
export type Task<A> = (context: Context) => PromiseLike<A>;

// Bits of `Scope.flags`.
const OWN_ABORT = 1;
/** On a root made by `wrapWithContext`: its task takes the context before the arguments. */
const WITH_CONTEXT = 2;

/** The parts of a scope that only exist once something reads or aborts it. */
interface AbortState {
  signal: AbortSignal | undefined;
  controller: AbortController | undefined;
  aborted: boolean;
  reason: unknown;
}

/**
 * The context of one call or of one part of it. Policies create child scopes; tasks only read them.
 *
 * Every call allocates its root scope, so the class keeps to eleven fields: the call's own data lives
 * on the root (children point to it), and what only cancellation needs is made on demand.
 *
 * @example
 * ```ts
 * const caller = new AbortController();
 * const root = Scope.root(async () => 'task', caller.signal, 'req-42');
 * const attempt = root.child(true, 2); // a part that can abort on its own (a timeout's attempt)
 * assert.equal(attempt.correlationId, 'req-42'); // shared by the whole call
 * assert.equal(attempt.attempt, 2);
 * attempt.abort(new Error('too slow'));
 * assert.ok(attempt.signal.aborted && !root.aborted); // only that part
 * caller.abort(new Error('user left'));
 * assert.ok(root.aborted && root.signal.aborted); // the caller reaches every scope
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export class Scope implements Context {
  // Declared, and set in the constructor only: field initializers would run as a function of their
  // own on every scope (one per call at least).
  /** @internal The call's root scope (this one, for a root), which holds the call's data. */
  declare readonly root: Scope;
  /** The scope this one was made in, or `undefined` for a call's root. */
  declare readonly parent: Scope | undefined;
  declare readonly attempt: number;
  declare private readonly flags: number;
  declare private state: AbortState | undefined;
  // The call's data; set on roots only.
  /** @internal */ declare readonly task: Task<unknown> | undefined;
  /** @internal */ declare readonly args: readonly unknown[] | undefined;
  declare private readonly callerSignal: AbortSignal | undefined;
  declare private id: string | undefined;
  /**
   * @internal What the policy that made this child scope keeps with it, so that its gate finds it again
   * from the token in `exit` without a lookup (a timeout: the scope's entry in its deadline queue).
   * Only that policy reads or writes it.
   */
  declare link: unknown;
  /**
   * What {@link Scope.whenAborted} set. A field of its own, not a part of the state made on demand:
   * the runner sets it on every call behind an aggressive timeout, which otherwise never makes it.
   */
  declare private hook: ((reason: unknown) => void) | undefined;

  /** @internal Use {@link Scope.root} and {@link Scope.child}. */
  private constructor(
    root: Scope | undefined,
    parent: Scope | undefined,
    attempt: number,
    flags: number,
    task: Task<unknown> | undefined,
    args: readonly unknown[] | undefined,
    callerSignal: AbortSignal | undefined,
    id: string | undefined,
  ) {
    this.root = root ?? this;
    this.parent = parent;
    this.attempt = attempt;
    this.flags = flags;
    this.task = task;
    this.args = args;
    this.callerSignal = callerSignal;
    this.id = id;
    this.state = undefined;
    this.link = undefined;
    this.hook = undefined;
  }

  /**
   * The root scope of a new call.
   *
   * @param task - What the call runs at its innermost point.
   * @param signal - The caller's signal; aborting it aborts every scope of the call.
   * @param correlationId - The caller's id for the call; a UUID is made on first read when absent.
   */
  static root(task: Task<unknown>, signal?: AbortSignal, correlationId?: string): Scope {
    return new Scope(undefined, undefined, 1, 0, task, undefined, signal, correlationId);
  }

  /** @internal The root scope of a call of a wrapped function (`withContext`: of `wrapWithContext`). */
  static forArgs(
    task: Task<unknown>,
    withContext: boolean,
    args: readonly unknown[],
    signal: AbortSignal | undefined,
    correlationId: string | undefined,
  ): Scope {
    return new Scope(undefined, undefined, 1, withContext ? WITH_CONTEXT : 0, task, args, signal, correlationId);
  }

  /** @internal Whether the root's task takes the context before the arguments (`wrapWithContext`). */
  get withContext(): boolean {
    return (this.root.flags & WITH_CONTEXT) !== 0;
  }

  /**
   * A scope for running another task within this call (a policy's `decorate` used inside another
   * call): it has its own innermost task but this scope's signal, attempt and correlation id.
   */
  nested(task: Task<unknown>): Scope {
    return new Scope(undefined, this, this.attempt, 0, task, undefined, undefined, undefined);
  }

  /**
   * A child scope: `abortable` for a part that can be cancelled on its own (a timeout, a hedged
   * attempt), not for one that only needs its own attempt number (a retry).
   */
  child(abortable: boolean, attempt: number = this.attempt): Scope {
    return new Scope(this.root, this, attempt, abortable ? OWN_ABORT : 0, undefined, undefined, undefined, undefined);
  }

  get correlationId(): string {
    const root = this.root;
    const id: unknown = root.id;
    if (typeof id === 'string') return id;
    // An id from untyped code may be a number or a header that came as an array (Node types request
    // headers `string | string[]`): read as text; anything else is ignored. Without one, a nested call
    // shares the id of the call it runs in.
    return (root.id =
      typeof id === 'number' || Array.isArray(id)
        ? String(id)
        : root.parent !== undefined
          ? root.parent.correlationId
          : randomUUID());
  }

  /** Whether this scope, one of its parents or the caller has aborted. */
  get aborted(): boolean {
    if (this.state?.aborted === true) return true;
    if (this.parent !== undefined) return this.parent.aborted;
    return this.callerSignal?.aborted === true;
  }

  /** Why the scope aborted (see {@link Scope.aborted}); `undefined` while it has not. */
  get reason(): unknown {
    if (this.state?.aborted === true) return this.state.reason;
    if (this.parent !== undefined) return this.parent.reason;
    const caller = this.callerSignal;
    return caller?.aborted === true ? (caller.reason as unknown) : undefined;
  }

  /**
   * Whether this scope can ever abort: the caller gave a signal, or this scope or one it was made in
   * can abort on its own. When it cannot, a policy waiting on something need not listen to `signal`
   * (reading it makes an `AbortController`, which costs more than the wait itself on a fast path).
   */
  get mayAbort(): boolean {
    if ((this.flags & OWN_ABORT) !== 0) return true;
    return this.parent !== undefined ? this.parent.mayAbort : this.callerSignal !== undefined;
  }

  get signal(): AbortSignal {
    const state = (this.state ??= newState());
    return (state.signal ??= this.makeSignal(state));
  }

  /**
   * Aborts this scope and its children with `reason`. Only scopes made `abortable` can abort on their
   * own; on others this does nothing. Aborting twice keeps the first reason.
   */
  abort(reason: unknown): void {
    if ((this.flags & OWN_ABORT) === 0) return;
    const state = (this.state ??= newState());
    if (state.aborted) return;
    state.aborted = true;
    state.reason = reason;
    state.controller?.abort(reason);
    this.hook?.(reason);
  }

  /**
   * @internal Calls `hook` (once) when this scope itself aborts; the runner uses it to stop waiting for
   * an inner part that a gate has given up on.
   */
  whenAborted(hook: ((reason: unknown) => void) | undefined): void {
    this.hook = hook;
  }

  private makeSignal(state: AbortState): AbortSignal {
    const parent = this.parent;
    if ((this.flags & OWN_ABORT) === 0) {
      return (parent !== undefined ? parent.signal : this.callerSignal) ?? new AbortController().signal;
    }
    const controller = (state.controller = new AbortController());
    if (state.aborted) controller.abort(state.reason);
    // Combine with the outer signal only when something outside can abort: `AbortSignal.any` holds
    // its sources weakly (nothing to remove when the call ends), but on Node 20 every signal it makes
    // stays in memory (nodejs/node#48419, #54614: about 3 kB and a slower `any` per call), so a call
    // with no caller signal and one abortable scope (a timeout) must not pay for it.
    const outer = parent !== undefined ? (parent.mayAbort ? parent.signal : undefined) : this.callerSignal;
    return outer === undefined ? controller.signal : AbortSignal.any([outer, controller.signal]);
  }
}

function newState(): AbortState {
  return { signal: undefined, controller: undefined, aborted: false, reason: undefined };
}
