/**
 * The breaker's state machine: pure, `(state, event, now, config) -> state'`.
 *
 * ```
 *            trip (strategy)              open wait over, first probe
 *   closed ─────────────────▶ open ───────────────────────────────▶ half-open
 *     ▲                        ▲  ◀──────── a probe fails ───────────── │
 *     │                        │           (the wait grows)             │
 *     └────────────────────────┼──── `successesToClose` probes succeed ─┘
 *   isolate / unisolate / reset from any state: isolated ⇄ closed
 * ```
 *
 * Nothing here reads a clock, sets a timer or mutates a value it was given: the runner in
 * `breaker.ts` feeds it events and keeps the state it returns. Laws (`test/laws.test.ts`): the state
 * after a sequence of events equals the state after replaying its snapshot; no call is admitted while
 * open (before the wait is over) or isolated; at most `probes` probes are in flight; `successesToClose`
 * successful probes in a row close it; a probe that ends uncounted (`release`) undoes its `probe`;
 * a success while closed under a strategy that keeps no time is the same whatever `now` is, and a
 * success into a healthy full window returns the very same state (the runner relies on both to skip
 * the clock and allocation on its success path).
 *
 * @module
 */

import type { Strategy } from './strategy.js';
import {
  emptyWindow,
  record,
  shouldTrip,
  windowFromSnapshot,
  windowToSnapshot,
  type WindowSnapshot,
  type WindowState,
} from './window.js';

/**
 * The four states of a breaker.
 *
 * @category models
 * @since 0.1.0
 */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/**
 * What the machine needs to know of a breaker's options.
 *
 * @category models
 * @since 0.1.0
 */
export interface MachineConfig {
  readonly strategy: Strategy;
  /** The open wait after the first trip, in milliseconds. */
  readonly halfOpenAfterMs: number;
  /** The longest open wait, in milliseconds, however often probes fail. */
  readonly maxHalfOpenAfterMs: number;
  /** Each failed probe multiplies the open wait by this (up to `maxHalfOpenAfterMs`). */
  readonly backoffFactor: number;
  /** Probes admitted at once in half-open. */
  readonly probes: number;
  /** Successful probes in a row that close the breaker. */
  readonly successesToClose: number;
  /** Calls taking at least this long, in milliseconds, are slow; `Infinity` when slow calls are not judged. */
  readonly slowCallMs: number;
}

/** @category models */
export interface ClosedState {
  readonly state: 'closed';
  readonly window: WindowState;
}

/** @category models */
export interface OpenState {
  readonly state: 'open';
  /** When the first probe may go, on the breaker's clock (ms). */
  readonly untilMs: number;
  /** Trips since the breaker was last closed: 1 after the first, +1 per failed probe. Sets the wait. */
  readonly openings: number;
}

/** @category models */
export interface HalfOpenState {
  readonly state: 'half-open';
  readonly openings: number;
  /** Probes admitted and not yet settled. */
  readonly inFlight: number;
  /** Probes that succeeded since the breaker went half-open. */
  readonly successes: number;
}

/** @category models */
export interface IsolatedState {
  readonly state: 'isolated';
  /** Isolations not yet released; the breaker closes when the last one is. */
  readonly holders: number;
}

/**
 * A breaker's whole state: immutable, and JSON-ready through {@link toSnapshot}.
 *
 * @category models
 * @since 0.1.0
 */
export type MachineState = ClosedState | OpenState | HalfOpenState | IsolatedState;

/**
 * What happens to a breaker.
 *
 * - `success`, `failure`: a counted outcome of a call admitted while closed, or of a probe while
 *   half-open. `durationMs`, when known, lets the machine judge a slow call.
 * - `probe`: a probe is admitted (moving an open breaker whose wait is over to half-open).
 * - `release`: a probe ended without an outcome that counts (an ignored error, a cancelled call).
 * - `isolate`, `unisolate`: manual isolation taken and given back.
 * - `reset`: back to closed with an empty window, whatever the state.
 *
 * @category models
 * @since 0.1.0
 */
export type MachineEvent =
  | { readonly type: 'success'; readonly durationMs?: number }
  | { readonly type: 'failure'; readonly durationMs?: number }
  | { readonly type: 'probe' }
  | { readonly type: 'release' }
  | { readonly type: 'isolate' }
  | { readonly type: 'unisolate' }
  | { readonly type: 'reset' };

/**
 * The events that carry no data, made once (so stepping with them allocates nothing).
 *
 * @example
 * ```ts
 * const config = { strategy: consecutiveFailures(5), halfOpenAfterMs: 1000, maxHalfOpenAfterMs: 8000,
 *   backoffFactor: 2, probes: 1, successesToClose: 1, slowCallMs: Infinity };
 * const isolated = step(closed(config), events.isolate, 0, config);
 * assert.deepEqual(isolated, { state: 'isolated', holders: 1 });
 * ```
 *
 * @category instances
 * @since 0.1.0
 */
export const events = Object.freeze({
  success: Object.freeze({ type: 'success' }),
  failure: Object.freeze({ type: 'failure' }),
  probe: Object.freeze({ type: 'probe' }),
  release: Object.freeze({ type: 'release' }),
  isolate: Object.freeze({ type: 'isolate' }),
  unisolate: Object.freeze({ type: 'unisolate' }),
  reset: Object.freeze({ type: 'reset' }),
} as const satisfies Record<string, MachineEvent>);

/**
 * A closed breaker with an empty window.
 *
 * @example
 * ```ts
 * const config = { strategy: consecutiveFailures(5), halfOpenAfterMs: 1000, maxHalfOpenAfterMs: 8000,
 *   backoffFactor: 2, probes: 1, successesToClose: 1, slowCallMs: Infinity };
 * assert.deepEqual(closed(config), { state: 'closed', window: { kind: 'consecutive', failures: 0 } });
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function closed(config: MachineConfig): ClosedState {
  return { state: 'closed', window: emptyWindow(config.strategy) };
}

/**
 * How long the breaker stays open after its `openings`-th trip since it was last closed, in ms.
 *
 * @example
 * ```ts
 * const config = { strategy: consecutiveFailures(5), halfOpenAfterMs: 1000, maxHalfOpenAfterMs: 8000,
 *   backoffFactor: 2, probes: 1, successesToClose: 1, slowCallMs: Infinity };
 * assert.deepEqual([1, 2, 3, 4, 5].map((n) => openWaitMs(n, config)), [1000, 2000, 4000, 8000, 8000]);
 * ```
 *
 * @category utils
 * @since 0.1.0
 */
export function openWaitMs(openings: number, config: MachineConfig): number {
  const wait = config.halfOpenAfterMs * Math.pow(config.backoffFactor, openings - 1);
  return wait < config.maxHalfOpenAfterMs ? wait : config.maxHalfOpenAfterMs;
}

function open(now: number, openings: number, config: MachineConfig): OpenState {
  return { state: 'open', untilMs: now + openWaitMs(openings, config), openings };
}

/**
 * The next state.
 *
 * @param now - The time of the event on the breaker's clock (ms). A success while closed under a
 *   strategy other than a time window does not read it.
 * @example
 * ```ts
 * const config = { strategy: consecutiveFailures(2), halfOpenAfterMs: 1000, maxHalfOpenAfterMs: 1000,
 *   backoffFactor: 2, probes: 1, successesToClose: 1, slowCallMs: Infinity };
 * let state = step(closed(config), events.success, 0, config);
 * state = step(state, events.failure, 0, config);
 * state = step(state, events.failure, 5, config);
 * assert.deepEqual(state, { state: 'open', untilMs: 1005, openings: 1 });
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export function step(state: MachineState, event: MachineEvent, now: number, config: MachineConfig): MachineState {
  switch (event.type) {
    case 'success':
    case 'failure':
      return outcome(state, event.type === 'failure', event.durationMs, now, config);
    case 'probe':
      if (state.state === 'open') {
        return now >= state.untilMs
          ? { state: 'half-open', openings: state.openings, inFlight: 1, successes: 0 }
          : state;
      }
      if (state.state === 'half-open' && state.inFlight < config.probes) {
        return {
          state: 'half-open',
          openings: state.openings,
          inFlight: state.inFlight + 1,
          successes: state.successes,
        };
      }
      return state;
    case 'release':
      if (state.state !== 'half-open' || state.inFlight === 0) return state;
      return { state: 'half-open', openings: state.openings, inFlight: state.inFlight - 1, successes: state.successes };
    case 'isolate':
      return { state: 'isolated', holders: state.state === 'isolated' ? state.holders + 1 : 1 };
    case 'unisolate':
      if (state.state !== 'isolated') return state;
      return state.holders > 1 ? { state: 'isolated', holders: state.holders - 1 } : closed(config);
    case 'reset':
      return closed(config);
  }
}

function outcome(
  state: MachineState,
  failed: boolean,
  durationMs: number | undefined,
  now: number,
  config: MachineConfig,
): MachineState {
  const slow = durationMs !== undefined && durationMs >= config.slowCallMs;
  switch (state.state) {
    case 'closed': {
      const window = record(state.window, failed, slow, now, config.strategy);
      if (window === state.window) return state;
      // A success can trip a window too: the one that brings it to `minimumCalls`.
      if (shouldTrip(window, config.strategy)) return open(now, 1, config);
      return { state: 'closed', window };
    }
    case 'half-open':
      // Only probes count here; an outcome with none in flight belongs to an earlier state.
      if (state.inFlight === 0) return state;
      // A slow probe is no sign of recovery.
      if (failed || slow) return open(now, state.openings + 1, config);
      if (state.successes + 1 >= config.successesToClose) return closed(config);
      return {
        state: 'half-open',
        openings: state.openings,
        inFlight: state.inFlight - 1,
        successes: state.successes + 1,
      };
    default:
      return state;
  }
}

/**
 * Whether a call may go now: `pass` (closed), `probe` (the call is a probe: step the machine with
 * `events.probe`) or `reject`, with how long until a probe may go (`Infinity` while isolated).
 *
 * @category models
 * @since 0.1.0
 */
export type Admission =
  { readonly kind: 'pass' } | { readonly kind: 'probe' } | { readonly kind: 'reject'; readonly retryAfterMs: number };

const PASS_ADMISSION: Admission = Object.freeze({ kind: 'pass' });
const PROBE_ADMISSION: Admission = Object.freeze({ kind: 'probe' });

/**
 * Decides whether a call may go now.
 *
 * @example
 * ```ts
 * const config = { strategy: consecutiveFailures(1), halfOpenAfterMs: 1000, maxHalfOpenAfterMs: 1000,
 *   backoffFactor: 2, probes: 1, successesToClose: 1, slowCallMs: Infinity };
 * const opened = step(closed(config), events.failure, 0, config);
 * assert.deepEqual(admission(opened, 400, config), { kind: 'reject', retryAfterMs: 600 });
 * assert.deepEqual(admission(opened, 1000, config), { kind: 'probe' });
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export function admission(state: MachineState, now: number, config: MachineConfig): Admission {
  switch (state.state) {
    case 'closed':
      return PASS_ADMISSION;
    case 'open':
      return now >= state.untilMs ? PROBE_ADMISSION : { kind: 'reject', retryAfterMs: state.untilMs - now };
    case 'half-open':
      // Full: a probe slot frees as soon as one settles, so there is no wait to announce.
      return state.inFlight < config.probes ? PROBE_ADMISSION : { kind: 'reject', retryAfterMs: 0 };
    case 'isolated':
      return { kind: 'reject', retryAfterMs: Number.POSITIVE_INFINITY };
  }
}

/**
 * Whether the machine reads `now` on a success while closed: only a time window or slow-call
 * detection needs the clock there.
 *
 * @internal
 */
export function needsClockOnSuccess(config: MachineConfig): boolean {
  return config.strategy.kind === 'time-window' || Number.isFinite(config.slowCallMs);
}

// ---------------------------------------------------------------------------------------------
// snapshots
// ---------------------------------------------------------------------------------------------

/**
 * A machine state as JSON. Times are on the breaker's clock (milliseconds since the epoch with the
 * default clock, so a snapshot survives a restart).
 *
 * @category models
 * @since 0.1.0
 */
export type MachineSnapshot =
  | { readonly state: 'closed'; readonly window: WindowSnapshot }
  | { readonly state: 'open'; readonly untilMs: number; readonly openings: number }
  | { readonly state: 'half-open'; readonly openings: number; readonly inFlight: number; readonly successes: number }
  | { readonly state: 'isolated'; readonly holders: number };

/**
 * The JSON form of a machine state.
 *
 * @example
 * ```ts
 * const config = { strategy: consecutiveFailures(5), halfOpenAfterMs: 1000, maxHalfOpenAfterMs: 8000,
 *   backoffFactor: 2, probes: 1, successesToClose: 1, slowCallMs: Infinity };
 * const state = step(closed(config), events.failure, 0, config);
 * const json = JSON.parse(JSON.stringify(toSnapshot(state, config)));
 * assert.deepEqual(fromSnapshot(json, config), state);
 * ```
 *
 * @category destructors
 * @since 0.1.0
 */
export function toSnapshot(state: MachineState, config: MachineConfig): MachineSnapshot {
  switch (state.state) {
    case 'closed':
      return { state: 'closed', window: windowToSnapshot(state.window, config.strategy) };
    case 'open':
      return { state: 'open', untilMs: state.untilMs, openings: state.openings };
    case 'half-open':
      return { state: 'half-open', openings: state.openings, inFlight: state.inFlight, successes: state.successes };
    case 'isolated':
      return { state: 'isolated', holders: state.holders };
  }
}

const isNat = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Rebuilds a machine state from its JSON form, or `undefined` when `snapshot` is not one. A closed
 * state's window taken under another strategy is replaced by an empty one; a half-open state keeps at
 * most `probes` probes in flight.
 *
 * @example
 * ```ts
 * const config = { strategy: consecutiveFailures(5), halfOpenAfterMs: 1000, maxHalfOpenAfterMs: 8000,
 *   backoffFactor: 2, probes: 1, successesToClose: 1, slowCallMs: Infinity };
 * assert.deepEqual(fromSnapshot({ state: 'open', untilMs: 5000, openings: 1 }, config),
 *   { state: 'open', untilMs: 5000, openings: 1 });
 * assert.equal(fromSnapshot({ state: 'open' }, config), undefined);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function fromSnapshot(snapshot: unknown, config: MachineConfig): MachineState | undefined {
  if (typeof snapshot !== 'object' || snapshot === null) return undefined;
  const s = snapshot as Record<string, unknown>;
  switch (s['state']) {
    case 'closed': {
      const window = windowFromSnapshot(s['window'], config.strategy);
      return window === undefined ? undefined : { state: 'closed', window };
    }
    case 'open': {
      const { untilMs, openings } = s;
      if (typeof untilMs !== 'number' || !Number.isFinite(untilMs) || !isNat(openings) || openings < 1)
        return undefined;
      return { state: 'open', untilMs, openings };
    }
    case 'half-open': {
      const { openings, inFlight, successes } = s;
      if (!isNat(openings) || openings < 1 || !isNat(inFlight) || !isNat(successes)) return undefined;
      return {
        state: 'half-open',
        openings,
        inFlight: Math.min(inFlight, config.probes),
        successes: Math.min(successes, config.successesToClose - 1),
      };
    }
    case 'isolated': {
      const { holders } = s;
      if (!isNat(holders) || holders < 1) return undefined;
      return { state: 'isolated', holders };
    }
    default:
      return undefined;
  }
}
