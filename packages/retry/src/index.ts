/**
 * @bulwark/retry: retries with backoff schedules as data, Retry-After hints, result predicates and a
 * retry budget shared across calls.
 *
 * @module
 */

export {
  cap,
  constant,
  decorrelatedJitter,
  equalJitter,
  exponential,
  fromIterable,
  fullJitter,
  jitter,
  linear,
  maxElapsed,
  nextDelay,
  preview,
  STOP,
  STOP_ELAPSED,
  upTo,
} from './backoff.js';
export type {
  Backoff,
  BackoffCombinator,
  BackoffState,
  CapBackoff,
  ConstantBackoff,
  GrowingBackoff,
  GrowingOptions,
  IterableBackoff,
  JitterBackoff,
  LinearBackoff,
  LinearOptions,
  MaxElapsedBackoff,
  UpToBackoff,
} from './backoff.js';
export { retryAllowed, retryBudget } from './budget.js';
export type { RetryBudget, RetryBudgetOptions } from './budget.js';
export { retryDecision } from './decision.js';
export type { GiveUpReason, RetryRules } from './decision.js';
export type { RetryEvent, RetryGiveUpEvent, RetryScheduledEvent, RetrySuccessEvent } from './events.js';
export { retry } from './retry.js';
export type { Retry, RetryOptions } from './retry.js';
