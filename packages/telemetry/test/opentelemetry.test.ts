import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { noop, pipeline } from '@bulwark/core';
import { VirtualClock } from '@bulwark/testkit';

import { instrument } from '../src/index.js';
import { DEFAULT_DURATION_BUCKETS_SECONDS, openTelemetry } from '../src/opentelemetry.js';
import { after, breaking, caching, retrying, TimeoutError } from './fixtures.js';

/** A reader the test pulls from: no timer, no exporter. */
class PullReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  async metrics(): Promise<Map<string, MetricData>> {
    const { resourceMetrics } = await this.collect();
    return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
  }
}

function setup(): {
  exporter: InMemorySpanExporter;
  provider: BasicTracerProvider;
  reader: PullReader;
  meterProvider: MeterProvider;
} {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return { exporter, provider, reader, meterProvider };
}

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  contextManager.disable();
  context.disable();
});

describe('openTelemetry traces', () => {
  it('makes a span per call with an event per decision and attributes summing them up', async () => {
    const clock = new VirtualClock();
    const { exporter, provider } = setup();
    const sink = openTelemetry({ tracer: provider.getTracer('test'), metrics: false });
    const policy = instrument(pipeline(retrying(2, 100, clock), caching()), [sink], { name: 'oilprice', clock });
    let calls = 0;
    const flaky = async (): Promise<string> => (++calls < 3 ? Promise.reject(new TimeoutError(15_000)) : 'price');
    expect(await clock.run(policy.execute(flaky, { correlationId: 'req-1' }))).toBe('price');

    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('oilprice');
    expect(span?.attributes).toEqual({
      'bulwark.policy': 'oilprice',
      'bulwark.correlation_id': 'req-1',
      'bulwark.cache.result': 'miss',
      'bulwark.attempts': 3,
      'bulwark.outcome': 'success',
      'bulwark.retries': 2,
    });
    expect(span?.events.map((e) => e.name)).toEqual(['miss', 'retry', 'miss', 'retry', 'miss', 'success']);
    expect(span?.events[1]?.attributes).toEqual({
      'bulwark.policy': 'retry',
      'bulwark.attempt': 1,
      'bulwark.delay_ms': 100,
      'error.type': 'Timeout',
      'exception.message': 'timed out after 15000 ms',
    });
    expect(span?.status.code).toBe(0);
  });

  it('marks failed calls: error status, error.type and a redacted exception event', async () => {
    const { exporter, provider } = setup();
    const key = 'opa_test_a1b2c3d4e5f6a7b8';
    const sink = openTelemetry({ tracer: provider.getTracer('test'), metrics: false, redact: { secrets: [key] } });
    const breaker = breaking(1, 'database');
    const policy = instrument(breaker, [sink], { name: 'db' });
    await policy.execute(async () => Promise.reject(new Error(`auth failed for ${key}`))).catch(() => undefined);
    await policy.execute(async () => 1).catch(() => undefined);
    const [first, second] = exporter.getFinishedSpans();
    expect(first?.status).toEqual({ code: 2, message: 'Error: auth failed for [REDACTED]' });
    expect(first?.attributes['error.type']).toBe('Error');
    const exception = first?.events.find((e) => e.name === 'exception');
    expect(exception?.attributes?.['exception.message']).toBe('auth failed for [REDACTED]');
    expect(String(exception?.attributes?.['exception.stacktrace'])).not.toContain(key);
    expect(second?.attributes).toMatchObject({ 'bulwark.rejected_by': 'database', 'error.type': 'BrokenCircuit' });
    expect(second?.events[0]).toMatchObject({
      name: 'rejected',
      attributes: { 'bulwark.state': 'open', 'bulwark.retry_after_ms': 1000 },
    });
  });

  it('writes a correlation id that is not a string as text', async () => {
    const { exporter, provider } = setup();
    const sink = openTelemetry({ tracer: provider.getTracer('test'), metrics: false });
    const handler = instrument(noop, [sink], { name: 'api' }).wrap(async (id: unknown) => id, {
      correlationId: (id) => id as string,
    });
    await expect(handler(['a', 'b'])).resolves.toEqual(['a', 'b']);
    await expect(handler(42)).resolves.toBe(42);
    expect(exporter.getFinishedSpans().map((span) => span.attributes['bulwark.correlation_id'])).toEqual(['a,b', '42']);
  });

  it('ends the span of a call that started before the instrumented policy was disposed and ended after', async () => {
    const { exporter, provider } = setup();
    const policy = instrument(noop, [openTelemetry({ tracer: provider.getTracer('test'), metrics: false })], {
      name: 'slow',
    });
    let finish = (): void => undefined;
    const call = policy.execute(() => new Promise<string>((resolve) => (finish = () => resolve('done'))));
    policy.dispose();
    finish();
    await expect(call).resolves.toBe('done');
    expect(exporter.getFinishedSpans().map((span) => [span.name, span.attributes['bulwark.outcome']])).toEqual([
      ['slow', 'success'],
    ]);
    // A call that starts after makes no span.
    await policy.execute(async () => 1);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('runs the task inside the call span, under the caller span', async () => {
    const { exporter, provider } = setup();
    const tracer = provider.getTracer('test');
    const policy = instrument(noop, [openTelemetry({ tracer, metrics: false })], { name: 'api' });
    await tracer.startActiveSpan('http request', async (parent) => {
      await policy.execute(async () => {
        await new Promise((resolve) => setImmediate(resolve));
        tracer.startSpan('fetch').end();
      });
      parent.end();
    });
    const spans = new Map(exporter.getFinishedSpans().map((s) => [s.name, s]));
    const [request, call, fetch] = ['http request', 'api', 'fetch'].map((name) => spans.get(name));
    expect(call?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(fetch?.parentSpanContext?.spanId).toBe(call?.spanContext().spanId);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('costs a no-op span when no SDK is registered', async () => {
    const policy = instrument(noop, [openTelemetry()]);
    expect(await policy.execute(async () => 'fine')).toBe('fine');
  });
});

describe('openTelemetry metrics', () => {
  it('records calls by outcome and error type, durations in seconds, and events', async () => {
    const clock = new VirtualClock();
    const { reader, meterProvider } = setup();
    const sink = openTelemetry({ meter: meterProvider.getMeter('test'), traces: false });
    const policy = instrument(retrying(1, 10, clock), [sink], { name: 'api', clock });
    await clock.run(policy.execute(after(clock, 250, { value: 1 })));
    await clock.run(policy.execute(after(clock, 20, { error: new TimeoutError(20) }))).catch(() => undefined);

    const metrics = await reader.metrics();
    const calls = metrics.get('bulwark.calls');
    expect(calls?.descriptor.unit).toBe('{call}');
    expect(calls?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'bulwark.policy': 'api', 'bulwark.outcome': 'success' }, 1],
      [{ 'bulwark.policy': 'api', 'bulwark.outcome': 'failure', 'error.type': 'Timeout' }, 1],
    ]);
    const duration = metrics.get('bulwark.call.duration');
    expect(duration?.descriptor.unit).toBe('s');
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const points = duration?.dataPoints as DataPoint<Histogram>[];
    expect(points.map((p) => [p.attributes['bulwark.outcome'], p.value.sum])).toEqual([
      ['success', 0.25],
      ['failure', 0.05],
    ]);
    expect(points[0]?.value.buckets.boundaries).toEqual(DEFAULT_DURATION_BUCKETS_SECONDS);
    const events = metrics.get('bulwark.policy.events');
    expect(events?.dataPoints.map((p) => [p.attributes['bulwark.event'], p.value])).toEqual([
      ['success', 1],
      ['retry', 1],
      ['give-up', 1],
    ]);
  });

  it('observes breaker states and the health of named sources as gauges', async () => {
    const { reader, meterProvider } = setup();
    const database = breaking(1, 'database');
    const llm = breaking(1, 'llm');
    const sink = openTelemetry({ meter: meterProvider.getMeter('test'), traces: false, sources: [database, llm] });
    const policy = instrument(database, [sink], { name: 'db' });
    await policy.execute(async () => Promise.reject(new Error('down'))).catch(() => undefined);

    const metrics = await reader.metrics();
    const state = metrics
      .get('bulwark.breaker.state')
      ?.dataPoints.map((p) => [p.attributes['bulwark.breaker.state'], p.value]);
    expect(state).toEqual([
      ['closed', 0],
      ['half-open', 0],
      ['open', 1],
      ['isolated', 0],
    ]);
    const status = metrics
      .get('bulwark.health.status')
      ?.dataPoints.filter((p) => p.value === 1)
      .map((p) => [p.attributes['bulwark.component'], p.attributes['bulwark.health.status']]);
    expect(status).toEqual([
      ['database', 'unhealthy'],
      ['llm', 'healthy'],
    ]);
    const values = metrics
      .get('bulwark.health.value')
      ?.dataPoints.map((p) => [p.attributes['bulwark.component'], p.attributes['bulwark.health.field'], p.value]);
    expect(values).toEqual([
      ['database', 'failures', 1],
      ['llm', 'failures', 0],
    ]);
    // After dispose the sink observes nothing more: the sources are no longer read.
    let reads = 0;
    const health = database.health;
    database.health = () => (reads++, health());
    await reader.metrics();
    expect(reads).toBe(2);
    sink.dispose();
    await reader.metrics();
    expect(reads).toBe(2);
  });

  it('rejects bad options, naming them', () => {
    expect(() => openTelemetry({ tracer: {} as never })).toThrow(/`tracer`/);
    expect(() => openTelemetry({ meter: {} as never })).toThrow(/`meter`/);
    expect(() => openTelemetry({ durationBuckets: [1, 0.5] })).toThrow(/`durationBuckets`/);
    expect(() => openTelemetry({ traces: 'yes' as never })).toThrow(/`traces`/);
  });
});
