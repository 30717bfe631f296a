// Every sink at once, fed secrets through every door telemetry reads (error messages, causes, fields and
// names, event fields, policy and source names, correlation ids, health details), then every byte
// telemetry wrote is searched for them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { definePolicy, Emitter, PASS, pipeline, type HealthSource, type Scope } from '@bulwark/core';
import { Registry } from 'prom-client';

import { healthHandler, healthReport, instrument, jsonLineLogger, jsonLogs, metrics, redactor } from '../src/index.js';
import { openTelemetry } from '../src/opentelemetry.js';
import { prometheus } from '../src/prometheus.js';
import { breaking, type TestEvent } from './fixtures.js';
import { serve } from './http.js';

const API_KEY = 'opa_live_9c1d7e3f5a2b4c6d8e0f';
const CONFIGURED = 'correct-horse-battery-staple';
const BEARER = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA';
const PASSWORD = 'p4ssw0rd-in-url';
const SECRETS = [API_KEY, CONFIGURED, BEARER, PASSWORD];

class PullReader extends MetricReader {
  protected onForceFlush = (): Promise<void> => Promise.resolve();
  protected onShutdown = (): Promise<void> => Promise.resolve();
}

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  contextManager.disable();
  context.disable();
});

describe('secrets', () => {
  it('appear in no log line, span, span event, metric, report or health document', async () => {
    const redact = redactor({ secrets: [CONFIGURED] });
    const lines: string[] = [];
    const stats = metrics({ redact });
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('t');
    const reader = new PullReader();
    const meter = new MeterProvider({ readers: [reader] }).getMeter('t');
    const registry = new Registry();

    // A rate limiter keyed by API key, as the Flask seed's per-client limits are: its events carry the key.
    const limiterEvents = new Emitter<TestEvent>();
    const limiterName = `limiter for ${API_KEY}`;
    const limiter = definePolicy(
      limiterName,
      [
        {
          gate: {
            enter(ctx: Scope) {
              if (limiterEvents.active) {
                limiterEvents.emit({ type: 'waited', policy: limiterName, context: ctx, key: API_KEY, waitedMs: 5 });
                limiterEvents.emit({
                  type: 'store-error',
                  policy: limiterName,
                  error: new Error(`redis://default:${PASSWORD}@10.0.0.1:6379 unreachable`),
                  failOpen: true,
                });
              }
            },
            exit: () => PASS,
          },
        },
      ],
      limiterEvents,
    );
    const breaker = breaking(1, 'database');
    const leaky: HealthSource = {
      name: 'oilprice',
      kind: 'client',
      health: () => ({
        status: 'degraded',
        details: { lastError: `401 for Authorization: Bearer ${BEARER}`, apiKey: API_KEY },
      }),
    };
    const sources = [breaker, leaky];
    const sinks = [
      stats,
      jsonLogs({ logger: jsonLineLogger((line) => lines.push(line)), level: 'debug', redact }),
      openTelemetry({ tracer, meter, sources, redact }),
      prometheus({ registry, sources, redact }),
    ];
    const policy = instrument(pipeline(limiter, breaker), sinks, { name: `client ${CONFIGURED}` });

    class LeakyError extends Error {
      constructor() {
        super(`GET /v1/prices/latest?api_key=${API_KEY} -> 401 (${CONFIGURED})`, {
          cause: new Error(`Authorization: Bearer ${BEARER}`),
        });
        this.name = `Leaky${CONFIGURED}`;
      }
      readonly request = {
        headers: { Authorization: `Token ${API_KEY}` },
        url: `https://u:${PASSWORD}@api.example.com`,
      };
    }
    await policy
      .execute(async () => Promise.reject(new LeakyError()), { correlationId: `req ${CONFIGURED}` })
      .catch(() => undefined);
    await policy.execute(async () => 'rejected by the open breaker').catch(() => undefined);
    breaker.reset();
    await policy.execute(async () => 'ok', { correlationId: API_KEY });

    const health = await serve(healthHandler(healthReport(sources, { redact })));
    const metricsServer = await serve((_req, res) => {
      void registry.metrics().then((text) => res.end(text));
    });
    let written: string[];
    try {
      written = [
        ...lines,
        stats.report(),
        JSON.stringify(stats.snapshot()),
        JSON.stringify(
          exporter
            .getFinishedSpans()
            .map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })),
        ),
        JSON.stringify((await reader.collect()).resourceMetrics.scopeMetrics),
        await (await fetch(`${metricsServer.url}/metrics`)).text(),
        await (await fetch(`${health.url}/health`)).text(),
      ];
    } finally {
      await health.close();
      await metricsServer.close();
    }
    // Everything was written, and written about: the output is not empty or trivially clean.
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(exporter.getFinishedSpans()).toHaveLength(3);
    const all = written.join('\n');
    expect(all).toContain('[REDACTED]');
    expect(all).toContain('state-change');
    for (const secret of SECRETS) {
      const leaks = written.filter((text) => text.includes(secret));
      expect({ secret, leaks }).toEqual({ secret, leaks: [] });
    }
  });
});
