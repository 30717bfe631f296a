/**
 * The events a retry emits. Built only when someone listens (`emitter.active`). Every call ends with
 * exactly one `success` or one `give-up`; each `retry` announces the wait before the next attempt.
 *
 * @module
 */

import type { Context, PolicyEvent } from '@bulwark/core';

import type { GiveUpReason } from './decision.js';

/**
 * An attempt failed and another follows after `delayMs`.
 *
 * @category events
 * @since 0.1.0
 */
export interface RetryScheduledEvent extends PolicyEvent {
  readonly type: 'retry';
  /** The attempt that failed. */
  readonly context: Context;
  /** The number of the attempt that failed: 1 for the first. */
  readonly attempt: number;
  /** The wait before the next attempt, in milliseconds. */
  readonly delayMs: number;
  /** What the attempt threw; `undefined` when it resolved with a result `handleResult` refused. */
  readonly error: unknown;
  /** The refused result, when `handleResult` asked for the retry. */
  readonly result?: unknown;
}

/**
 * A call ended in failure: its error is rethrown (or its refused result returned) as is.
 *
 * @category events
 * @since 0.1.0
 */
export interface RetryGiveUpEvent extends PolicyEvent {
  readonly type: 'give-up';
  readonly context: Context;
  /** How many attempts were made. */
  readonly attempts: number;
  /** Why no attempt follows. */
  readonly reason: GiveUpReason;
  /** The last attempt's error; `undefined` when it resolved with a result `handleResult` refused. */
  readonly error: unknown;
  /** The last refused result (returned to the caller), when retries ran out on a result. */
  readonly result?: unknown;
}

/**
 * A call succeeded (on its first attempt or after retries).
 *
 * @category events
 * @since 0.1.0
 */
export interface RetrySuccessEvent extends PolicyEvent {
  readonly type: 'success';
  readonly context: Context;
  /** How many attempts it took: 1 when the first succeeded. */
  readonly attempts: number;
}

/**
 * Every event a retry emits.
 *
 * @category events
 * @since 0.1.0
 */
export type RetryEvent = RetryScheduledEvent | RetryGiveUpEvent | RetrySuccessEvent;
