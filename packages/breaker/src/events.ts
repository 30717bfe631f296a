/**
 * The events a breaker emits. Built only when someone listens (`emitter.active`).
 *
 * @module
 */

import type { Context } from '@bulwark/core';

import type { BreakerState } from './machine.js';

/**
 * The breaker moved from one state to another.
 *
 * @category events
 * @since 0.1.0
 */
export interface BreakerStateChangeEvent {
  readonly type: 'state-change';
  readonly policy: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  /**
   * What moved it: `local` (this process's calls), `manual` (`isolate`, its release, `reset`) or
   * `fleet` (the shared state in the breaker's store).
   */
  readonly source: 'local' | 'manual' | 'fleet';
  /** When `to` is `open`: milliseconds until a probe may go. */
  readonly retryAfterMs?: number;
}

/**
 * The breaker refused a call.
 *
 * @category events
 * @since 0.1.0
 */
export interface BreakerRejectedEvent {
  readonly type: 'rejected';
  readonly policy: string;
  readonly context: Context;
  readonly state: 'open' | 'half-open' | 'isolated';
  /** Milliseconds until a probe may go: 0 when half-open and full, `Infinity` when isolated. */
  readonly retryAfterMs: number;
}

/**
 * A call's error counted as a failure (ignored errors and cancelled calls emit nothing).
 *
 * @category events
 * @since 0.1.0
 */
export interface BreakerFailureEvent {
  readonly type: 'failure';
  readonly policy: string;
  readonly context: Context;
  readonly error: unknown;
}

/**
 * The breaker's store failed an operation; the breaker goes on with its local state. A periodic sync
 * reports only the first failure of an outage.
 *
 * @category events
 * @since 0.1.0
 */
export interface BreakerStoreErrorEvent {
  readonly type: 'store-error';
  readonly policy: string;
  /** What was being done: `sync`, `trip`, `withdraw`, `probe`, `probe-result`, `isolate`, `release`, `reset`, `seed`. */
  readonly operation: string;
  readonly error: unknown;
}

/**
 * The breaker's store answers again after a `store-error`; the breaker has re-read the shared state
 * and told the store what it learned meanwhile.
 *
 * @category events
 * @since 0.1.0
 */
export interface BreakerStoreRecoveredEvent {
  readonly type: 'store-recovered';
  readonly policy: string;
}

/**
 * Every event a breaker emits.
 *
 * @category events
 * @since 0.1.0
 */
export type BreakerEvent =
  | BreakerStateChangeEvent
  | BreakerRejectedEvent
  | BreakerFailureEvent
  | BreakerStoreErrorEvent
  | BreakerStoreRecoveredEvent;
