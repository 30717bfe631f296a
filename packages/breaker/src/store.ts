/**
 * Stores: where breakers of several processes share their state. The Redis store
 * (`@bulwark/breaker/redis`) is the one implementation; the interface is here so that a breaker does
 * not depend on Redis, and so that another store can be written.
 *
 * What is shared is the fleet's decision (closed, open with its wait, half-open with its probe
 * leases, isolated) and the trip votes; counting stays in each process. See the README's
 * "Consistency" section.
 *
 * @module
 */

import type { BreakerState } from './machine.js';

/**
 * The fleet's state as a store reports it.
 *
 * @category models
 * @since 0.1.0
 */
export interface FleetView {
  /** `isolated` while anyone holds an isolation, whatever the state beneath. */
  readonly state: BreakerState;
  /** Changes with every transition of the fleet: compare for equality only. */
  readonly generation: string;
  /** When open: milliseconds until probes may go (0 once they may). Otherwise 0. */
  readonly remainingMs: number;
  /** Trips since the fleet was last closed. */
  readonly openings: number;
  /** How many times the fleet was reset: a process that sees it grow drops its own isolations. */
  readonly resets: number;
  /** Whether the store holds any state for the breaker (not: never tripped, expired, or lost with a restart). */
  readonly known: boolean;
}

/**
 * The answer to a request for a probe lease.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProbeGrant {
  readonly granted: boolean;
  readonly view: FleetView;
}

/**
 * What a store needs of a breaker's options to make the fleet's decisions.
 *
 * @category models
 * @since 0.1.0
 */
export interface FleetParams {
  readonly halfOpenAfterMs: number;
  readonly maxHalfOpenAfterMs: number;
  readonly backoffFactor: number;
  /** Probes in flight at once across the fleet. */
  readonly probes: number;
  readonly successesToClose: number;
  /** Distinct members that must trip within `quorumWindowMs` before the fleet opens. */
  readonly quorum: number;
  readonly quorumWindowMs: number;
  /** How long a probe lease lasts if its holder never reports (a crashed process), in ms. */
  readonly probeLeaseMs: number;
}

/**
 * What a store calls back on: views from its periodic sync, and its failures.
 *
 * @category models
 * @since 0.1.0
 */
export interface FleetHooks {
  onView(view: FleetView): void;
  onError(error: unknown): void;
}

/**
 * One breaker's connection to a store. Every operation resolves to the fleet's view after it, or
 * rejects when the store cannot be reached; none may throw synchronously.
 *
 * @category models
 * @since 0.1.0
 */
export interface FleetLink {
  /** This participant's id: unique per breaker instance, so one process may hold several. */
  readonly member: string;
  /**
   * How often the store re-reads the fleet's state, in ms. A breaker refused a probe lease does not
   * ask again sooner: until then it refuses calls itself.
   */
  readonly syncIntervalMs: number;
  /**
   * Votes to trip; the fleet opens once `quorum` members voted within `quorumWindowMs`, for what is
   * left of the open wait of the member whose vote made the quorum (`remainingMs`, with its
   * `openings`: a whole first wait for a fresh trip, less for a breaker restored open from a snapshot).
   */
  trip(remainingMs: number, openings: number): Promise<FleetView>;
  /** Takes back this member's vote (its own breaker recovered). */
  withdraw(): Promise<FleetView>;
  /** Asks for a probe lease (moving an open fleet whose wait is over to half-open). */
  acquireProbe(lease: string): Promise<ProbeGrant>;
  /** Reports how a leased probe went; `generation` is the fleet generation the lease was granted in. */
  probeDone(lease: string, generation: string, outcome: 'success' | 'failure' | 'release'): Promise<FleetView>;
  isolate(holder: string): Promise<FleetView>;
  release(holder: string): Promise<FleetView>;
  reset(): Promise<FleetView>;
  /** Opens the fleet with this wait if the store holds no state for it (it lost it). */
  seedOpen(remainingMs: number, openings: number): Promise<FleetView>;
  /** Stops syncing this breaker. */
  detach(): void;
}

/**
 * Somewhere breakers of several processes share their state.
 *
 * @category models
 * @since 0.1.0
 */
export interface BreakerStore {
  /** Connects a breaker: from now on `hooks.onView` receives the fleet's state periodically. */
  attach(name: string, params: FleetParams, hooks: FleetHooks): FleetLink;
}
