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

/**
 * How the innermost task is called: with the context (`execute`), with the wrapped function's
 * arguments only (`wrap`), or with both (`wrapWithContext`).
 */
export type CallMode = 'task' | 'args' | 'context-and-args';

/** @internal A call's data, shared by all its scopes, kept apart so child scopes stay small. */
export interface CallData {
  readonly task: Task<unknown>;
  readonly mode: CallMode;
  readonly args: readonly unknown[] | undefined;
  readonly callerSignal: AbortSignal | undefined;
  correlationId: string | undefined;
}

/**
 * The context of one call or of one part of it. Policies create child scopes; tasks only read them.
 *
 * @category models
 * @since 0.1.0
 */
export class Scope implements Context {
  /** @internal */ readonly call: CallData;
  /** The scope this one was made in, or `undefined` for a call's root. */
  readonly parent: Scope | undefined;
  readonly attempt: number;
  /** Whether `abort` on this scope may abort its signal; if not, its signal is its parent's. */
  private readonly ownAbort: boolean;
  private signalMemo: AbortSignal | undefined = undefined;
  private controller: AbortController | undefined = undefined;
  private abortReason: unknown = undefined;
  private selfAborted = false;
  private abortHook: ((reason: unknown) => void) | undefined = undefined;

  /** @internal Use {@link Scope.root} and {@link Scope.child}. */
  constructor(call: CallData, parent: Scope | undefined, attempt: number, ownAbort: boolean) {
    this.call = call;
    this.parent = parent;
    this.attempt = attempt;
    this.ownAbort = ownAbort;
  }

  /**
   * The root scope of a new call.
   *
   * @param task - What the call runs at its innermost point.
   * @param signal - The caller's signal; aborting it aborts every scope of the call.
   * @param correlationId - The caller's id for the call; a UUID is made on first read when absent.
   */
  static root(task: Task<unknown>, signal?: AbortSignal, correlationId?: string): Scope {
    return new Scope({ task, mode: 'task', args: undefined, callerSignal: signal, correlationId }, undefined, 1, false);
  }

  /** @internal The root scope of a call of a wrapped function. */
  static forArgs(
    task: Task<unknown>,
    mode: CallMode,
    args: readonly unknown[],
    signal: AbortSignal | undefined,
    correlationId: string | undefined,
  ): Scope {
    return new Scope({ task, mode, args, callerSignal: signal, correlationId }, undefined, 1, false);
  }

  /**
   * A scope for running another task within this call (a policy's `decorate` used inside another
   * call): it has its own innermost task but this scope's signal, attempt and correlation id.
   */
  nested(task: Task<unknown>): Scope {
    const call: CallData = { task, mode: 'task', args: undefined, callerSignal: undefined, correlationId: undefined };
    return new Scope(call, this, this.attempt, false);
  }

  /**
   * A child scope: `abortable` for a part that can be cancelled on its own (a timeout, a hedged
   * attempt), not for one that only needs its own attempt number (a retry).
   */
  child(abortable: boolean, attempt: number = this.attempt): Scope {
    return new Scope(this.call, this, attempt, abortable);
  }

  get correlationId(): string {
    // A nested call shares the id of the call it runs in.
    return (this.call.correlationId ??= this.parent !== undefined ? this.parent.correlationId : randomUUID());
  }

  /**
   * Whether this scope can ever abort: the caller passed a signal, or this scope or one of its parents
   * can abort on its own. Reading it allocates nothing, so a policy that waits (a queue) can skip
   * listening to a signal that would never fire.
   */
  get abortable(): boolean {
    if (this.ownAbort) return true;
    if (this.parent !== undefined) return this.parent.abortable;
    return this.call.callerSignal !== undefined;
  }

  /** Whether this scope, one of its parents or the caller has aborted. */
  get aborted(): boolean {
    if (this.selfAborted) return true;
    if (this.parent !== undefined) return this.parent.aborted;
    return this.call.callerSignal?.aborted === true;
  }

  /** Why the scope aborted (see {@link Scope.aborted}); `undefined` while it has not. */
  get reason(): unknown {
    if (this.selfAborted) return this.abortReason;
    if (this.parent !== undefined) return this.parent.reason;
    const caller = this.call.callerSignal;
    return caller?.aborted === true ? (caller.reason as unknown) : undefined;
  }

  get signal(): AbortSignal {
    return (this.signalMemo ??= this.makeSignal());
  }

  /**
   * Aborts this scope and its children with `reason`. Only scopes made `abortable` can abort on their
   * own; on others this does nothing. Aborting twice keeps the first reason.
   */
  abort(reason: unknown): void {
    if (!this.ownAbort || this.selfAborted) return;
    this.selfAborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
    this.abortHook?.(reason);
  }

  /**
   * @internal Calls `hook` (once) when this scope itself aborts; the runner uses it to stop waiting for
   * an inner part that a gate has given up on.
   */
  whenAborted(hook: ((reason: unknown) => void) | undefined): void {
    this.abortHook = hook;
  }

  private makeSignal(): AbortSignal {
    const outer = this.parent !== undefined ? this.parent.signal : this.call.callerSignal;
    if (!this.ownAbort) return outer ?? new AbortController().signal;
    const controller = (this.controller = new AbortController());
    if (this.selfAborted) controller.abort(this.abortReason);
    // AbortSignal.any holds its sources weakly: nothing to remove when the call ends.
    return outer === undefined ? controller.signal : AbortSignal.any([outer, controller.signal]);
  }
}
