/**
 * Health: what named breakers, bulkheads and limiters report, so one `/health` endpoint can show them all.
 *
 * A policy that has a state worth reporting implements {@link HealthSource}; telemetry's health report
 * collects any number of them. Details are JSON-safe so a report can be served as is.
 *
 * @module
 */

/**
 * A JSON value.
 *
 * @category models
 * @since 0.1.0
 */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/**
 * How a component is doing: `healthy` (working normally), `degraded` (working, with reduced capacity
 * or on a fallback, e.g. a breaker half-open or a shared store unreachable), `unhealthy` (refusing
 * work, e.g. a breaker open).
 *
 * @category models
 * @since 0.1.0
 */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/**
 * One component's health at one moment.
 *
 * @category models
 * @since 0.1.0
 */
export interface Health {
  readonly status: HealthStatus;
  /** Figures worth showing, e.g. `{ state: 'open', failures: 5, retryAfterMs: 41000 }`. */
  readonly details: { readonly [key: string]: Json };
}

/**
 * Something with a name and a health: a breaker, a bulkhead, a rate limiter.
 *
 * @category models
 * @since 0.1.0
 */
export interface HealthSource {
  /** The component's name, unique in a report, e.g. `'database'`. */
  readonly name: string;
  /** What it is, e.g. `'breaker'`. */
  readonly kind: string;
  /** Its health now. Must not throw and must be cheap: reports read it on every request. */
  health(): Health;
}
