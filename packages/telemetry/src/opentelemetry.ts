/**
 * OpenTelemetry through `@opentelemetry/api` alone (`@bulwark/telemetry/opentelemetry`): a span per
 * call with a span event per policy decision (retry, rejection, timeout, cache result, breaker state),
 * attributes summing up what the policies decided, and metrics instruments (call counter, duration
 * histogram in seconds, event counter, breaker-state and health gauges).
 *
 * No SDK is loaded or required: with none registered the API's no-op tracer and meter cost little,
 * and whatever SDK the application registers (or the tracer and meter passed in) receives the data.
 * The task runs inside the call's span context, so spans it starts (an HTTP client's) are children of
 * the call's span. Every string written (attributes, event attributes, status and exception
 * messages) passes through the redactor.
 *
 * @module
 */

import {
  context as otelContext,
  metrics as otelMetrics,
  SpanKind,
  SpanStatusCode,
  trace,
  ValueType,
  type Attributes,
  type AttributeValue,
  type Meter,
  type ObservableResult,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { type Context, type HealthSource, type Outcome, type PolicyEvent } from '@bulwark/core';
import { optionChecker, type OptionChecker } from '@bulwark/core/options';

import { checkSources, readSource, redactorOf } from './health.js';
import type { SinkBinding, TelemetrySink } from './instrument.js';
import { isIncreasingPositive } from './internal/checks.js';
import { TagSet } from './internal/error-tag.js';
import { BREAKER_STATES, eventFields, stateChangeTo } from './internal/events.js';
import { VERSION } from './internal/version.js';
import type { RedactOptions, Redactor } from './redact.js';

const check: OptionChecker = optionChecker('@bulwark/telemetry');

/**
 * Bucket boundaries of the call duration histogram, in seconds: OpenTelemetry's recommendation for
 * request durations, extended to a minute for slow calls behind retries.
 *
 * @example
 * ```ts
 * import { DEFAULT_DURATION_BUCKETS_SECONDS } from '@bulwark/telemetry/opentelemetry';
 * assert.equal(DEFAULT_DURATION_BUCKETS_SECONDS.at(-1), 60);
 * ```
 *
 * @since 0.1.0
 */
export const DEFAULT_DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60,
];

/**
 * Options of {@link openTelemetry}.
 *
 * @since 0.1.0
 */
export interface OpenTelemetryOptions {
  /**
   * The tracer spans are started on.
   * @default trace.getTracer('@bulwark/telemetry') (the globally registered provider's, no-op without one)
   */
  readonly tracer?: Tracer;
  /**
   * The meter instruments are made on.
   * @default metrics.getMeter('@bulwark/telemetry') (the globally registered provider's, no-op without one)
   */
  readonly meter?: Meter;
  /**
   * Whether to start a span per call.
   * @default true
   */
  readonly traces?: boolean;
  /**
   * Whether to record metrics instruments.
   * @default true
   */
  readonly metrics?: boolean;
  /**
   * Whether each span carries the call's correlation id as `bulwark.correlation_id` (reading it makes
   * a UUID for calls that were given none).
   * @default true
   */
  readonly correlationId?: boolean;
  /**
   * Components whose health is observed as gauges (`bulwark.health.status`, `bulwark.health.value`).
   * @default []
   */
  readonly sources?: readonly HealthSource[];
  /**
   * Bucket boundaries of `bulwark.call.duration`, in seconds (advice to the SDK, which may override it with a view).
   * @default DEFAULT_DURATION_BUCKETS_SECONDS
   */
  readonly durationBuckets?: readonly number[];
  /**
   * Distinct `error.type` values kept per policy; more are recorded as `other`.
   * @default 50
   */
  readonly maxErrorTypes?: number;
  /**
   * How secrets are removed from everything written.
   * @default redactor()
   */
  readonly redact?: Redactor | RedactOptions;
}

/** What a binding keeps per call. */
interface CallSpan {
  readonly span: Span;
  retries: number;
}

const snakeCache = new Map<string, string>();
/** `delayMs` → `bulwark.delay_ms`: OpenTelemetry attribute names are dotted snake case. */
function attributeName(field: string): string {
  let name = snakeCache.get(field);
  if (name === undefined) {
    name = `bulwark.${field
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/-/g, '_')
      .toLowerCase()}`;
    if (snakeCache.size < 1000) snakeCache.set(field, name);
  }
  return name;
}

const MAX_ATTRIBUTE_LENGTH = 1000;

/**
 * The OpenTelemetry sink: spans, span events and metrics instruments through `@opentelemetry/api`.
 *
 * Spans are named after the instrumented policy, of kind `INTERNAL`, with attributes
 * `bulwark.policy`, `bulwark.correlation_id`, `bulwark.outcome` (`success` | `failure`), `error.type`
 * (the error's `_tag` or name), `bulwark.retries`, `bulwark.attempts`, `bulwark.cache.result`,
 * `bulwark.rejected_by`, `bulwark.timeout` and `bulwark.breaker.state` as the policies decide them.
 * Instruments: `bulwark.calls` ({call}), `bulwark.call.duration` (s), `bulwark.policy.events`
 * ({event}), `bulwark.breaker.state`, `bulwark.health.status` and `bulwark.health.value` (gauges).
 *
 * @throws TypeError or RangeError when an option is malformed.
 * @example
 * ```ts
 * import { noop } from '@bulwark/core';
 * import { instrument } from '@bulwark/telemetry';
 * import { openTelemetry } from '@bulwark/telemetry/opentelemetry';
 * import { InMemorySpanExporter, SimpleSpanProcessor, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
 * const exporter = new InMemorySpanExporter();
 * const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
 * const api = instrument(noop, [openTelemetry({ tracer: provider.getTracer('test'), metrics: false })], { name: 'api' });
 * await api.execute(async () => 'ok');
 * const [span] = exporter.getFinishedSpans();
 * assert.equal(span?.name, 'api');
 * assert.equal(span?.attributes['bulwark.outcome'], 'success');
 * ```
 *
 * @since 0.1.0
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): TelemetrySink & { dispose(): void } {
  check.object('options', options);
  const traces = check.boolean('traces', options.traces, true);
  const recordMetrics = check.boolean('metrics', options.metrics, true);
  const withCorrelationId = check.boolean('correlationId', options.correlationId, true);
  const maxErrorTypes = check.integer('maxErrorTypes', options.maxErrorTypes, 50, { min: 1 });
  const sources = checkSources('sources', options.sources);
  const buckets: readonly number[] = options.durationBuckets ?? DEFAULT_DURATION_BUCKETS_SECONDS;
  if (!isIncreasingPositive(buckets)) {
    check.fail('durationBuckets', 'an increasing array of positive numbers (seconds)', buckets);
  }
  if (options.tracer !== undefined && typeof options.tracer?.startSpan !== 'function') {
    check.fail('tracer', 'an OpenTelemetry Tracer', options.tracer);
  }
  if (options.meter !== undefined && typeof options.meter?.createCounter !== 'function') {
    check.fail('meter', 'an OpenTelemetry Meter', options.meter);
  }
  const redact = redactorOf(options.redact);
  const tracer = options.tracer ?? trace.getTracer('@bulwark/telemetry', VERSION);
  const meter = options.meter ?? otelMetrics.getMeter('@bulwark/telemetry', VERSION);

  const calls = meter.createCounter('bulwark.calls', {
    description: 'Calls through an instrumented Bulwark policy, by outcome and error type.',
    unit: '{call}',
    valueType: ValueType.INT,
  });
  const duration = meter.createHistogram('bulwark.call.duration', {
    description: 'Duration of calls through an instrumented Bulwark policy, retries and waits included.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...buckets] },
  });
  const events = meter.createCounter('bulwark.policy.events', {
    description:
      'Events of Bulwark policies (retry, rejected, timeout, hit, miss, stale, state-change…), by policy and type.',
    unit: '{event}',
    valueType: ValueType.INT,
  });
  /** The last state of each breaker, by instrumented policy then breaker. */
  const breakerStates = new Map<string, Map<string, string>>();
  const breakerGauge = meter.createObservableGauge('bulwark.breaker.state', {
    description: 'Circuit breaker state: 1 for the current state, 0 for the others.',
    valueType: ValueType.INT,
  });
  const breakerCallback = (result: ObservableResult): void => {
    for (const [policy, breakers] of breakerStates) {
      for (const [breaker, current] of breakers) {
        const states = BREAKER_STATES.includes(current) ? BREAKER_STATES : [...BREAKER_STATES, current];
        for (const state of states) {
          result.observe(state === current ? 1 : 0, {
            'bulwark.policy': policy,
            'bulwark.breaker': breaker,
            'bulwark.breaker.state': state,
          });
        }
      }
    }
  };
  const statusGauge = meter.createObservableGauge('bulwark.health.status', {
    description:
      'Health of a named component (breaker, bulkhead, limiter): 1 for its current status, 0 for the others.',
    valueType: ValueType.INT,
  });
  const valueGauge = meter.createObservableGauge('bulwark.health.value', {
    description: "Numeric details of a named component's health (running and queued calls, failures, tokens…).",
  });
  const observeStatus = (result: ObservableResult): void => {
    for (const component of sources.map((s) => readSource(s, redact))) {
      for (const status of ['healthy', 'degraded', 'unhealthy'] as const) {
        result.observe(component.status === status ? 1 : 0, {
          'bulwark.component': component.name,
          'bulwark.component.kind': component.kind,
          'bulwark.health.status': status,
        });
      }
    }
  };
  const observeValues = (result: ObservableResult): void => {
    for (const component of sources.map((s) => readSource(s, redact))) {
      for (const [field, value] of Object.entries(component.details)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) continue;
        result.observe(value, {
          'bulwark.component': component.name,
          'bulwark.component.kind': component.kind,
          'bulwark.health.field': field,
        });
      }
    }
  };
  if (recordMetrics) {
    breakerGauge.addCallback(breakerCallback);
    if (sources.length > 0) {
      statusGauge.addCallback(observeStatus);
      valueGauge.addCallback(observeValues);
    }
  }

  const eventAttributes = (event: PolicyEvent): Attributes => {
    const attributes: Attributes = { 'bulwark.policy': redact.text(event.policy) };
    for (const [key, value] of eventFields(event)) {
      if (key === 'error') {
        const record = redact.error(value);
        attributes['error.type'] = record.type;
        attributes['exception.message'] = record.message;
        continue;
      }
      const attribute = attributeValue(value);
      if (attribute !== undefined) attributes[attributeName(key)] = attribute;
    }
    return attributes;
  };
  const attributeValue = (value: unknown): AttributeValue | undefined => {
    switch (typeof value) {
      case 'string':
        return redact.text(value).slice(0, MAX_ATTRIBUTE_LENGTH);
      case 'number':
      case 'boolean':
        return value;
      case 'object': {
        if (value === null) return undefined;
        const json = JSON.stringify(redact.value(value));
        return json === undefined ? undefined : json.slice(0, MAX_ATTRIBUTE_LENGTH);
      }
      default:
        return undefined;
    }
  };

  /** Policy decisions summed up on the call's span. */
  const decide = (call: CallSpan, event: PolicyEvent): void => {
    const { span } = call;
    switch (event.type) {
      case 'retry':
        call.retries++;
        break;
      case 'success':
      case 'give-up': {
        const attempts = (event as { attempts?: unknown }).attempts;
        if (typeof attempts === 'number') span.setAttribute('bulwark.attempts', attempts);
        break;
      }
      case 'hit':
      case 'miss':
      case 'stale':
        span.setAttribute('bulwark.cache.result', event.type);
        break;
      case 'rejected':
        span.setAttribute('bulwark.rejected_by', redact.text(event.policy));
        break;
      case 'timeout':
        span.setAttribute('bulwark.timeout', true);
        break;
      case 'state-change': {
        const to = stateChangeTo(event);
        if (to !== undefined) span.setAttribute('bulwark.breaker.state', to);
        break;
      }
    }
  };

  return {
    bind(policy) {
      const name = redact.text(policy);
      const tags = new TagSet(maxErrorTypes, (tag) => redact.text(tag));
      const spanAttributes: Attributes = Object.freeze({ 'bulwark.policy': name });
      // Attribute sets made once per outcome and error type, not per call.
      const okAttributes: Attributes = Object.freeze({ 'bulwark.policy': name, 'bulwark.outcome': 'success' });
      const failAttributes = new Map<string, Attributes>();
      const failureAttributes = (type: string): Attributes => {
        let attributes = failAttributes.get(type);
        if (attributes === undefined) {
          attributes = Object.freeze({ 'bulwark.policy': name, 'bulwark.outcome': 'failure', 'error.type': type });
          failAttributes.set(type, attributes);
        }
        return attributes;
      };
      const eventCounterAttributes = new Map<string, Attributes>();

      const binding: SinkBinding<CallSpan | undefined> = {
        end(_context: Context, durationMs: number, outcome: Outcome, call: CallSpan | undefined) {
          const type = outcome.ok ? undefined : tags.of(outcome.value);
          if (recordMetrics) {
            const attributes = type === undefined ? okAttributes : failureAttributes(type);
            calls.add(1, attributes);
            duration.record(durationMs / 1000, attributes);
          }
          if (call === undefined) return;
          const { span } = call;
          if (span.isRecording()) {
            span.setAttribute('bulwark.outcome', outcome.ok ? 'success' : 'failure');
            if (call.retries > 0) span.setAttribute('bulwark.retries', call.retries);
            if (type !== undefined) {
              const record = redact.error(outcome.value);
              span.setAttribute('error.type', type);
              const exception: Attributes = { 'exception.type': record.type, 'exception.message': record.message };
              if (typeof record['stack'] === 'string') exception['exception.stacktrace'] = record['stack'];
              span.addEvent('exception', exception);
              span.setStatus({ code: SpanStatusCode.ERROR, message: `${record.type}: ${record.message}` });
            }
          }
          span.end();
        },
        event(event: PolicyEvent, call: CallSpan | undefined) {
          if (recordMetrics) {
            const key = `${event.policy}\u0000${event.type}`;
            let attributes = eventCounterAttributes.get(key);
            if (attributes === undefined) {
              attributes = Object.freeze({
                'bulwark.policy': name,
                'bulwark.source': redact.text(event.policy),
                'bulwark.event': event.type,
              });
              eventCounterAttributes.set(key, attributes);
            }
            events.add(1, attributes);
            const to = stateChangeTo(event);
            if (to !== undefined) {
              let breakers = breakerStates.get(name);
              if (breakers === undefined) breakerStates.set(name, (breakers = new Map<string, string>()));
              breakers.set(redact.text(event.policy), to);
            }
          }
          if (call === undefined || !call.span.isRecording()) return;
          decide(call, event);
          call.span.addEvent(event.type, eventAttributes(event));
        },
        dispose() {
          breakerStates.delete(name);
        },
      };
      if (traces) {
        binding.start = (context: Context): CallSpan | undefined => {
          const span = tracer.startSpan(
            name,
            { kind: SpanKind.INTERNAL, attributes: spanAttributes },
            otelContext.active(),
          );
          // A span that records nothing (no SDK, or sampled out) needs no events, no attributes and no
          // context switch: the task's spans then hang off the caller's span directly.
          if (!span.isRecording()) {
            span.end();
            return undefined;
          }
          if (withCorrelationId) span.setAttribute('bulwark.correlation_id', redact.text(context.correlationId));
          return { span, retries: 0 };
        };
        binding.around = <A>(call: CallSpan | undefined, run: () => A): A =>
          call === undefined ? run() : otelContext.with(trace.setSpan(otelContext.active(), call.span), run);
      }
      return binding;
    },
    dispose() {
      breakerGauge.removeCallback(breakerCallback);
      statusGauge.removeCallback(observeStatus);
      valueGauge.removeCallback(observeValues);
      breakerStates.clear();
    },
  };
}
