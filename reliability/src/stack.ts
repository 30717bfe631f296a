/**
 * The policy stack the soak run drives: the usual order (DESIGN.md, docs/concepts.md) of the policies
 * this build has, under telemetry.
 *
 * @module
 */

import { breaker, consecutiveFailures } from '@bulwark/breaker';
import { bulkhead } from '@bulwark/bulkhead';
import { pipeline, type Policy } from '@bulwark/core';
import { constant, retry } from '@bulwark/retry';
import { instrument, metrics, type MetricsSink } from '@bulwark/telemetry';
import { timeout } from '@bulwark/timeout';

/** The stack and the metrics its telemetry keeps. */
export interface SoakStack {
  readonly policy: Policy;
  /** The policies under telemetry, outermost first, e.g. `soak-breaker → soak-bulkhead`. */
  readonly description: string;
  readonly metrics: MetricsSink;
}

/**
 * Builds `telemetry(retry → breaker → bulkhead → timeout)`.
 *
 * The breaker opens only on a run of failures the 1 % failure rate almost never makes, so nearly every
 * call goes through every layer; the bulkhead is smaller than the soak's concurrency, so calls queue
 * and aborted calls leave its queue.
 */
export function soakStack(): SoakStack {
  const layers: Policy[] = [
    // Retries on the soak's 1 % failures, without waiting (a million calls, no backoff sleeps).
    retry({ name: 'soak-retry', maxAttempts: 2, backoff: constant(0) }),
    breaker({ name: 'soak-breaker', strategy: consecutiveFailures(5), halfOpenAfterMs: 1 }),
    bulkhead({ name: 'soak-bulkhead', capacity: 32, queueSize: 1024 }),
    // Never reached by a soak call, but armed (shared deadline queue) for every one.
    timeout({ name: 'soak-timeout', timeoutMs: 10_000 }),
  ];
  const sink = metrics();
  const inner = pipeline(...layers);
  return { policy: instrument(inner, [sink], { name: 'soak' }), description: inner.name, metrics: sink };
}
