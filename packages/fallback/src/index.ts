/**
 * @bulwark/fallback: fallback values chosen by error kind or result, and hedged requests.
 *
 * @module
 */

export { HedgeLostError, isHedgeLostError } from './errors.js';
export { fallback } from './fallback.js';
export type { FallbackEvent, FallbackFn, FallbackOptions, FallbackTrigger } from './fallback.js';
export { hedge } from './hedge.js';
export type { Hedge, HedgeEvent, HedgeOptions, HedgeStartedEvent, HedgeWonEvent, PercentileDelay } from './hedge.js';
