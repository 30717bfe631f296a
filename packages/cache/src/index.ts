/**
 * @bulwark/cache: a cache policy on Keyv, with stale-while-revalidate, stale-if-error up to a maximum
 * age, single-flight origin calls and an optional in-process L1.
 *
 * @module
 */

export { cache, staleOnAnyErrorButValidation } from './cache.js';
export type { CacheOptions, CachePolicy, L1Options } from './cache.js';
export { decodeEntry, jsonDataProblem } from './entry.js';
export type { Entry } from './entry.js';
export { CacheExpiredError, isCacheExpiredError } from './errors.js';
export type {
  CacheEvent,
  CacheHitEvent,
  CacheMissEvent,
  CacheRefreshEvent,
  CacheStaleEvent,
  CacheStoreErrorEvent,
} from './events.js';
export { ageOf, fallback, servableAge, verdict } from './freshness.js';
export type { Fallback, Freshness, Verdict } from './freshness.js';
export { argumentsKey, canonicalArguments } from './key.js';
