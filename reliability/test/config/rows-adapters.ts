// Rows of the configuration fuzz for the adapters: the oil-price client and its default pipeline, and
// the PostHog driver. Their calls run over real HTTP against the test kit's fake servers.
import { isBulwarkError, noop } from '@bulwark/core';
import {
  defaultPipeline,
  isOilPriceApiError,
  isOilPriceNetworkError,
  isOilPriceResponseError,
  OilPriceClient,
  type DefaultPipelineOptions,
  type OilPriceClientOptions,
} from '@bulwark/oilprice';
import {
  isPostHogClosedError,
  isPostHogDecodeError,
  isPostHogHttpError,
  isPostHogNetworkError,
  posthog,
  type PostHogOptions,
} from '@bulwark/posthog';

import { everyOption, Misbehaved, type ConfigRow, type Made } from './table.js';

/** The oil-price client's documented failures: its own typed errors, or a policy's. */
export const isOilPriceFailure = (error: unknown): boolean =>
  isOilPriceApiError(error) || isOilPriceNetworkError(error) || isOilPriceResponseError(error) || isBulwarkError(error);

/** The PostHog driver's documented failures: its own typed errors, or a policy's. */
export const isPostHogFailure = (error: unknown): boolean =>
  isPostHogHttpError(error) ||
  isPostHogNetworkError(error) ||
  isPostHogDecodeError(error) ||
  isPostHogClosedError(error) ||
  isBulwarkError(error);

function useClient(client: OilPriceClient): Made {
  return {
    async run() {
      const price = await client.latest('WTI_USD');
      if (typeof price.price !== 'number') throw new Misbehaved('a price', price.price);
    },
    close: () => client.close(),
  };
}

const clientRow: ConfigRow = {
  package: '@bulwark/oilprice',
  call: 'new OilPriceClient(options)',
  options: everyOption<OilPriceClientOptions>({
    apiKey: true,
    baseUrl: true,
    policy: true,
    connections: true,
    keepAlive: true,
    dispatcher: true,
    maxResponseBytes: true,
    userAgent: true,
    clock: true,
  }),
  optionsName: 'options',
  needs: 'oilprice',
  // The client's own pipeline when none is given reads REDIS_URL; the fuzz keeps to memory.
  valid: (env) => ({ apiKey: env.oilprice.apiKey, baseUrl: env.oilprice.url, policy: noop }),
  make: (options) => useClient(new OilPriceClient(options as unknown as OilPriceClientOptions)),
  expected: isOilPriceFailure,
};

const pipelineRow: ConfigRow = {
  package: '@bulwark/oilprice',
  call: 'defaultPipeline(options)',
  options: [
    ...everyOption<DefaultPipelineOptions>({
      clock: true,
      random: true,
      redisUrl: true,
      namespace: true,
      telemetry: true,
      cache: true,
      validate: true,
      retry: true,
      breaker: true,
      bulkhead: true,
      timeout: true,
    }),
    'telemetry.sinks',
    'telemetry.name',
  ],
  optionsName: 'options',
  needs: 'oilprice',
  valid: () => ({ redisUrl: '' }),
  make(options, env) {
    const policy = defaultPipeline(options);
    const made = useClient(new OilPriceClient({ apiKey: env.oilprice.apiKey, baseUrl: env.oilprice.url, policy }));
    return {
      run: made.run,
      async close() {
        await made.close?.();
        await policy.close();
      },
    };
  },
  expected: isOilPriceFailure,
};

const posthogRow: ConfigRow = {
  package: '@bulwark/posthog',
  call: 'posthog(options)',
  options: [
    ...everyOption<PostHogOptions>({
      projectApiKey: true,
      personalApiKey: true,
      host: true,
      apiHost: true,
      projectId: true,
      name: true,
      clock: true,
      fetch: true,
      flushAt: true,
      flushIntervalMs: true,
      maxBatchSize: true,
      maxBatchBytes: true,
      maxQueueSize: true,
      overflow: true,
      compression: true,
      historicalMigration: true,
      disableGeoip: true,
      pageSize: true,
      ingestionPolicy: true,
      apiPolicy: true,
      rateLimits: true,
      rateLimitStore: true,
      rateLimitMarginMs: true,
      maxRateLimitWaitMs: true,
      queryConcurrency: true,
      breaker: true,
      telemetry: true,
      requestTimeoutMs: true,
      random: true,
      maxResponseBytes: true,
    }),
    'breaker.failures',
    'breaker.halfOpenAfterMs',
    'rateLimits.crud',
  ],
  optionsName: 'options',
  needs: 'posthog',
  valid: (env) => ({
    projectApiKey: 'phc_fuzz_project_key',
    personalApiKey: env.posthog.personalApiKey,
    host: env.posthog.ingestionUrl,
    apiHost: env.posthog.apiUrl,
    // The default retry waits seconds of real time between attempts at an unreachable host; the fuzz
    // is about construction, so the valid base has none (the `apiPolicy` row still fuzzes it).
    apiPolicy: noop,
  }),
  make(options) {
    const driver = posthog(options);
    return {
      async run() {
        driver.capture({ event: 'fuzzed', distinctId: 'user-1' });
        const flushed = await driver.flush();
        if (flushed.sent + flushed.dropped + flushed.queued !== 1)
          throw new Misbehaved('one event accounted for', flushed);
        const flags = await driver.listObjects('feature_flags');
        if (!Array.isArray(flags)) throw new Misbehaved('a list', flags);
        driver.health();
      },
      close: async () => void (await driver.shutdown(0)),
    };
  },
  expected: isPostHogFailure,
};

export const adapterRows: readonly ConfigRow[] = [clientRow, pipelineRow, posthogRow];
