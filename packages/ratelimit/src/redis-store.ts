/**
 * A rate limit store in Redis, so that several processes share one limit exactly.
 *
 * Every decision is one Lua script (EVALSHA, falling back to EVAL after a Redis restart; one script
 * per limiter, its limits written in: see `internal/script.ts`), so reading
 * a key's state, deciding and recording happen atomically: no read-modify-write race between
 * processes. The script runs the same reservation model as the in-memory store (see `limits.ts`):
 * a hash holds the key's last reservation and each token bucket's GCRA time, a sorted set holds the
 * recent reservations that sliding windows count (at most the largest `limit`, none older than the
 * longest window). Both keys carry a TTL, so an idle key vanishes. A limiter of sliding windows alone
 * keeps only the sorted set (its last reservation is the set's highest score).
 *
 * Time is Redis's own (`TIME`) by default, so processes with skewed clocks agree.
 *
 * When Redis cannot be reached (the client is not ready, a command fails or times out) the store
 * does what `onUnavailable` says: admit (`fail-open`), refuse (`fail-closed`), or apply the limits
 * in this process alone (`local`); it emits `store-error` each time and `store-recovered` when Redis
 * answers again.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';

import { systemClock, type Clock, type HealthStatus } from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';

import { RateLimitedError } from './errors.js';
import type { Limit } from './limits.js';
import { PendingCall, PendingCalls } from './internal/pending.js';
import { limitScript, type LimitScript } from './internal/script.js';
import { MemoryStore, type RateLimitStore, type RateLimitStoreFactory, type StoreHooks } from './store.js';

/**
 * The part of a node-redis 5 client (`createClient()` from `redis`) the store uses.
 *
 * @category models
 * @since 0.1.0
 */
export interface RedisClientLike {
  readonly isReady: boolean;
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/**
 * Options of {@link redisStore}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RedisStoreOptions {
  /** A connected node-redis 5 client. The store never connects, closes or reconfigures it. */
  readonly client: RedisClientLike;
  /**
   * What to do when Redis cannot be reached. No default: decide. `fail-open` admits every call
   * (the limit is not enforced); `fail-closed` refuses every call with a `RateLimitedError`
   * (reason `store-unavailable`); `local` enforces the limits in this process alone (each process
   * then admits up to the limit).
   */
  readonly onUnavailable: 'fail-open' | 'fail-closed' | 'local';
  /**
   * Prefix of every Redis key; a limiter's keys are `<prefix><name>:{<key>}:h` and `…:z`.
   *
   * @default 'bulwark:ratelimit:'
   */
  readonly prefix?: string;
  /**
   * Whose clock decides: `'redis'` (the server's `TIME`, the same for every process) or `'limiter'`
   * (the limiter's `clock`, e.g. a virtual clock in tests; processes' clocks must then agree).
   *
   * @default 'redis'
   */
  readonly time?: 'redis' | 'limiter';
  /**
   * How long a decision may take before Redis counts as unreachable, in milliseconds.
   *
   * @default 1000
   */
  readonly timeoutMs?: number;
  /**
   * With `fail-closed`, the `retryAfterMs` of the refusals while Redis is unreachable, in milliseconds.
   *
   * @default 1000
   */
  readonly closedRetryAfterMs?: number;
  /**
   * Where the timeout's timer runs.
   *
   * @default systemClock
   */
  readonly clock?: Clock;
}

/** One decision in this many (per process) prunes the set of reservations older than every window. */
const PRUNE_EVERY = 16;

/**
 * The decision of the Redis store with the time Redis made it at.
 *
 * @category models
 * @since 0.1.0
 */
export interface RedisDecision {
  /** The wait (0: at once) when admitted, `-retryAfterMs` when refused. */
  readonly wait: number;
  /** The time of the decision on the store's clock (Redis's, by default), in milliseconds. */
  readonly at: number;
}

class Unavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailable';
  }
}

/**
 * The Redis store opened for one limiter (by {@link redisStore}'s `open`, as a limiter does).
 * `decide` gives the decision with Redis's time, for audits and tests.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { uniquePrefix } from '@bulwark/testkit';
 * const client = await createClient({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' }).connect();
 * const store = redisStore({ client, prefix: uniquePrefix('ratelimit-doc'), onUnavailable: 'fail-closed' }).open(
 *   [slidingWindow({ limit: 1, windowMs: 60_000 })],
 *   { name: 'audit', onError: () => undefined, onRecover: () => undefined },
 * );
 * const first = await store.decide('client-7', Date.now(), 0);
 * const second = await store.decide('client-7', Date.now(), 0);
 * assert.equal(first.wait, 0); // admitted
 * assert.ok(second.wait < 0 && second.wait >= -60_000); // refused: -retryAfterMs, on Redis's clock
 * client.destroy();
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export class RedisStore implements RateLimitStore {
  private readonly script: LimitScript;
  /** The last `maxWaitMs` sent and its string (a limiter always sends the same one). */
  private maxWaitMs = Number.NaN;
  private maxWaitArg = '';
  private readonly member = randomBytes(6).toString('hex');
  private seq = 0;
  private failing = false;
  private local: MemoryStore | undefined;
  private readonly pending: PendingCalls;
  /** `<prefix><name>:{`: every key of this limiter starts so (the key goes between the braces). */
  private readonly keyStem: string;

  constructor(
    private readonly options: Required<Omit<RedisStoreOptions, 'clock'>> & { clock: Clock },
    limits: readonly Limit[],
    private readonly hooks: StoreHooks,
  ) {
    this.script = limitScript(limits);
    this.keyStem = `${options.prefix}${hooks.name}:{`;
    if (options.onUnavailable === 'local') this.local = new MemoryStore(limits, 10_000);
    this.pending = new PendingCalls(options.clock, options.timeoutMs, (call) =>
      this.fail(call, new Unavailable(`Redis did not answer within ${options.timeoutMs} ms`)),
    );
  }

  readonly keys = undefined;

  get health(): HealthStatus {
    if (!this.failing) return 'healthy';
    return this.options.onUnavailable === 'fail-closed' ? 'unhealthy' : 'degraded';
  }

  reserve(key: string, now: number, maxWaitMs: number): Promise<number> {
    return this.send(key, now, maxWaitMs, 'w') as Promise<number>;
  }

  /**
   * Decides one call in Redis and returns the decision with Redis's time; rejects when Redis cannot
   * be reached (without applying `onUnavailable`): for audits and tests.
   */
  decide(key: string, now: number, maxWaitMs: number): Promise<RedisDecision> {
    return this.send(key, now, maxWaitMs, 't') as Promise<RedisDecision>;
  }

  /**
   * One decision: one EVALSHA, its promise the one the caller gets (no wrapper per call), its timeout
   * one entry in a queue under a single timer (all decisions have the same timeout, so the oldest
   * expires first) instead of a timer per call.
   */
  private send(key: string, now: number, maxWaitMs: number, reply: 'w' | 't'): Promise<number | RedisDecision> {
    const { client, time } = this.options;
    const promise = new Promise<number | RedisDecision>(capture);
    const call = new PendingCall(capturedResolve as never, capturedReject as never, reply, key, now, maxWaitMs);
    capturedResolve = capturedReject = undefined;
    if (!client.isReady) {
      this.fail(call, new Unavailable('the Redis client is not ready'));
      return promise;
    }
    const base = `${this.keyStem}${key}}:`;
    if (maxWaitMs !== this.maxWaitMs) {
      this.maxWaitMs = maxWaitMs;
      this.maxWaitArg = String(maxWaitMs);
    }
    const options = {
      keys: [`${base}h`, `${base}z`],
      arguments: [
        time === 'redis' ? '' : String(now),
        this.maxWaitArg,
        `${this.member}:${this.seq}`,
        this.seq++ % PRUNE_EVERY === 0 ? `${reply}p` : reply,
        ...this.script.limitArgs,
      ],
    };
    this.pending.add(call);
    const { sha, text } = this.script;
    client.evalSha(sha, options).then(
      (answer) => this.answered(call, answer),
      (error: unknown) => {
        // Redis lost its script cache (a restart, SCRIPT FLUSH): send the script itself, once.
        if (!String(error).includes('NOSCRIPT')) return this.fail(call, error);
        client.eval(text, options).then(
          (answer) => this.answered(call, answer),
          (again: unknown) => this.fail(call, again),
        );
      },
    );
    return promise;
  }

  private answered(call: PendingCall, answer: unknown): void {
    if (call.settled) return;
    const value = call.reply === 'w' ? parseWait(answer) : parseDecision(answer);
    if (value === undefined) return this.fail(call, new Error('unexpected reply from the rate limit script'));
    call.settled = true;
    this.pending.settled();
    if (this.failing) {
      this.failing = false;
      this.hooks.onRecover();
    }
    call.resolve(value as never);
  }

  /** The call failed or timed out: `decide` rejects, `reserve` does what `onUnavailable` says. */
  private fail(call: PendingCall, error: unknown): void {
    if (call.settled) return;
    call.settled = true;
    this.pending.settled();
    if (call.reply === 't') return call.reject(error);
    try {
      call.resolve(this.unavailable(error, call.key, call.now, call.maxWaitMs) as never);
    } catch (refusal) {
      call.reject(refusal);
    }
  }

  private unavailable(error: unknown, key: string, now: number, maxWaitMs: number): number {
    this.failing = true;
    const mode = this.options.onUnavailable;
    this.hooks.onError(error, mode !== 'fail-closed');
    if (mode === 'fail-open') return 0;
    if (mode === 'local') return (this.local as MemoryStore).reserve(key, now, maxWaitMs);
    throw new RateLimitedError(key, this.options.closedRetryAfterMs, 'store-unavailable', { cause: error });
  }
}

// One executor for every decision's promise instead of a closure per call: it runs synchronously
// inside `new Promise`, and the caller takes what it captured at once.
let capturedResolve: ((value: number | RedisDecision) => void) | undefined;
let capturedReject: ((reason: unknown) => void) | undefined;
function capture(resolve: (value: number | RedisDecision) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/** A wait: a number, or a string when fractional (Redis would truncate a fractional Lua number). */
function parseWait(reply: unknown): number | undefined {
  const wait = typeof reply === 'string' ? Number(reply) : reply;
  return typeof wait === 'number' && Number.isFinite(wait) ? wait : undefined;
}

function parseDecision(reply: unknown): RedisDecision | undefined {
  if (!Array.isArray(reply) || reply.length !== 2) return undefined;
  const wait = Number(reply[0]);
  const at = Number(reply[1]);
  return Number.isFinite(wait) && Number.isFinite(at) ? { wait, at } : undefined;
}

const check = optionChecker('@bulwark/ratelimit');

/**
 * What {@link redisStore} returns: the `store` option of a limiter.
 *
 * @category models
 * @since 0.1.0
 */
export interface RedisStoreFactory extends RateLimitStoreFactory {
  /** Opens the store for `limits` under `hooks.name`, as a limiter does; `hooks` receive its health changes. */
  open(limits: readonly Limit[], hooks: StoreHooks): RedisStore;
}

/**
 * A store in Redis shared by every process that uses the same Redis, prefix and limiter name.
 *
 * Needs the `redis` package (node-redis 5), whose client you create, connect and close.
 *
 * @throws TypeError or RangeError - when an option is invalid.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * const client = await createClient({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' }).connect();
 * const limiter = rateLimit({
 *   limits: [slidingWindow({ limit: 10, windowMs: 60_000 }), slidingWindow({ limit: 100, windowMs: 3_600_000 })],
 *   store: redisStore({ client, onUnavailable: 'local' }),
 * });
 * await limiter.acquire('client-7');
 * client.destroy();
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function redisStore(options: RedisStoreOptions): RedisStoreFactory {
  const opts = check.object('options', options) as Partial<RedisStoreOptions>;
  const client = check.object('client', opts.client ?? null) as RedisClientLike;
  check.method('client.evalSha', (client as Partial<RedisClientLike>).evalSha);
  if (opts.onUnavailable === undefined) {
    throw new TypeError(
      '@bulwark/ratelimit: expected `onUnavailable` to be one of "fail-open", "fail-closed", "local" (it has no default: decide), got undefined',
    );
  }
  const onUnavailable = check.oneOf('onUnavailable', opts.onUnavailable, 'fail-closed', [
    'fail-open',
    'fail-closed',
    'local',
  ] as const);
  const resolved = {
    client,
    onUnavailable,
    prefix: check.string('prefix', opts.prefix, 'bulwark:ratelimit:'),
    time: check.oneOf('time', opts.time, 'redis', ['redis', 'limiter'] as const),
    timeoutMs: check.number('timeoutMs', opts.timeoutMs, 1000, { min: 1 }),
    closedRetryAfterMs: check.number('closedRetryAfterMs', opts.closedRetryAfterMs, 1000, { min: 0 }),
    clock: check.clock('clock', opts.clock, systemClock, ['now', 'setTimer', 'clearTimer']),
  };
  return { open: (limits, hooks) => new RedisStore(resolved, limits, hooks) };
}
