/**
 * Prometheus through prom-client (`@bulwark/telemetry/prometheus`): metrics registered on the user's
 * registry, named and labelled the Prometheus way (base units, `_total` counters, `_seconds`
 * durations), ready for whatever serves `registry.metrics()` to the scraper.
 *
 * One sink serves every instrumented policy (the `policy` label tells them apart); the health gauges
 * are read from the sources at scrape time, so they are never stale. Label values pass through the
 * redactor, and failure types are bounded per policy (`other` past the limit) so a stream of distinct
 * error names cannot explode the number of series.
 *
 * @module
 */

import { type Context, type HealthSource, type Outcome, type PolicyEvent } from '@bulwark/core';
import { optionChecker, type OptionChecker } from '@bulwark/core/options';
import { Counter, Gauge, Histogram, register as globalRegistry, type Registry } from 'prom-client';

import { checkSources, readSource, redactorOf } from './health.js';
import type { SinkBinding, TelemetrySink } from './instrument.js';
import { isIncreasingPositive } from './internal/checks.js';
import { TagSet } from './internal/error-tag.js';
import { BREAKER_STATES, stateChangeTo } from './internal/events.js';
import type { RedactOptions, Redactor } from './redact.js';

const check: OptionChecker = optionChecker('@bulwark/telemetry');

/**
 * Histogram buckets of `bulwark_call_duration_seconds`, in seconds: 1 ms to 60 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_BUCKETS_SECONDS } from '@bulwark/telemetry/prometheus';
 * assert.deepEqual([DEFAULT_BUCKETS_SECONDS[0], DEFAULT_BUCKETS_SECONDS.at(-1)], [0.001, 60]);
 * ```
 *
 * @since 0.1.0
 */
export const DEFAULT_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60,
];

/**
 * Options of {@link prometheus}.
 *
 * @since 0.1.0
 */
export interface PrometheusOptions {
  /**
   * The registry the metrics are registered on.
   * @default prom-client's global `register`
   */
  readonly registry?: Registry;
  /**
   * Prefix of every metric name.
   * @default 'bulwark_'
   */
  readonly prefix?: string;
  /**
   * Buckets of the call duration histogram, in seconds.
   * @default DEFAULT_BUCKETS_SECONDS
   */
  readonly buckets?: readonly number[];
  /**
   * Components whose health is exposed as gauges, read at each scrape.
   * @default []
   */
  readonly sources?: readonly HealthSource[];
  /**
   * Distinct `error_type` label values kept per policy; more are counted as `other`.
   * @default 50
   */
  readonly maxErrorTypes?: number;
  /**
   * How secrets are removed from label values.
   * @default redactor()
   */
  readonly redact?: Redactor | RedactOptions;
}

/**
 * The Prometheus sink.
 *
 * @since 0.1.0
 */
export interface PrometheusSink extends TelemetrySink {
  /** The registry the metrics are on. */
  readonly registry: Registry;
  /** Removes the sink's metrics from the registry. */
  dispose(): void;
}

type Labels<N extends string> = Partial<Record<N, string>>;

/** A count kept by the sink and handed to prom-client at scrape time, with its label set. */
interface Tally<N extends string> {
  n: number;
  readonly labels: Labels<N>;
}

/**
 * The Prometheus sink: registers these metrics on `registry` (names with the default prefix):
 *
 * - `bulwark_calls_total{policy, outcome, error_type}`: calls by outcome (`success`, `failure`) and
 *   failure type (the error's `_tag` or name);
 * - `bulwark_call_duration_seconds{policy, outcome}`: call durations, retries and waits included;
 * - `bulwark_policy_events_total{policy, source, event}`: policy events (`retry`, `rejected`,
 *   `timeout`, `hit`, `miss`, `stale`, `state-change`…), by the policy that emitted them;
 * - `bulwark_breaker_state{policy, breaker, state}`: 1 for each breaker's current state, 0 for the others;
 * - `bulwark_health_status{component, kind, status}` and `bulwark_health_value{component, kind, field}`:
 *   the sources' status (1 for the current one) and numeric details, read at scrape time.
 *
 * @throws TypeError when a metric of the same name is already on the registry (use one sink per
 * registry: it serves any number of policies), or when an option is malformed.
 * @example
 * ```ts
 * import { noop } from '@bulwark/core';
 * import { instrument } from '@bulwark/telemetry';
 * import { prometheus } from '@bulwark/telemetry/prometheus';
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * const api = instrument(noop, [prometheus({ registry })], { name: 'api' });
 * await api.execute(async () => 'ok');
 * const text = await registry.metrics();
 * assert.ok(text.includes('bulwark_calls_total{policy="api",outcome="success"} 1'));
 * ```
 *
 * @since 0.1.0
 */
export function prometheus(options: PrometheusOptions = {}): PrometheusSink {
  check.object('options', options);
  const registry = options.registry ?? globalRegistry;
  if (typeof registry?.registerMetric !== 'function') check.fail('registry', 'a prom-client Registry', registry);
  const prefix = check.string('prefix', options.prefix, 'bulwark_');
  if (!/^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) check.fail('prefix', 'a Prometheus metric name prefix', prefix);
  const buckets: readonly number[] = options.buckets ?? DEFAULT_BUCKETS_SECONDS;
  if (buckets.length === 0 || !isIncreasingPositive(buckets)) {
    check.fail('buckets', 'a non-empty increasing array of positive numbers (seconds)', buckets);
  }
  const sources = checkSources('sources', options.sources);
  const maxErrorTypes = check.integer('maxErrorTypes', options.maxErrorTypes, 50, { min: 1 });
  const redact = redactorOf(options.redact);

  const names = [
    'calls_total',
    'call_duration_seconds',
    'policy_events_total',
    'breaker_state',
    'health_status',
    'health_value',
  ].map((n) => `${prefix}${n}`);
  for (const name of names) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw new TypeError(
        `@bulwark/telemetry: a metric named ${name} is already registered on this registry; one prometheus() sink serves every policy (or give another \`prefix\`)`,
      );
    }
  }
  const [callsName, durationName, eventsName, breakerName, statusName, valueName] = names as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const registers = [registry];
  // Counters are kept as plain numbers on the call path and written to prom-client when scraped:
  // prom-client hashes and validates the labels on every inc(), which costs more than the call.
  const callTallies = new Set<Tally<'policy' | 'outcome' | 'error_type'>>();
  const eventTallies = new Set<Tally<'policy' | 'source' | 'event'>>();
  new Counter({
    name: callsName,
    help: 'Calls through an instrumented Bulwark policy, by outcome and error type.',
    labelNames: ['policy', 'outcome', 'error_type'] as const,
    registers,
    collect() {
      this.reset();
      for (const tally of callTallies) this.inc(tally.labels, tally.n);
    },
  });
  const duration = new Histogram({
    name: durationName,
    help: 'Duration of calls through an instrumented Bulwark policy in seconds, retries and waits included.',
    labelNames: ['policy', 'outcome'] as const,
    buckets: [...buckets],
    registers,
  });
  new Counter({
    name: eventsName,
    help: 'Events of Bulwark policies (retry, rejected, timeout, hit, miss, stale, state-change...), by the policy that emitted them.',
    labelNames: ['policy', 'source', 'event'] as const,
    registers,
    collect() {
      this.reset();
      for (const tally of eventTallies) this.inc(tally.labels, tally.n);
    },
  });
  const breakerState = new Gauge({
    name: breakerName,
    help: 'Circuit breaker state: 1 for the current state, 0 for the others.',
    labelNames: ['policy', 'breaker', 'state'] as const,
    registers,
  });
  // The series prom-client keeps until told to forget them (durations, breaker states), by policy
  // name: forgotten when the last policy bound under that name is disposed.
  const byName = new Map<string, { bindings: number; readonly breakers: Map<string, Set<string>> }>();
  const readAll = (): ReturnType<typeof readSource>[] => sources.map((s) => readSource(s, redact));
  new Gauge({
    name: statusName,
    help: 'Health of a named component (breaker, bulkhead, limiter): 1 for its current status, 0 for the others.',
    labelNames: ['component', 'kind', 'status'] as const,
    registers,
    collect() {
      this.reset();
      for (const component of readAll()) {
        for (const status of ['healthy', 'degraded', 'unhealthy'] as const) {
          this.set({ component: component.name, kind: component.kind, status }, component.status === status ? 1 : 0);
        }
      }
    },
  });
  new Gauge({
    name: valueName,
    help: "Numeric details of a named component's health (running and queued calls, failures, tokens...).",
    labelNames: ['component', 'kind', 'field'] as const,
    registers,
    collect() {
      this.reset();
      for (const component of readAll()) {
        for (const [field, value] of Object.entries(component.details)) {
          if (typeof value === 'number' && Number.isFinite(value)) {
            this.set({ component: component.name, kind: component.kind, field }, value);
          }
        }
      }
    },
  });

  return {
    registry,
    bind(policy) {
      const name = redact.text(policy);
      const tags = new TagSet(maxErrorTypes, (tag) => redact.text(tag));
      let named = byName.get(name);
      if (named === undefined) byName.set(name, (named = { bindings: 0, breakers: new Map() }));
      named.bindings++;
      const { breakers } = named;
      // Label sets made once per outcome and failure type, not per call.
      const ok: Labels<'policy' | 'outcome'> = { policy: name, outcome: 'success' };
      const failed: Labels<'policy' | 'outcome'> = { policy: name, outcome: 'failure' };
      const succeeded: Tally<'policy' | 'outcome' | 'error_type'> = { n: 0, labels: ok };
      const failures = new Map<string, Tally<'policy' | 'outcome' | 'error_type'>>();
      const events = new Map<string, Map<string, Tally<'policy' | 'source' | 'event'>>>();
      const mine: Tally<never>[] = [];
      const keep = <T extends Tally<never>>(tally: T, all: Set<T>): T => {
        all.add(tally);
        mine.push(tally);
        return tally;
      };
      keep(succeeded, callTallies);
      const binding: SinkBinding = {
        end(_context: Context, durationMs: number, outcome: Outcome) {
          if (outcome.ok) {
            succeeded.n++;
            duration.observe(ok, durationMs / 1000);
            return;
          }
          const type = tags.of(outcome.value);
          let tally = failures.get(type);
          if (tally === undefined) {
            tally = keep({ n: 0, labels: { policy: name, outcome: 'failure', error_type: type } }, callTallies);
            failures.set(type, tally);
          }
          tally.n++;
          duration.observe(failed, durationMs / 1000);
        },
        event(event: PolicyEvent) {
          let bySource = events.get(event.policy);
          if (bySource === undefined)
            events.set(event.policy, (bySource = new Map<string, Tally<'policy' | 'source' | 'event'>>()));
          let tally = bySource.get(event.type);
          if (tally === undefined) {
            const labels = { policy: name, source: redact.text(event.policy), event: event.type };
            bySource.set(event.type, (tally = keep({ n: 0, labels }, eventTallies)));
          }
          tally.n++;
          if (event.type !== 'state-change') return;
          const to = stateChangeTo(event);
          if (to === undefined) return;
          const breaker = redact.text(event.policy);
          let written = breakers.get(breaker);
          if (written === undefined) breakers.set(breaker, (written = new Set(BREAKER_STATES)));
          written.add(to);
          for (const state of written) breakerState.set({ policy: name, breaker, state }, state === to ? 1 : 0);
        },
      };
      let disposed = false;
      binding.dispose = () => {
        if (disposed) return;
        disposed = true;
        for (const tally of mine) {
          callTallies.delete(tally);
          eventTallies.delete(tally);
        }
        if (--named.bindings > 0) return;
        byName.delete(name);
        duration.remove(ok);
        duration.remove(failed);
        for (const [breaker, states] of breakers) {
          for (const state of states) breakerState.remove({ policy: name, breaker, state });
        }
      };
      return binding;
    },
    dispose() {
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
