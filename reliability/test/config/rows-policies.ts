// Rows of the configuration fuzz for the policy packages: breaker, bulkhead, rate limit, cache.
import {
  breaker,
  breakerRegistry,
  consecutiveFailures,
  countWindow,
  isBreakerRejection,
  timeWindow,
  type BreakerOptions,
  type CountWindowOptions,
  type RegistryOptions,
  type TimeWindowOptions,
} from '@bulwark/breaker';
import { redisBreakerStore, type RedisBreakerStoreOptions } from '@bulwark/breaker/redis';
import { bulkhead, type BulkheadOptions } from '@bulwark/bulkhead';
import { cache, type CacheOptions, type L1Options } from '@bulwark/cache';
import {
  isRateLimitedError,
  memoryStore,
  rateLimit,
  redisStore,
  slidingWindow,
  tokenBucket,
  type RateLimitOptions,
  type RedisStoreOptions,
} from '@bulwark/ratelimit';

import {
  clockOf,
  everyOption,
  expectTaskFailure,
  expectValue,
  failing,
  ok,
  type ConfigRow,
  type Env,
  type Made,
  type Options,
} from './table.js';

/** A breaker in use: a success, a failure, a success; an open breaker's refusal is a documented outcome. */
function useBreaker(make: () => ReturnType<typeof breaker>): Made {
  const b = make();
  return {
    async run() {
      expectValue('a call through the breaker', await b.execute(ok), 'ok');
      await expectTaskFailure(b.execute(failing));
      const after = await b.execute(ok).catch((error: unknown) => {
        if (isBreakerRejection(error)) return 'ok';
        throw error;
      });
      expectValue('a call after a failure', after, 'ok');
      b.health();
    },
    close: async () => b.dispose(),
  };
}

const breakerRow: ConfigRow = {
  package: '@bulwark/breaker',
  call: 'breaker(options)',
  options: everyOption<BreakerOptions>({
    name: true,
    strategy: true,
    halfOpenAfterMs: true,
    maxHalfOpenAfterMs: true,
    backoffFactor: true,
    probes: true,
    successesToClose: true,
    slowCallMs: true,
    isFailure: true,
    ignore: true,
    isFailureResult: true,
    clock: true,
    initial: true,
    store: true,
    quorum: true,
    quorumWindowMs: true,
    probeLeaseMs: true,
  }),
  optionsName: 'options',
  valid: (env) => ({ clock: clockOf(env) }),
  make: (options) => useBreaker(() => breaker(options)),
  expected: isBreakerRejection,
};

const strategyRows: ConfigRow[] = [
  {
    package: '@bulwark/breaker',
    call: 'consecutiveFailures(failures)',
    options: ['failures'],
    positional: ['failures'],
    optionsName: false,
    valid: () => ({ failures: 3 }),
    make: (_, env, { failures }) =>
      useBreaker(() => breaker({ strategy: consecutiveFailures(failures as number), clock: clockOf(env) })),
    expected: isBreakerRejection,
  },
  {
    package: '@bulwark/breaker',
    call: 'countWindow(options)',
    options: everyOption<CountWindowOptions>({ size: true, failureRate: true, slowCallRate: true, minimumCalls: true }),
    optionsName: 'countWindow options',
    valid: () => ({}),
    make: (options, env) => useBreaker(() => breaker({ strategy: countWindow(options), clock: clockOf(env) })),
    expected: isBreakerRejection,
  },
  {
    package: '@bulwark/breaker',
    call: 'timeWindow(options)',
    options: everyOption<TimeWindowOptions>({
      windowMs: true,
      buckets: true,
      failureRate: true,
      slowCallRate: true,
      minimumCalls: true,
    }),
    optionsName: 'timeWindow options',
    valid: () => ({}),
    make: (options, env) => useBreaker(() => breaker({ strategy: timeWindow(options), clock: clockOf(env) })),
    expected: isBreakerRejection,
  },
];

const registryRow: ConfigRow = {
  package: '@bulwark/breaker',
  call: 'breakerRegistry(options)',
  options: [
    ...everyOption<RegistryOptions<'db'>>({ defaults: true, breakers: true, initial: true }),
    'defaults.halfOpenAfterMs',
    'breakers.db',
    'breakers.db.probes',
  ],
  optionsName: 'options',
  valid: (env) => ({ defaults: { clock: clockOf(env) }, breakers: { db: {} } }),
  make(options) {
    const registry = breakerRegistry(options as RegistryOptions<string>);
    const made = useBreaker(() => (registry.has('db') ? registry.get('db') : registry.add('db')));
    return {
      async run() {
        await made.run();
        registry.health();
      },
      close: async () => registry.dispose(),
    };
  },
  expected: isBreakerRejection,
};

const redisBreakerRow: ConfigRow = {
  package: '@bulwark/breaker',
  call: 'redisBreakerStore(client, options)',
  options: [
    'client',
    ...everyOption<RedisBreakerStoreOptions>({
      prefix: true,
      syncIntervalMs: true,
      commandTimeoutMs: true,
      stateTtlMs: true,
      clock: true,
    }),
  ],
  positional: ['client'],
  optionsName: 'options',
  needs: 'redis',
  valid: (env) => ({ client: env.redis, prefix: env.prefix }),
  make(options, env, { client }) {
    const store = redisBreakerStore(client as never, options);
    const made = useBreaker(() => breaker({ name: `fuzz-${env.prefix.length}`, store }));
    return {
      run: () => made.run(),
      async close() {
        await made.close?.();
        store.close();
      },
    };
  },
  expected: isBreakerRejection,
};

const bulkheadRow: ConfigRow = {
  package: '@bulwark/bulkhead',
  call: 'bulkhead(options)',
  options: everyOption<BulkheadOptions>({ capacity: true, queueSize: true, name: true, clock: true }),
  optionsName: 'options',
  valid: (env) => ({ capacity: 2, clock: clockOf(env) }),
  make(options) {
    const policy = bulkhead(options as unknown as BulkheadOptions);
    return {
      async run() {
        expectValue('a call through the bulkhead', await policy.execute(ok), 'ok');
        await expectTaskFailure(policy.execute(failing));
        expectValue('a second call', await policy.execute(ok), 'ok');
        expectValue('slots left taken', policy.health().details['running'], 0);
      },
    };
  },
};

/** A limiter in use: one call admitted (a first call is never over a limit that admits anything). */
function useLimiter(limiter: ReturnType<typeof rateLimit>): Made {
  return {
    async run() {
      expectValue('a call through the limiter', await limiter.execute(ok), 'ok');
      limiter.health();
    },
  };
}

const rateLimitRows: ConfigRow[] = [
  {
    package: '@bulwark/ratelimit',
    call: 'rateLimit(options)',
    options: everyOption<RateLimitOptions>({
      limits: true,
      mode: true,
      maxWaitMs: true,
      key: true,
      store: true,
      name: true,
      clock: true,
    }),
    optionsName: 'options',
    valid: (env) => ({ limits: [tokenBucket({ rate: 10 })], clock: clockOf(env) }),
    make: (options) => useLimiter(rateLimit(options as unknown as RateLimitOptions)),
    expected: isRateLimitedError,
  },
  {
    package: '@bulwark/ratelimit',
    call: 'tokenBucket(options)',
    options: ['rate', 'intervalMs', 'burst'],
    optionsName: 'tokenBucket options',
    valid: () => ({ rate: 5 }),
    make: (options, env) =>
      useLimiter(rateLimit({ limits: [tokenBucket(options as { rate: number })], clock: clockOf(env) })),
    expected: isRateLimitedError,
  },
  {
    package: '@bulwark/ratelimit',
    call: 'slidingWindow(options)',
    options: ['limit', 'windowMs'],
    optionsName: 'slidingWindow options',
    valid: () => ({ limit: 5, windowMs: 1000 }),
    make: (options, env) =>
      useLimiter(
        rateLimit({ limits: [slidingWindow(options as { limit: number; windowMs: number })], clock: clockOf(env) }),
      ),
    expected: isRateLimitedError,
  },
  {
    package: '@bulwark/ratelimit',
    call: 'memoryStore(options)',
    options: ['maxKeys'],
    optionsName: 'memoryStore options',
    valid: () => ({}),
    make: (options, env) =>
      useLimiter(
        rateLimit({
          limits: [slidingWindow({ limit: 5, windowMs: 1000 })],
          store: memoryStore(options),
          clock: clockOf(env),
        }),
      ),
    expected: isRateLimitedError,
  },
  {
    package: '@bulwark/ratelimit',
    call: 'redisStore(options)',
    options: everyOption<RedisStoreOptions>({
      client: true,
      onUnavailable: true,
      prefix: true,
      time: true,
      timeoutMs: true,
      closedRetryAfterMs: true,
      clock: true,
    }),
    optionsName: 'options',
    needs: 'redis',
    valid: (env) => ({ client: env.redis, onUnavailable: 'fail-closed', prefix: env.prefix }),
    make: (options) =>
      useLimiter(
        rateLimit({
          limits: [slidingWindow({ limit: 5, windowMs: 1000 })],
          store: redisStore(options as unknown as RedisStoreOptions),
        }),
      ),
    expected: isRateLimitedError,
  },
];

const cacheRow: ConfigRow = {
  package: '@bulwark/cache',
  call: 'cache(options)',
  options: [
    ...everyOption<CacheOptions>({
      name: true,
      store: true,
      namespace: true,
      key: true,
      ttlMs: true,
      staleWhileRevalidateMs: true,
      maxStaleAgeMs: true,
      staleIfError: true,
      retainMs: true,
      storeTimeoutMs: true,
      l1: true,
      clock: true,
    }),
    ...everyOption<L1Options>({ maxEntries: true, ttlMs: true }).map((name) => `l1.${name}`),
  ],
  optionsName: 'options',
  valid: (env: Env): Options => ({ clock: clockOf(env), l1: {} }),
  make(options, env) {
    const policy = cache<[string]>(options);
    const price = policy.wrap(async (code: string) => `price of ${code}`);
    return {
      async run() {
        expectValue('a miss', await env.clock.run(price('WTI')), 'price of WTI');
        expectValue('a hit', await env.clock.run(price('WTI')), 'price of WTI');
        policy.health();
      },
    };
  },
};

export const policyRows: readonly ConfigRow[] = [
  breakerRow,
  ...strategyRows,
  registryRow,
  redisBreakerRow,
  bulkheadRow,
  ...rateLimitRows,
  cacheRow,
];
