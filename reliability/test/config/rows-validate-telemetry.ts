// Rows of the configuration fuzz for validation (the policy, the decoder and every rule) and for
// telemetry (instrument, every sink, the redactor, health reports).
import { isBulwarkError, pipeline, type Policy } from '@bulwark/core';
import { breaker } from '@bulwark/breaker';
import {
  healthHandler,
  healthReport,
  instrument,
  jsonLineLogger,
  jsonLogs,
  metrics,
  redactor,
  type HealthReportOptions,
  type HealthHandlerOptions,
  type InstrumentOptions,
  type JsonLogsOptions,
  type MetricsOptions,
  type RedactOptions,
  type TelemetrySink,
} from '@bulwark/telemetry';
import { openTelemetry, type OpenTelemetryOptions } from '@bulwark/telemetry/opentelemetry';
import { prometheus, type PrometheusOptions } from '@bulwark/telemetry/prometheus';
import {
  decode,
  each,
  freshness,
  maxChange,
  memoryStore,
  predicate,
  range,
  validate,
  type DecodeOptions,
  type FreshnessOptions,
  type MaxChangeOptions,
  type MemoryStoreOptions,
  type PredicateOptions,
  type RangeOptions,
  type Rule,
  type ValidateOptions,
} from '@bulwark/validate';
import * as t from 'io-ts';
import { Registry } from 'prom-client';

import {
  clockOf,
  everyOption,
  expectTaskFailure,
  expectValue,
  failing,
  Misbehaved,
  ok,
  type ConfigRow,
  type Env,
  type Made,
} from './table.js';

/** Runs values through `validate(t.number, { rules: [rule] })`: each resolves or fails typed. */
function useRule(rule: Rule<number>, env: Env): Made {
  const policy = validate(t.number, { rules: [rule], clock: clockOf(env) });
  return {
    async run() {
      for (const value of [5, 5.5, 50]) {
        const got = await env.clock.run(policy.execute(async () => value)).catch((error: unknown) => {
          if (isBulwarkError(error)) return value;
          throw error;
        });
        expectValue('a value through the rule', got, value);
      }
    },
  };
}

const validateRows: ConfigRow[] = [
  {
    package: '@bulwark/validate',
    call: 'validate(codec, options)',
    options: [
      'codec',
      ...everyOption<ValidateOptions<number>>({
        name: true,
        rules: true,
        clock: true,
        maxDepth: true,
        maxNodes: true,
        unsafeSkipInputGuard: true,
      }),
    ],
    positional: ['codec'],
    optionsName: 'options',
    valid: (env) => ({ codec: t.number, clock: clockOf(env) }),
    make(options, env, { codec }) {
      const policy = validate(codec as t.Decoder<unknown, number>, options as ValidateOptions<number>);
      return {
        async run() {
          expectValue('a valid value', await env.clock.run(policy.execute(async () => 7)), 7);
          await expectTaskFailure(env.clock.run(policy.execute(failing)));
        },
      };
    },
    expected: isBulwarkError,
  },
  {
    package: '@bulwark/validate',
    call: 'decode(codec, options)',
    options: ['codec', ...everyOption<DecodeOptions>({ maxDepth: true, maxNodes: true, unsafeSkipInputGuard: true })],
    positional: ['codec'],
    optionsName: 'options',
    valid: () => ({ codec: t.number }),
    make(options, _, { codec }) {
      const decoder = decode(codec as t.Decoder<unknown, number>, options as DecodeOptions);
      return {
        async run() {
          const right = decoder(7);
          if (right._tag !== 'Right') throw new Misbehaved('7 should decode', right);
          expectValue('a string decoded as a number', decoder('7')._tag, 'Left');
        },
      };
    },
  },
  {
    package: '@bulwark/validate',
    call: 'range(options)',
    options: everyOption<RangeOptions<number>>({
      name: true,
      value: true,
      key: true,
      perKey: true,
      min: true,
      max: true,
    }),
    optionsName: 'options',
    valid: () => ({ value: (n: number) => n, min: 0, max: 10 }),
    make: (options, env) => useRule(range(options as unknown as RangeOptions<number>), env),
    expected: isBulwarkError,
  },
  {
    package: '@bulwark/validate',
    call: 'maxChange(options)',
    options: everyOption<MaxChangeOptions<number>>({
      name: true,
      value: true,
      key: true,
      perKey: true,
      store: true,
      rememberMs: true,
      storeTimeoutMs: true,
      onStoreError: true,
      maxRatio: true,
      maxDelta: true,
    }),
    optionsName: 'options',
    valid: () => ({ value: (n: number) => n, maxRatio: 0.5 }),
    make: (options, env) => useRule(maxChange(options as unknown as MaxChangeOptions<number>), env),
    expected: isBulwarkError,
  },
  {
    package: '@bulwark/validate',
    call: 'freshness(options)',
    options: everyOption<FreshnessOptions<number>>({
      name: true,
      at: true,
      maxAgeMs: true,
      maxFutureMs: true,
      key: true,
    }),
    optionsName: 'options',
    valid: (env) => ({ at: () => env.clock.now(), maxAgeMs: 1000 }),
    make: (options, env) => useRule(freshness(options as unknown as FreshnessOptions<number>), env),
    expected: isBulwarkError,
  },
  {
    package: '@bulwark/validate',
    call: 'predicate(options)',
    options: everyOption<PredicateOptions<number>>({
      name: true,
      test: true,
      value: true,
      key: true,
      bound: true,
      reason: true,
    }),
    optionsName: 'options',
    valid: () => ({ name: 'positive', test: (n: number) => n > 0 }),
    make: (options, env) => useRule(predicate(options as unknown as PredicateOptions<number>), env),
    expected: isBulwarkError,
  },
  {
    package: '@bulwark/validate',
    call: 'each(items, rule, options)',
    options: ['items', 'rule', 'name'],
    positional: ['items', 'rule'],
    optionsName: 'options',
    valid: () => ({ items: (n: number) => [n, n], rule: range({ value: (n: number) => n, min: 0 }) }),
    make: (options, env, { items, rule }) =>
      useRule(each(items as (n: number) => number[], rule as Rule<number>, options as { name?: string }), env),
    expected: isBulwarkError,
  },
  {
    package: '@bulwark/validate',
    call: 'memoryStore(options)',
    options: everyOption<MemoryStoreOptions>({ maxEntries: true, clock: true }),
    optionsName: 'options',
    valid: (env) => ({ clock: clockOf(env) }),
    make: (options, env) =>
      useRule(maxChange({ value: (n: number) => n, maxRatio: 0.5, store: memoryStore(options) }), env),
    expected: isBulwarkError,
  },
];

/** A policy with events (a breaker) under telemetry: a success and the task's own failure. */
function useSinks(sinks: readonly TelemetrySink[], env: Env, after?: () => unknown): Made {
  const inner = breaker({ name: 'fuzzed', clock: clockOf(env) });
  const policy = instrument(inner, sinks, { name: 'fuzzed', clock: clockOf(env) });
  return {
    async run() {
      expectValue('a call under telemetry', await policy.execute(ok), 'ok');
      await expectTaskFailure(policy.execute(failing));
      after?.();
    },
    close: async () => policy.dispose(),
  };
}

const telemetryRows: ConfigRow[] = [
  {
    package: '@bulwark/telemetry',
    call: 'instrument(policy, sinks, options)',
    options: ['policy', 'sinks', ...everyOption<InstrumentOptions>({ name: true, clock: true })],
    positional: ['policy', 'sinks'],
    optionsName: 'options',
    valid: () => ({ policy: pipeline(breaker({ name: 'inner' })), sinks: [metrics()] }),
    make(options, _, { policy, sinks }) {
      const instrumented = instrument(policy as Policy, sinks as TelemetrySink[], options as InstrumentOptions);
      return {
        async run() {
          expectValue('a call under telemetry', await instrumented.execute(ok), 'ok');
          await expectTaskFailure(instrumented.execute(failing));
        },
        close: async () => instrumented.dispose(),
      };
    },
  },
  {
    package: '@bulwark/telemetry',
    call: 'metrics(options)',
    options: everyOption<MetricsOptions>({
      sources: true,
      significantDigits: true,
      maxErrorTypes: true,
      webAssembly: true,
      clock: true,
      redact: true,
    }),
    optionsName: 'options',
    valid: () => ({}),
    make(options, env) {
      const sink = metrics(options);
      const made = useSinks([sink], env, () => {
        expectValue('calls counted', sink.snapshot().policies[0]?.calls, 2);
        sink.report();
      });
      return { run: made.run, close: async () => (await made.close?.(), sink.dispose()) };
    },
  },
  {
    package: '@bulwark/telemetry',
    call: 'jsonLogs(options)',
    options: [
      ...everyOption<JsonLogsOptions>({
        logger: true,
        level: true,
        levels: true,
        callLevels: true,
        fields: true,
        redact: true,
      }),
      'levels.state-change',
      'callLevels.success',
      'callLevels.failure',
    ],
    optionsName: 'options',
    valid: () => ({ logger: jsonLineLogger(() => undefined) }),
    make: (options, env) => useSinks([jsonLogs(options)], env),
  },
  {
    package: '@bulwark/telemetry',
    call: 'jsonLineLogger(write, now)',
    options: ['write', 'now'],
    positional: ['write', 'now'],
    optionsName: false,
    valid: () => ({ write: () => undefined }),
    make: (_, env, { write, now }) =>
      useSinks([jsonLogs({ logger: jsonLineLogger(write as never, now as never), level: 'debug' })], env),
  },
  {
    package: '@bulwark/telemetry',
    call: 'openTelemetry(options)',
    options: everyOption<OpenTelemetryOptions>({
      tracer: true,
      meter: true,
      traces: true,
      metrics: true,
      correlationId: true,
      sources: true,
      durationBuckets: true,
      maxErrorTypes: true,
      redact: true,
    }),
    optionsName: 'options',
    valid: () => ({}),
    make(options, env) {
      const sink = openTelemetry(options);
      const made = useSinks([sink], env);
      return { run: made.run, close: async () => (await made.close?.(), sink.dispose()) };
    },
  },
  {
    package: '@bulwark/telemetry',
    call: 'prometheus(options)',
    options: everyOption<PrometheusOptions>({
      registry: true,
      prefix: true,
      buckets: true,
      sources: true,
      maxErrorTypes: true,
      redact: true,
    }),
    optionsName: 'options',
    valid: () => ({ registry: new Registry() }),
    make(options, env) {
      const sink = prometheus(options);
      const made = useSinks([sink], env);
      return {
        async run() {
          await made.run();
          const text = await sink.registry.metrics();
          if (!text.includes('fuzzed')) throw new Misbehaved('the scrape should show the policy', text);
        },
        close: async () => (await made.close?.(), sink.dispose()),
      };
    },
  },
  {
    package: '@bulwark/telemetry',
    call: 'redactor(options)',
    options: everyOption<RedactOptions>({
      secrets: true,
      keys: true,
      patterns: true,
      replacement: true,
      errorStacks: true,
    }),
    optionsName: 'options',
    valid: () => ({ secrets: ['opa_SECRET_fuzz'] }),
    make(options, env) {
      const redact = redactor(options);
      return {
        async run() {
          redact.text('key opa_SECRET_fuzz');
          redact.value({ apiKey: 'opa_SECRET_fuzz', nested: [{ authorization: 'Token x' }] });
          redact.error(new Error('failed with opa_SECRET_fuzz', { cause: new Error('inner') }));
          await useSinks([metrics({ redact })], env).run();
        },
      };
    },
  },
  {
    package: '@bulwark/telemetry',
    call: 'healthReport(sources, options)',
    options: ['sources', ...everyOption<HealthReportOptions>({ clock: true, redact: true })],
    positional: ['sources'],
    optionsName: 'options',
    valid: (env) => ({ sources: [breaker({ name: 'db', clock: clockOf(env) })] }),
    make(options, _, { sources }) {
      const report = healthReport(sources as never, options);
      return {
        async run() {
          report.check();
        },
      };
    },
  },
  {
    package: '@bulwark/telemetry',
    call: 'healthHandler(report, options)',
    options: [
      'report',
      ...everyOption<HealthHandlerOptions>({ statusCodes: true }),
      'statusCodes.healthy',
      'statusCodes.unhealthy',
    ],
    positional: ['report'],
    optionsName: 'options',
    valid: () => ({ report: healthReport([]) }),
    make(options, _, { report }) {
      const handler = healthHandler(report as never, options);
      return {
        async run() {
          let status = 0;
          const response = { writeHead: (code: number) => void (status = code), end: () => undefined };
          handler({ method: 'GET' } as never, response as never);
          if (!(status >= 100 && status <= 599)) throw new Misbehaved('an HTTP status', status);
        },
      };
    },
  },
];

export const validateTelemetryRows: readonly ConfigRow[] = [...validateRows, ...telemetryRows];
