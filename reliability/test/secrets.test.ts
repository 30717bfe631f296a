// Secrets across a faulty run of both adapters: the oil-price client under its default pipeline and
// the PostHog driver under its default policies, against fakes that fail in every way they can and
// echo the keys back in what they send. Telemetry writes JSON logs, OpenTelemetry spans and metrics
// and Prometheus metrics; every event is recorded, every error kept, the clients inspected. Then
// every byte of all that is searched for the keys (and for the start of one, as a cut text would
// leave it), and none is found.
//
// The keys have no well-known prefix (`opa_live_`, `phx_`), and telemetry is given no secrets: its
// shape rules cannot hide them, so what is clean is clean because the adapters never let a key out.
import { inspect } from 'node:util';

import { afterEach, describe, expect, it } from '@jest/globals';
import { type PolicyEvent } from '@bulwark/core';
import { defaultPipeline, OilPriceClient } from '@bulwark/oilprice';
import { posthog, type PostHog } from '@bulwark/posthog';
import { jsonLineLogger, jsonLogs, metrics, type TelemetrySink } from '@bulwark/telemetry';
import { openTelemetry } from '@bulwark/telemetry/opentelemetry';
import { prometheus } from '@bulwark/telemetry/prometheus';
import { runWithIo, untilIo, VirtualClock } from '@bulwark/testkit';
import { seededRandom, startFakeOilPrice, type Fault as OilFault } from '@bulwark/testkit/fake-oilprice';
import { startFakePostHog, type Fault as PostHogFault } from '@bulwark/testkit/fake-posthog';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';

const OIL_KEY = 'k7Q2mZ9xW4pL8vN3rT6yB1cD5fG0hJ';
const PROJECT_KEY = 'projKey9Hs2Lq7Wn4Zx8Cv1Bm6Nk3Rt';
const PERSONAL_KEY = 'personalKey4Ty8Ui2Op6As0Df3Gh7J';
const KEYS = [OIL_KEY, PROJECT_KEY, PERSONAL_KEY];

class PullReader extends MetricReader {
  protected onForceFlush = (): Promise<void> => Promise.resolve();
  protected onShutdown = (): Promise<void> => Promise.resolve();
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()?.close();
});

/** One telemetry setup shared by both adapters, as an application would have it, and what it wrote. */
function telemetry(): { sinks: TelemetrySink[]; written(): Promise<string[]> } {
  const lines: string[] = [];
  const stats = metrics();
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('t');
  const reader = new PullReader();
  const meter = new MeterProvider({ readers: [reader] }).getMeter('t');
  const registry = new Registry();
  return {
    sinks: [
      stats,
      jsonLogs({ logger: jsonLineLogger((line) => lines.push(line)), level: 'debug' }),
      openTelemetry({ tracer, meter }),
      prometheus({ registry }),
    ],
    async written() {
      const spans = exporter.getFinishedSpans().map((span) => ({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        status: span.status,
      }));
      return [
        ...lines,
        stats.report(),
        JSON.stringify(stats.snapshot()),
        JSON.stringify(spans),
        JSON.stringify((await reader.collect()).resourceMetrics.scopeMetrics),
        await registry.metrics(),
      ];
    },
  };
}

/** Every text of a value a person or a tool could see: its string form, JSON and a deep inspection. */
function texts(value: unknown): string[] {
  const out = [String(value), inspect(value, { depth: 8, showHidden: true, getters: true })];
  try {
    out.push(JSON.stringify(value) ?? '');
  } catch {
    // Cycles (a context's signal): the inspection above covers it.
  }
  if (value instanceof Error) out.push(value.message, value.stack ?? '');
  return out;
}

/** What a cut text could keep of a key: its first 10 characters. */
const startsOf = (keys: readonly string[]): string[] => keys.map((key) => key.slice(0, 10));

describe('secrets across a faulty run of both adapters', () => {
  it('no key, nor the start of one, in any log line, event, span, metric, error or inspected client', async () => {
    const observed = telemetry();
    const seen: unknown[] = [];
    const errors: unknown[] = [];

    // The oil-price client, its default pipeline instrumented, on a virtual clock shared with its fake.
    const oilClock = new VirtualClock(Date.UTC(2026, 0, 15, 12));
    const oilFake = await startFakeOilPrice({ clock: oilClock, apiKeys: [OIL_KEY] });
    open.push(oilFake);
    const pipeline = defaultPipeline({
      clock: oilClock,
      random: seededRandom(3),
      redisUrl: '',
      telemetry: { sinks: observed.sinks },
    });
    const oil = new OilPriceClient({
      apiKey: OIL_KEY,
      baseUrl: oilFake.url,
      policy: pipeline,
      clock: oilClock,
      maxResponseBytes: 64 * 1024,
    });
    open.push(pipeline, oil);
    pipeline.onEvent((event: PolicyEvent) => seen.push(event));
    oil.onEvent((event) => seen.push(event));
    const echoed = `${'x'.repeat(290)} ${OIL_KEY} rejected`;
    const oilFaults: OilFault[] = [
      { kind: 'server-error', status: 500 },
      { kind: 'bad-gateway-html' },
      { kind: 'connection-reset', phase: 'mid-body' },
      { kind: 'malformed-json' },
      { kind: 'wrong-types' },
      { kind: 'implausible-price', factor: 10 },
      { kind: 'rate-limit', retryAfterS: 1 },
      { kind: 'quota-exhausted' },
      { kind: 'hang' },
      { kind: 'slow-body', intervalMs: 1000 },
      { kind: 'respond', status: 401, body: JSON.stringify({ error: { message: `invalid key ${OIL_KEY}` } }) },
      { kind: 'respond', status: 502, body: echoed, headers: { 'Content-Type': 'text/html' } },
      {
        kind: 'respond',
        status: 200,
        body: `{"status":"success","data":{"code":"WTI_USD","price":"${'p'.repeat(30)} ${OIL_KEY}"}}`,
      },
      {
        kind: 'respond',
        status: 200,
        body: `{"status":"success","data":{"code":"WTI_USD","price":1,"__proto__":{"key":"${OIL_KEY}"}}}`,
      },
      { kind: 'respond', status: 200, body: `{"data":"${'z'.repeat(100_000)}"}` },
    ];
    const codes = ['WTI_USD', 'BRENT_CRUDE_USD', 'DIESEL_USD', 'NATURAL_GAS_USD', 'COAL_USD'];
    const drive = <A>(call: Promise<A>): Promise<A> =>
      runWithIo(call, oilClock, () => oil.inFlight === oilFake.sleeping);
    for (const [i, fault] of oilFaults.entries()) {
      // Three times: past the retry, so that the fault's own error reaches the caller.
      oilFake.inject(fault, fault, fault);
      await drive(oil.latest(codes[i % codes.length] as string, { correlationId: `call-${i}` })).then(
        (price) => seen.push(price),
        (error: unknown) => errors.push(error),
      );
      // Past the cache's freshness, so the next call of a code asks the API again.
      await drive(oilClock.sleep(6 * 60_000));
    }
    seen.push(oil, pipeline, pipeline.metrics?.report());

    // The PostHog driver with its default policies and the same telemetry, on its own virtual clock.
    const phClock = new VirtualClock(Date.UTC(2026, 0, 15, 12));
    const phFake = await startFakePostHog({ clock: phClock, personalApiKeys: [PERSONAL_KEY] });
    open.push(phFake);
    const ph: PostHog = posthog({
      projectApiKey: PROJECT_KEY,
      personalApiKey: PERSONAL_KEY,
      host: phFake.ingestionUrl,
      apiHost: phFake.apiUrl,
      clock: phClock,
      random: seededRandom(5),
      flushAt: 1000,
      telemetry: observed.sinks,
    });
    open.push({ close: async () => void (await ph.shutdown(0)) });
    ph.onEvent((event) => seen.push(event));
    const phDrive = <A>(call: Promise<A>): Promise<A> =>
      runWithIo(call, phClock, () => ph.stats.activeRequests === phFake.sleeping);
    const apiFaults: PostHogFault[] = [
      { kind: 'status', status: 500 },
      { kind: 'reset' },
      { kind: 'status', status: 401, body: `Invalid personal API key ${PERSONAL_KEY}` },
      { kind: 'status', status: 403, body: `${'y'.repeat(290)} ${PERSONAL_KEY} may not read this` },
      { kind: 'status', status: 429, retryAfterS: 2 },
      { kind: 'slow-body', intervalMs: 1000 },
      { kind: 'status', status: 200, body: `{"results":[{"id":"${'i'.repeat(25)} ${PERSONAL_KEY}"}],"next":null}` },
      {
        kind: 'status',
        status: 200,
        body: `{"results":[{"id":1,"__proto__":{"token":"${PERSONAL_KEY}"}}],"next":null}`,
      },
    ];
    const calls = [
      () => ph.listObjects('cohorts'),
      () => ph.query('select event from events limit 1'),
      () => ph.getFields('events'),
    ];
    for (const [i, fault] of apiFaults.entries()) {
      phFake.faults.next('api', fault, { times: 3 });
      await phDrive((calls[i % calls.length] as () => Promise<unknown>)()).then(
        (value) => seen.push(value),
        (error: unknown) => errors.push(error),
      );
      // What a call that was not retried left unused; and past the breaker's 30 s, should it be open.
      phFake.faults.clear();
      await phDrive(phClock.sleep(31_000));
    }
    // A caller's abort, in the middle of a slow answer.
    phFake.faults.next('api', { kind: 'delay', ms: 60_000 });
    const controller = new AbortController();
    const aborted = ph.listObjects('insights', { signal: controller.signal }).catch((error: unknown) => error);
    await untilIo(() => phFake.sleeping === 1);
    controller.abort(new Error('the caller gave up'));
    errors.push(await aborted);
    // The fake lets go of the held answer once the client has gone.
    await untilIo(() => phFake.sleeping === 0);

    const ingestionFaults: PostHogFault[] = [
      { kind: 'status', status: 503 },
      { kind: 'reset' },
      { kind: 'status', status: 400, body: `invalid api_key ${PROJECT_KEY}` },
      { kind: 'status', status: 401, body: `${'w'.repeat(295)} ${PROJECT_KEY}` },
      { kind: 'slow-body', intervalMs: 1000 },
    ];
    for (const [i, fault] of ingestionFaults.entries()) {
      phFake.faults.next('ingestion', fault);
      ph.capture({ event: `event ${i}`, distinctId: `user-${i}`, properties: { step: i } });
      seen.push(await phDrive(ph.flush()));
    }
    seen.push(ph, ph.stats, ph.health(), await phDrive(ph.shutdown(1000)));

    // The run was faulty, and was written about: the search below is not over an empty or clean record.
    const written = await observed.written();
    expect(errors.length).toBeGreaterThanOrEqual(15);
    const tags = new Set(errors.map((error) => (error as { _tag?: string })._tag ?? String(error)));
    for (const tag of ['OilPriceApi', 'OilPriceResponse', 'Timeout', 'PostHogHttp', 'PostHogDecode']) {
      expect(tags).toContain(tag);
    }
    expect(written.join('\n')).toMatch(/error|fail/i);
    expect(seen.length).toBeGreaterThan(50);

    const everything = [...written, ...seen.flatMap(texts), ...errors.flatMap(texts)].join('\n');
    for (const key of KEYS) expect(everything).not.toContain(key);
    for (const start of startsOf(KEYS)) expect(everything).not.toContain(start);
  }, 60_000);
});
