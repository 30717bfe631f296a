/**
 * The cost of telemetry: a pipeline with `instrument(…)` attached relative to the same pipeline without.
 *
 * The policy packages had not landed on main when this suite was written, so the pipeline is three
 * core gates shaped like them: a retry (one attempt, emitting `success` as @bulwark/retry does on
 * every call), a breaker check and a bulkhead counter. With telemetry attached the retry's event is
 * built and delivered on every call: that is part of what is measured.
 */

import { definePolicy, Emitter, PASS, pipeline, type PolicyEvent, type Scope } from '@bulwark/core';
import { instrument, jsonLineLogger, jsonLogs, metrics } from '@bulwark/telemetry';
import { openTelemetry } from '@bulwark/telemetry/opentelemetry';
import { prometheus } from '@bulwark/telemetry/prometheus';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';

import { compare, type Suite } from '../harness.js';

const bare = async (): Promise<number> => 1;

type RetryEvent = PolicyEvent & { readonly type: 'success'; readonly attempts: number };

/** Three gates shaped like retry, breaker and bulkhead on their success path. */
function gates(): ReturnType<typeof pipeline> {
  const retryEvents = new Emitter<RetryEvent>();
  const retry = definePolicy(
    'retry',
    [
      {
        gate: {
          enter: () => undefined,
          exit(_token, outcome, inner: Scope) {
            if (outcome.ok && retryEvents.active) {
              retryEvents.emit({ type: 'success', policy: 'retry', context: inner, attempts: inner.attempt });
            }
            return PASS;
          },
        },
      },
    ],
    retryEvents,
  );
  let open = false;
  let failures = 0;
  const breaker = definePolicy('breaker', [
    {
      gate: {
        enter: () => {
          if (open) throw new Error('open');
        },
        exit: (_token, outcome) => {
          failures = outcome.ok ? 0 : failures + 1;
          open = failures >= 5;
          return PASS;
        },
      },
    },
  ]);
  let running = 0;
  const bulkhead = definePolicy('bulkhead', [
    {
      gate: {
        enter: () => {
          if (running >= 100) throw new Error('full');
          running++;
        },
        exit: () => {
          running--;
          return PASS;
        },
      },
    },
  ]);
  return pipeline(retry, breaker, bulkhead);
}

export const telemetrySuite: Suite = {
  name: 'telemetry',
  run: async (ctx) => {
    const plain = gates();
    const stats = metrics();
    const withMetrics = instrument(gates(), [stats]);
    const withPrometheus = instrument(gates(), [prometheus({ registry: new Registry() })]);
    const withOtelApi = instrument(gates(), [openTelemetry()]);
    const sdk = new BasicTracerProvider();
    const withOtelSdk = instrument(gates(), [openTelemetry({ tracer: sdk.getTracer('bench'), metrics: false })]);
    const withLogs = instrument(gates(), [jsonLogs({ logger: jsonLineLogger(() => undefined) })]);
    const everything = instrument(gates(), [
      metrics(),
      prometheus({ registry: new Registry() }),
      openTelemetry(),
      jsonLogs({ logger: jsonLineLogger(() => undefined) }),
    ]);
    try {
      return await compare(
        'telemetry',
        { name: 'pipeline(retry, breaker, bulkhead gates).execute', run: () => plain.execute(bare) },
        [
          { name: '+ instrument([metrics()])', run: () => withMetrics.execute(bare) },
          { name: '+ instrument([prometheus()])', run: () => withPrometheus.execute(bare) },
          { name: '+ instrument([openTelemetry()]), API only (no SDK)', run: () => withOtelApi.execute(bare) },
          { name: '+ instrument([openTelemetry()]), SDK tracer, spans dropped', run: () => withOtelSdk.execute(bare) },
          { name: '+ instrument([jsonLogs()]), successes below level', run: () => withLogs.execute(bare) },
          { name: '+ instrument([metrics, prometheus, openTelemetry, jsonLogs])', run: () => everything.execute(bare) },
        ],
        ctx,
      );
    } finally {
      stats.dispose();
    }
  },
};
