/**
 * The default pipeline: the policies every OilPriceAPI request runs under unless the caller says
 * otherwise, each one replaceable or removable.
 *
 * Order, outermost first: telemetry → cache → validate → retry → breaker → bulkhead → timeout → request.
 *
 * @module
 */

import { pipeline, type Clock, type Policy, type Random } from '@bulwark/core';

/**
 * A part of the default pipeline: `undefined` for the default, `false` to leave it out, or a policy of
 * your own in its place.
 *
 * @category models
 * @since 0.1.0
 */
export type PipelinePart = Policy | false | undefined;

/**
 * Options of {@link defaultPipeline}: one entry per part.
 *
 * @category models
 * @since 0.1.0
 */
export interface DefaultPipelineOptions {
  /** The clock every part uses. @default systemClock */
  readonly clock?: Clock;
  /** The random source every part uses (retry jitter). @default systemRandom */
  readonly random?: Random;
  /** Where the cache keeps answers shared by several processes; in memory when absent. @default process.env.REDIS_URL */
  readonly redisUrl?: string;
  readonly telemetry?: PipelinePart;
  readonly cache?: PipelinePart;
  readonly validate?: PipelinePart;
  readonly retry?: PipelinePart;
  readonly breaker?: PipelinePart;
  readonly bulkhead?: PipelinePart;
  readonly timeout?: PipelinePart;
}

/**
 * The parts of the default pipeline, in order.
 *
 * @category instances
 * @since 0.1.0
 */
export const PIPELINE_PARTS = ['telemetry', 'cache', 'validate', 'retry', 'breaker', 'bulkhead', 'timeout'] as const;

/**
 * Builds the default pipeline.
 *
 * @example
 * ```ts
 * const policy = defaultPipeline({ telemetry: false });
 * assert.equal(await policy.execute(async () => 1), 1);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function defaultPipeline(options: DefaultPipelineOptions = {}): Policy {
  const parts: Policy[] = [];
  for (const name of PIPELINE_PARTS) {
    const part = options[name];
    if (part !== undefined && part !== false) parts.push(part);
  }
  return pipeline(...parts);
}
