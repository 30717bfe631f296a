/**
 * @bulwark/breaker: circuit breakers, pure at heart, shareable through Redis.
 *
 * @module
 */

export { breaker } from './breaker.js';
export type { Breaker, BreakerOptions, BreakerSnapshot, BreakerStats } from './breaker.js';
export type { ErrorFilter } from '@bulwark/core';
export {
  BrokenCircuitError,
  IsolatedError,
  isBreakerRejection,
  isBrokenCircuitError,
  isIsolatedError,
} from './errors.js';
export type {
  BreakerEvent,
  BreakerFailureEvent,
  BreakerRejectedEvent,
  BreakerStateChangeEvent,
  BreakerStoreErrorEvent,
  BreakerStoreRecoveredEvent,
} from './events.js';
export { admission, closed, events, fromSnapshot, openWaitMs, step, toSnapshot } from './machine.js';
export type {
  Admission,
  BreakerState,
  ClosedState,
  HalfOpenState,
  IsolatedState,
  MachineConfig,
  MachineEvent,
  MachineSnapshot,
  MachineState,
  OpenState,
} from './machine.js';
export { breakerRegistry } from './registry.js';
export type { BreakerRegistry, HealthReport, RegistryBreakerOptions, RegistryOptions } from './registry.js';
export type { BreakerStore, FleetHooks, FleetLink, FleetParams, FleetView, ProbeGrant } from './store.js';
export { consecutiveFailures, countWindow, timeWindow } from './strategy.js';
export type {
  ConsecutiveFailures,
  CountWindow,
  CountWindowOptions,
  RateThresholds,
  Strategy,
  TimeWindow,
  TimeWindowOptions,
} from './strategy.js';
export type {
  ConsecutiveState,
  CountWindowState,
  TimeWindowState,
  WindowSnapshot,
  WindowState,
  WindowStats,
} from './window.js';
