/**
 * @bulwark/ratelimit: token buckets and exact sliding windows, several at once, per key; reject or
 * wait; in memory or shared through Redis.
 *
 * @module
 */

export { isRateLimitedError, RateLimitedError } from './errors.js';
export type { RateLimitedReason } from './errors.js';
export { LimitPlan, slidingWindow, tokenBucket } from './limits.js';
export type { Limit, SlidingWindow, TokenBucket } from './limits.js';
export { rateLimit } from './rate-limit.js';
export type {
  RateLimiter,
  RateLimitEvent,
  RateLimitOptions,
  RateLimitRejectedEvent,
  RateLimitStoreErrorEvent,
  RateLimitStoreRecoveredEvent,
  RateLimitWaitedEvent,
} from './rate-limit.js';
export { memoryStore } from './store.js';
export type { RateLimitStore, RateLimitStoreFactory, StoreHooks } from './store.js';
export { redisStore, RedisStore } from './redis-store.js';
export type { RedisClientLike, RedisDecision, RedisStoreFactory, RedisStoreOptions } from './redis-store.js';
