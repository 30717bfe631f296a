/**
 * The health report: one JSON document across named breakers, bulkheads and rate limiters (anything
 * implementing core's `HealthSource`), and a `node:http` handler that serves it (the FastAPI seed's
 * `/health` with its five breakers).
 *
 * The overall status is the worst of the components' (`unhealthy` > `degraded` > `healthy`); an empty
 * report is healthy. A source whose `health()` throws (it must not) is reported `unhealthy` with the
 * redacted error, never thrown to the caller. Details are redacted before they are served.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';

import { type Clock, type Disposer, type HealthSource, type HealthStatus, type Json } from '@bulwark/core';
import { optionChecker, type OptionChecker } from '@bulwark/core/options';

import { redactor, redactorAt, type RedactOptions, type Redactor } from './redact.js';

const check: OptionChecker = optionChecker('@bulwark/telemetry');

/**
 * One component's entry in a {@link HealthSnapshot}.
 *
 * @since 0.1.0
 */
export interface ComponentHealth {
  readonly name: string;
  readonly kind: string;
  readonly status: HealthStatus;
  readonly details: { readonly [key: string]: Json };
}

/**
 * A health report at one moment, as served by {@link healthHandler}.
 *
 * @since 0.1.0
 */
export interface HealthSnapshot {
  /** The worst status of any component; `healthy` when there are none. */
  readonly status: HealthStatus;
  /** When the report was taken, ISO 8601. */
  readonly checkedAt: string;
  /** Each component by name, in the order they were added. */
  readonly components: { readonly [name: string]: Omit<ComponentHealth, 'name'> };
}

/**
 * Options of {@link healthReport}.
 *
 * @since 0.1.0
 */
export interface HealthReportOptions {
  /**
   * Where `checkedAt` is read from.
   * @default systemClock (Date.now)
   */
  readonly clock?: Pick<Clock, 'now'>;
  /**
   * How secrets are removed from details (a {@link Redactor}, or options for one).
   * @default redactor()
   */
  readonly redact?: Redactor | RedactOptions;
}

/**
 * A set of named health sources and the report across them.
 *
 * @since 0.1.0
 */
export interface HealthReport {
  /** Reads every source now. */
  check(): HealthSnapshot;
  /** Every component now, in order (what {@link HealthReport.check} reports, as a list). */
  components(): ComponentHealth[];
  /** Adds a source; the returned function removes it. */
  add(source: HealthSource): Disposer;
  /** The sources, in order. */
  readonly sources: readonly HealthSource[];
}

const RANK: Readonly<Record<HealthStatus, number>> = { healthy: 0, degraded: 1, unhealthy: 2 };

/**
 * The worst of some statuses; `healthy` for none.
 *
 * @example
 * ```ts
 * assert.equal(worstStatus(['healthy', 'degraded']), 'degraded');
 * assert.equal(worstStatus([]), 'healthy');
 * ```
 *
 * @since 0.1.0
 */
export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'healthy';
  for (const status of statuses) if (RANK[status] > RANK[worst]) worst = status;
  return worst;
}

/** @internal Whether a value is a health source. */
export function isHealthSource(value: unknown): value is HealthSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as HealthSource).name === 'string' &&
    typeof (value as HealthSource).kind === 'string' &&
    typeof (value as HealthSource).health === 'function'
  );
}

/** @internal Reads one source, never throwing, details redacted. */
export function readSource(source: HealthSource, redact: Redactor): ComponentHealth {
  const name = redact.text(source.name);
  const kind = redact.text(source.kind);
  try {
    const health = source.health();
    const status: HealthStatus = health.status in RANK ? health.status : 'unhealthy';
    const details = redact.value(health.details);
    return {
      name,
      kind,
      status,
      details:
        typeof details === 'object' && details !== null && !Array.isArray(details)
          ? (details as { readonly [key: string]: Json })
          : {},
    };
  } catch (error) {
    return { name, kind, status: 'unhealthy', details: { error: redact.error(error) } };
  }
}

/** @internal A redactor from an option that is either one or its options. */
export function redactorOf(option: Redactor | RedactOptions | undefined): Redactor {
  if (option === undefined) return redactor();
  const given = check.object('redact', option) as Partial<Redactor>;
  if (typeof given.text === 'function' && typeof given.value === 'function') return option as Redactor;
  return redactorAt('redact.', option as RedactOptions);
}

/** @internal Checks a `sources` option: an array of health sources with unique names. */
export function checkSources(name: string, value: unknown): readonly HealthSource[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isHealthSource)) {
    check.fail(name, 'an array of health sources ({ name, kind, health() })', value);
  }
  const names = new Set<string>();
  for (const source of value) {
    if (names.has(source.name)) check.fail(name, 'sources with unique names', source.name);
    names.add(source.name);
  }
  return value;
}

/**
 * Makes a health report across named sources: breakers, bulkheads, rate limiters or your own.
 *
 * @throws RangeError when two sources share a name, TypeError when one is not a health source.
 * @example
 * ```ts
 * import type { HealthSource } from '@bulwark/core';
 * const database: HealthSource = { name: 'database', kind: 'breaker', health: () => ({ status: 'unhealthy', details: { state: 'open' } }) };
 * const llm: HealthSource = { name: 'llm', kind: 'breaker', health: () => ({ status: 'healthy', details: { state: 'closed' } }) };
 * const report = healthReport([llm, database]);
 * const snapshot = report.check();
 * assert.equal(snapshot.status, 'unhealthy');
 * assert.deepEqual(snapshot.components['database'], { kind: 'breaker', status: 'unhealthy', details: { state: 'open' } });
 * ```
 *
 * @since 0.1.0
 */
export function healthReport(sources: readonly HealthSource[] = [], options: HealthReportOptions = {}): HealthReport {
  check.object('options', options);
  const list = [...checkSources('sources', sources)];
  const clock = options.clock ?? { now: Date.now };
  if (typeof clock?.now !== 'function') check.fail('clock', 'an object with now()', clock);
  const redact = redactorOf(options.redact);
  const components = (): ComponentHealth[] => list.map((source) => readSource(source, redact));
  return {
    components,
    check() {
      const read = components();
      // `fromEntries` defines each key: a component named `__proto__` (the breaker registry allows it)
      // stays a key of its own instead of setting the object's prototype.
      const byName: Record<string, Omit<ComponentHealth, 'name'>> = Object.fromEntries(
        read.map(({ name, kind, status, details }) => [name, { kind, status, details }]),
      );
      return {
        status: worstStatus(read.map((c) => c.status)),
        checkedAt: new Date(clock.now()).toISOString(),
        components: byName,
      };
    },
    add(source) {
      if (!isHealthSource(source)) check.fail('source', 'a health source ({ name, kind, health() })', source);
      if (list.some((s) => s.name === source.name)) check.fail('source', 'a source with a unique name', source.name);
      list.push(source);
      return () => {
        const index = list.indexOf(source);
        if (index >= 0) list.splice(index, 1);
      };
    },
    get sources() {
      return list;
    },
  };
}

/**
 * Options of {@link healthHandler}.
 *
 * @since 0.1.0
 */
export interface HealthHandlerOptions {
  /**
   * The HTTP status for each overall status. Load balancers take a node out of rotation on 503.
   * @default { healthy: 200, degraded: 200, unhealthy: 503 }
   */
  readonly statusCodes?: Partial<Readonly<Record<HealthStatus, number>>>;
}

/**
 * A `node:http` request handler that serves a {@link HealthReport} as JSON (`GET` and `HEAD`; other
 * methods get 405). Mount it at `/health` in a server, or call it from a framework's route.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * const report = healthReport([{ name: 'llm', kind: 'breaker', health: () => ({ status: 'healthy', details: { state: 'closed' } }) }]);
 * const server = createServer(healthHandler(report)).listen(0, '127.0.0.1');
 * await new Promise((resolve) => server.once('listening', resolve));
 * const { port } = server.address() as { port: number };
 * const response = await fetch(`http://127.0.0.1:${port}/health`);
 * assert.equal(response.status, 200);
 * assert.equal(((await response.json()) as { status: string }).status, 'healthy');
 * server.close();
 * ```
 *
 * @since 0.1.0
 */
export function healthHandler(
  report: HealthReport,
  options: HealthHandlerOptions = {},
): (request: IncomingMessage, response: ServerResponse) => void {
  check.object('options', options);
  if (typeof (report as Partial<HealthReport>)?.check !== 'function') check.fail('report', 'a health report', report);
  const given = check.object('statusCodes', options.statusCodes) as HealthHandlerOptions['statusCodes'] & object;
  const code = (status: HealthStatus, fallback: number): number =>
    check.integer(`statusCodes.${status}`, given[status], fallback, { min: 100, max: 599 });
  // Each code checked and defaulted on its own: `{ healthy: undefined }` means the default, never no status.
  const codes: Record<HealthStatus, number> = {
    healthy: code('healthy', 200),
    degraded: code('degraded', 200),
    unhealthy: code('unhealthy', 503),
  };
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'method not allowed' }));
      return;
    }
    const snapshot = report.check();
    const body = JSON.stringify(snapshot);
    response.writeHead(codes[snapshot.status], {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
}
