/**
 * @bulwark/testkit: test policies, and the code that uses them, without waiting on wall time.
 *
 * @module
 */

export {
  ABSENT,
  HostileCallbackError,
  hostileOptionValue,
  invalidOptionValue,
  outcomeSchedule,
  PlannedFailure,
  policySpec,
  scheduledTask,
  toPolicy,
} from './arbitraries.js';
export type { PlannedOutcome, PolicySpec, ScheduledTask } from './arbitraries.js';
export { policyLaws, policyMonoidLaws } from './laws.js';
export type { LawEnvironment, LawOptions, TestFn } from './laws.js';
export { freePort, pingRedis, redisTestsEnabled, redisUrl, startPrivateRedis, uniquePrefix } from './redis.js';
export type { PrivateRedis } from './redis.js';
export { runWithIo, untilIo } from './drive.js';
export { rejectionOf } from './rejection.js';
export { settle, VirtualClock } from './virtual-clock.js';
