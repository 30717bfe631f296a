// The three components that keep state in Redis, each set up as its README recommends, with what its
// README says it does while Redis fails: the cache goes to the origin (store-error), the shared breaker
// goes on with its local state (store-error, then store-recovered), the limiter fails open, closed or
// local as configured (store-error, then store-recovered).
import { breaker, consecutiveFailures, isBreakerRejection } from '@bulwark/breaker';
import { redisBreakerStore } from '@bulwark/breaker/redis';
import { cache } from '@bulwark/cache';
import { systemClock, type PolicyEvent } from '@bulwark/core';
import { isRateLimitedError, rateLimit, redisStore, slidingWindow } from '@bulwark/ratelimit';
import { uniquePrefix } from '@bulwark/testkit';
import KeyvRedis from '@keyv/redis';
import { createClient } from 'redis';

/** How a call ended. */
export type Settled = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

export interface Subject {
  readonly name: string;
  /** One call through the component; `failing` makes the task itself fail (a breaker then trips). */
  call(failing: boolean): Promise<unknown>;
  /** Whether a call made while Redis fails ended as the README says it does. */
  degraded(outcome: Settled): boolean;
  /** Whether a call ended as it does with Redis healthy. */
  normal(outcome: Settled): boolean;
  /** Whether an event says the store failed, as documented. */
  storeError(event: PolicyEvent): boolean;
  /** Whether it says so in a `store-recovered` event when Redis answers again (the cache has none). */
  readonly announcesRecovery: boolean;
  /** Whether it works through Redis (makes calls): polled until true, at first and once a fault ends. */
  works(): Promise<boolean>;
  /** Every event so far. */
  readonly events: readonly PolicyEvent[];
  /** Its health status now. */
  health(): string;
  /** The Redis keys its next calls read and write (for a fault that gives them the wrong type). */
  keys(): readonly string[];
  close(): Promise<void>;
}

/** Fails the task itself: a dependency's failure, which the breaker counts. */
export class DependencyDown extends Error {
  constructor() {
    super('the dependency failed');
    this.name = 'DependencyDown';
  }
}

/** A node-redis client as the READMEs recommend: reconnecting, and failing at once while disconnected. */
async function client(url: string): Promise<ReturnType<typeof createClient>> {
  const made = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 500, reconnectStrategy: () => 50 },
  });
  made.on('error', () => undefined);
  await made.connect();
  return made;
}

export async function cacheSubject(url: string): Promise<Subject> {
  const namespace = uniquePrefix('faults-cache').slice(0, -1);
  const store = new KeyvRedis<unknown>({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 500, reconnectStrategy: () => 50 },
  });
  const policy = cache<[string]>({ store, namespace, key: (code) => code, storeTimeoutMs: 200, clock: systemClock });
  const events: PolicyEvent[] = [];
  policy.onEvent((event) => events.push(event));
  const price = policy.wrap(async (code: string) => ({ code }));
  let next = 0;
  // Each call a key of its own: a miss that reads Redis, then a write to it.
  const call = async (): Promise<unknown> => {
    const code = `k${next++}`;
    const value = await price(code);
    if ((value as { code?: unknown }).code !== code) throw new Error(`the cache answered ${code} with another key`);
    return value;
  };
  return {
    name: 'cache (Keyv Redis store)',
    call,
    degraded: (outcome) => outcome.ok,
    normal: (outcome) => outcome.ok,
    storeError: (event) => event.type === 'store-error',
    announcesRecovery: false,
    async works() {
      // Stored, then served from Redis.
      const code = `k${next}`;
      await call();
      const value = await price(code);
      const last = events.at(-1) as { type?: string; source?: string } | undefined;
      return value.code === code && last?.type === 'hit' && last.source === 'store';
    },
    events,
    health: () => policy.health().status,
    keys: () => Array.from({ length: 50 }, (_, i) => `${namespace}::${namespace}:k${next + i}`),
    close: () => store.disconnect(true).catch(() => undefined),
  };
}

export async function breakerSubject(url: string): Promise<Subject> {
  const redis = await client(url);
  const prefix = uniquePrefix('faults-breaker');
  const name = 'payments';
  const store = redisBreakerStore(redis, { prefix, syncIntervalMs: 50, commandTimeoutMs: 200 });
  const shared = breaker({ name, store, strategy: consecutiveFailures(2), halfOpenAfterMs: 200, clock: systemClock });
  const events: PolicyEvent[] = [];
  shared.onEvent((event) => events.push(event));
  const call = (failing: boolean): Promise<unknown> =>
    shared.execute(async () => {
      if (failing) throw new DependencyDown();
      return 'paid';
    });
  // Its own state decides, Redis or not: the task's answer, its failure, or a refusal while open.
  const settledLocally = (outcome: Settled): boolean =>
    outcome.ok
      ? outcome.value === 'paid'
      : outcome.error instanceof DependencyDown || isBreakerRejection(outcome.error);
  return {
    name: 'shared breaker (Redis store)',
    call,
    // Local state: the task's own answer, its failure, or a refusal while the local breaker is open.
    degraded: settledLocally,
    normal: settledLocally,
    storeError: (event) => event.type === 'store-error',
    announcesRecovery: true,
    async works() {
      // It closes again once calls succeed (through the probes the fleet grants).
      const answer = await call(false).catch(() => undefined);
      return answer === 'paid' && shared.health().details['store'] === 'reachable';
    },
    events,
    health: () => shared.health().status,
    keys: () => ['state', 'probes', 'votes', 'isolations'].map((part) => `${prefix}{${name}}:${part}`),
    async close() {
      shared.dispose();
      store.close();
      redis.destroy();
    },
  };
}

export async function limiterSubject(
  url: string,
  onUnavailable: 'fail-open' | 'fail-closed' | 'local',
): Promise<Subject> {
  const redis = await client(url);
  const prefix = uniquePrefix('faults-limiter');
  const name = `api-${onUnavailable}`;
  const limiter = rateLimit({
    name,
    limits: [slidingWindow({ limit: 100_000, windowMs: 60_000 })],
    store: redisStore({ client: redis, onUnavailable, prefix, timeoutMs: 200 }),
  });
  const events: PolicyEvent[] = [];
  limiter.onEvent((event) => events.push(event));
  const call = (): Promise<unknown> => limiter.execute(async () => 'served');
  return {
    name: `rate limiter (Redis store, ${onUnavailable})`,
    call,
    degraded: (outcome) =>
      onUnavailable === 'fail-closed'
        ? !outcome.ok && isRateLimitedError(outcome.error) && outcome.error.reason === 'store-unavailable'
        : outcome.ok && outcome.value === 'served',
    normal: (outcome) => outcome.ok && outcome.value === 'served',
    storeError: (event) =>
      event.type === 'store-error' && (event as { failOpen?: unknown }).failOpen === (onUnavailable !== 'fail-closed'),
    announcesRecovery: true,
    async works() {
      const answer = await call().catch(() => undefined);
      return answer === 'served' && limiter.health().status === 'healthy';
    },
    events,
    health: () => limiter.health().status,
    keys: () => [`${prefix}${name}:{default}:h`, `${prefix}${name}:{default}:z`],
    close: async () => redis.destroy(),
  };
}

export const SUBJECTS: readonly (readonly [string, (url: string) => Promise<Subject>])[] = [
  ['cache', cacheSubject],
  ['shared breaker', breakerSubject],
  ['limiter failing open', (url) => limiterSubject(url, 'fail-open')],
  ['limiter failing closed', (url) => limiterSubject(url, 'fail-closed')],
  ['limiter falling back to local limits', (url) => limiterSubject(url, 'local')],
];
