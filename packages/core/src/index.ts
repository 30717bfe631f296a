/**
 * @bulwark/core: the policy model every Bulwark package shares.
 *
 * @module
 */

export { MAX_TIMER_DELAY_MS, sleepOn, systemClock, systemRandom } from './clock.js';
export type { Clock, Random, TimerHandle } from './clock.js';
export { Scope } from './context.js';
export type { Context, Task } from './context.js';
export { BulwarkError, isAbortOf, isBulwarkError, tagGuard } from './errors.js';
export { Emitter } from './events.js';
export type { Disposer, Listener, PolicyEvent } from './events.js';
export type { Health, HealthSource, HealthStatus, Json } from './health.js';
export { PASS, fuseGates, refuse } from './gate.js';
export type { Gate, Outcome, Refusal } from './gate.js';
export type { ErrorFilter } from './options.js';
export { definePolicy, noop, pipeline } from './policy.js';
export type { Decorator, ExecuteOptions, Layer, Policy, WrapOptions } from './policy.js';
