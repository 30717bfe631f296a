/**
 * The tasks the suites measure policies around, shared so that every suite's failure path is the
 * same one.
 */

import { Scope, type Task } from '@bulwark/core';

/** A task that fails three times, then succeeds: one call of a retry makes four attempts. */
export function flaky(): () => Promise<number> {
  // One error, made once: a stack trace per attempt would dwarf what is measured.
  const error = new Error('flaky');
  let calls = 0;
  return async () => {
    if (++calls % 4 !== 0) throw error;
    return 1;
  };
}

/** The baseline of a failure path: `task` retried at once until it succeeds, by hand. */
export function retriedByHand(task: () => Promise<number>): () => Promise<number> {
  return async () => {
    for (;;) {
      try {
        return await task();
      } catch {
        // retried at once
      }
    }
  };
}

/**
 * A breaker written by hand for this one benchmark: consecutive failures, closed or open, nothing else
 * (no half-open probe, no events, no error filter, no caller's signal). Its task still gets a context,
 * as every Bulwark task does. It is a calibration, not a peer: what a breaker's success path costs
 * with one `then` and no composable gate protocol, the floor the `< 1.5x` target sits on.
 */
export function handWrittenBreaker(threshold: number): (task: Task<number>) => Promise<number> {
  let failures = 0;
  let openUntil = 0;
  const onValue = (value: number): number => {
    failures = 0;
    return value;
  };
  const onError = (error: unknown): never => {
    if (++failures >= threshold) openUntil = Date.now() + 60_000;
    throw error;
  };
  return (task) => {
    if (openUntil !== 0 && Date.now() < openUntil) return Promise.reject(new Error('open'));
    return (task(Scope.root(task as Task<unknown>)) as Promise<number>).then(onValue, onError);
  };
}
