/**
 * The rate limit policy: calls for a key are admitted while every configured limit allows them;
 * beyond that they are rejected with a {@link RateLimitedError} (`mode: 'reject'`) or wait for their
 * slot, up to `maxWaitMs` and abortable (`mode: 'wait'`).
 *
 * It is a gate (ADR 0001) that `waits`: with the in-memory store, a call that is admitted at once
 * costs one decision and no promise; one that waits gets a sleep on the limiter's clock until its
 * reserved slot. Reservations make waiting FIFO per key with no queue to keep: each waiting call
 * holds the earliest slot after those reserved before it. A call whose caller has already aborted is
 * refused with the reason and reserves nothing. One whose caller aborts while it waits for its slot,
 * or for a remote store's decision, stops waiting at once and never runs; a slot it was given stays
 * used (the limit is never exceeded; at worst one slot goes unused).
 *
 * @module
 */

import {
  definePolicy,
  Emitter,
  PASS,
  systemClock,
  type Clock,
  type Context,
  type Gate,
  type Health,
  type HealthSource,
  type Policy,
  type PolicyEvent,
  type Scope,
} from '@bulwark/core';
import { describeValue } from '@bulwark/core/options';
import { optionChecker } from '@bulwark/core/options';

import { RateLimitedError, type RateLimitedReason } from './errors.js';
import { checkLimits, type Limit } from './limits.js';
import { memoryStore, type RateLimitStore, type RateLimitStoreFactory } from './store.js';

/**
 * Options of {@link rateLimit}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RateLimitOptions {
  /** The limits, all enforced: e.g. `[slidingWindow({ limit: 10, windowMs: 60_000 }), slidingWindow({ limit: 100, windowMs: 3_600_000 })]`. */
  readonly limits: readonly Limit[];
  /**
   * `'reject'`: a call over the limit fails at once with a {@link RateLimitedError}. `'wait'`: it
   * waits for its slot (FIFO per key), unless that is more than `maxWaitMs` away.
   *
   * @default 'reject'
   */
  readonly mode?: 'reject' | 'wait';
  /**
   * In wait mode, the longest a call may wait for its slot, in milliseconds; a call whose slot is
   * further away is rejected at once (reason `max-wait`). `Infinity` for no bound.
   *
   * @default 60000
   */
  readonly maxWaitMs?: number;
  /**
   * The key of a call run through the limiter itself (`execute`, `wrap`); `forKey(key)` and
   * `acquire(key)` name their key instead.
   *
   * @default () => 'default'
   */
  readonly key?: (context: Context) => string;
  /**
   * Where the state lives: {@link memoryStore} (this process) or `redisStore` (shared).
   *
   * @default memoryStore() (10,000 keys)
   */
  readonly store?: RateLimitStoreFactory;
  /**
   * The limiter's name in events, errors, health reports and shared store keys.
   *
   * @default 'rate-limit'
   */
  readonly name?: string;
  /**
   * Where time is read and waits are slept.
   *
   * @default systemClock
   */
  readonly clock?: Clock;
}

/**
 * A call was refused.
 *
 * @category events
 * @since 0.1.0
 */
export interface RateLimitRejectedEvent extends PolicyEvent {
  readonly type: 'rejected';
  readonly key: string;
  /** As on the error: never an underestimate. */
  readonly retryAfterMs: number;
  readonly reason: RateLimitedReason;
}

/**
 * A call waited for its slot and is now admitted.
 *
 * @category events
 * @since 0.1.0
 */
export interface RateLimitWaitedEvent extends PolicyEvent {
  readonly type: 'waited';
  readonly key: string;
  /** How long it waited, in milliseconds. */
  readonly waitedMs: number;
}

/**
 * The shared store failed; the call was admitted anyway (`failOpen`) or refused.
 *
 * @category events
 * @since 0.1.0
 */
export interface RateLimitStoreErrorEvent extends PolicyEvent {
  readonly type: 'store-error';
  readonly error: unknown;
  readonly failOpen: boolean;
}

/**
 * The shared store answers again after failing.
 *
 * @category events
 * @since 0.1.0
 */
export interface RateLimitStoreRecoveredEvent extends PolicyEvent {
  readonly type: 'store-recovered';
}

/**
 * Every event a rate limiter emits.
 *
 * @category events
 * @since 0.1.0
 */
export type RateLimitEvent =
  RateLimitRejectedEvent | RateLimitWaitedEvent | RateLimitStoreErrorEvent | RateLimitStoreRecoveredEvent;

/**
 * A rate limiter: a {@link Policy} for its default key, policies for other keys, direct acquisition
 * and a health report.
 *
 * @category models
 * @since 0.1.0
 */
export interface RateLimiter extends Policy<RateLimitEvent>, HealthSource {
  readonly kind: 'rate-limiter';
  readonly limits: readonly Limit[];
  readonly mode: 'reject' | 'wait';
  /** A policy limiting calls under `key` (e.g. a client id), sharing this limiter's state and events. */
  forKey(key: string): Policy<RateLimitEvent>;
  /**
   * Takes a slot for `key` without running anything: resolves when admitted (after waiting, in wait
   * mode), rejects with a {@link RateLimitedError} when refused or with `signal`'s reason when aborted
   * (at once, taking no slot, if it aborted before the call).
   */
  acquire(key?: string, signal?: AbortSignal): Promise<void>;
  /**
   * `healthy`, or `degraded`/`unhealthy` while a shared store is unreachable (failing open or
   * closed). Details: `mode`, `keys` (held in this process; `null` for a remote store), `limits`.
   */
  health(): Health;
}

type Token = undefined | Promise<undefined>;

const DEFAULT_KEY = 'default';
const NO_CONTEXT = {};
const contextOf = (ctx: Scope | undefined): { context?: Context } =>
  ctx === undefined ? NO_CONTEXT : { context: ctx };
const defaultKeyOf = (): string => DEFAULT_KEY;

/** The limiter's shared machinery: every key's policy and `acquire` go through `admit`. */
class Limiter {
  readonly events = new Emitter<RateLimitEvent>();
  readonly store: RateLimitStore;

  constructor(
    readonly name: string,
    readonly limits: readonly Limit[],
    readonly mode: 'reject' | 'wait',
    private readonly maxWaitMs: number,
    private readonly clock: Clock,
    store: RateLimitStoreFactory,
  ) {
    const events = this.events;
    this.store = store.open(limits, {
      name,
      onError: (error, failOpen) => {
        if (events.active) events.emit({ type: 'store-error', policy: name, error, failOpen });
      },
      onRecover: () => {
        if (events.active) events.emit({ type: 'store-recovered', policy: name });
      },
    });
  }

  /**
   * Admits a call for `key`: `undefined` at once, a promise when it waits (or the store is remote);
   * throws when refused, or with the abort reason when the caller has already aborted (no slot taken).
   */
  admit(key: string, ctx: Scope | undefined, signal: AbortSignal | undefined): Token {
    if (signal?.aborted === true) throw signal.reason;
    // A scope's `aborted` reads its caller's signal without making one: nothing allocated here.
    if (ctx?.aborted === true) throw ctx.reason;
    const now = this.clock.now();
    const decided = this.store.reserve(key, now, this.maxWaitMs);
    if (typeof decided === 'number') return this.settle(key, decided, now, ctx, signal, false);
    // A remote decision is a round trip the caller may give up on. Given a signal (`acquire`), stop
    // waiting for it at once. In a call, the scope is checked when the answer comes instead: its
    // `signal` would be made for this alone (an AbortController, and inside a timeout an
    // `AbortSignal.any`, which Node 20 never frees), on every call decided remotely.
    const answer = signal === undefined ? decided : untilAborted(decided, signal);
    return answer.then((wait) => this.settle(key, wait, now, ctx, signal, true));
  }

  private settle(
    key: string,
    wait: number,
    startedAt: number,
    ctx: Scope | undefined,
    signal: AbortSignal | undefined,
    /** Decided in a promise callback (a remote store's answer), not in the caller's stack. */
    answered: boolean,
  ): Token {
    // The caller may abort before the answer or between it and this callback; a slot it got is then
    // left unused.
    if (answered) {
      if (signal?.aborted === true) throw signal.reason;
      if (ctx?.aborted === true) throw ctx.reason;
    }
    if (wait === 0) return undefined;
    if (wait < 0) {
      const reason: RateLimitedReason = this.mode === 'wait' ? 'max-wait' : 'limit';
      if (this.events.active) {
        this.events.emit({ type: 'rejected', policy: this.name, ...contextOf(ctx), key, retryAfterMs: -wait, reason });
      }
      throw answered ? refusalWithoutStack(key, -wait, reason) : new RateLimitedError(key, -wait, reason);
    }
    const sleeping = this.sleepUntil(
      startedAt + wait,
      wait,
      signal ?? (ctx?.mayAbort === true ? ctx.signal : undefined),
    );
    return sleeping.then(() => {
      if (this.events.active) {
        const waitedMs = this.clock.now() - startedAt;
        this.events.emit({ type: 'waited', policy: this.name, ...contextOf(ctx), key, waitedMs });
      }
      return undefined;
    });
  }

  /**
   * Sleeps `wait` ms, to `until` on the limiter's clock. Node's timers run on whole milliseconds of
   * loop time, so one may end up to a millisecond before `until` as `Date.now()` reads it: the rest is
   * slept too, or the call would start before its slot. (More than `wait` left means the clock stepped
   * back while it slept: the call goes.)
   */
  private sleepUntil(until: number, wait: number, signal: AbortSignal | undefined): Promise<void> {
    return this.clock.sleep(wait, signal).then(() => {
      const left = until - this.clock.now();
      return left > 0 && left <= wait ? this.clock.sleep(left, signal) : undefined;
    });
  }

  health(): Health {
    const keys = this.store.keys;
    return {
      status: this.store.health,
      details: {
        mode: this.mode,
        keys: keys ?? null,
        limits: this.limits.map((limit) =>
          limit.kind === 'token-bucket'
            ? { kind: limit.kind, rate: limit.rate, intervalMs: limit.intervalMs, burst: limit.burst }
            : { kind: limit.kind, limit: limit.limit, windowMs: limit.windowMs },
        ),
      },
    };
  }
}

/**
 * A refusal made in a promise callback. Its stack would show the event loop and this module, never the
 * caller, so none is captured: capturing one cost about as much as the rest of a refusal on Redis
 * (BulwarkError was 12 % of a refusal-heavy run's profile). The `stack` is then the first line alone.
 */
function refusalWithoutStack(key: string, retryAfterMs: number, reason: RateLimitedReason): RateLimitedError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new RateLimitedError(key, retryAfterMs, reason);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * `decision`, or a rejection with `signal`'s reason as soon as it aborts. The decision still settles
 * in the background: a slot the store then grants stays spent, as a waiting call's does when aborted.
 */
function untilAborted(decision: Promise<number>, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    decision.then(
      (wait) => {
        signal.removeEventListener('abort', onAbort);
        resolve(wait);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The gate of one key (or of a key taken from each call's context). */
class RateLimitGate implements Gate<Token> {
  readonly waits = true;

  constructor(
    private readonly limiter: Limiter,
    private readonly keyOf: (ctx: Context) => string,
  ) {}

  enter(ctx: Scope): Token {
    const key = this.keyOf(ctx);
    // A key function is the user's: what it returns becomes a map key and a Redis key, so it is checked.
    if (typeof key !== 'string') {
      throw new TypeError(`@bulwark/ratelimit: expected \`key\` to return a string, got ${describeValue(key)}`);
    }
    return this.limiter.admit(key, ctx, undefined);
  }

  exit(): number {
    return PASS;
  }
}

const check = optionChecker('@bulwark/ratelimit');

/**
 * Makes a rate limiter enforcing every one of `limits`, per key.
 *
 * @throws TypeError or RangeError - when an option is invalid, naming it and the value.
 *
 * @example
 * ```ts
 * import { VirtualClock } from '@bulwark/testkit';
 * const clock = new VirtualClock();
 * const limiter = rateLimit({
 *   limits: [slidingWindow({ limit: 2, windowMs: 60_000 }), slidingWindow({ limit: 3, windowMs: 3_600_000 })],
 *   clock,
 * });
 * const client = limiter.forKey('client-7');
 * await client.execute(async () => 'first');
 * await client.execute(async () => 'second');
 * const refused = await client.execute(async () => 'third').catch((error: unknown) => error);
 * assert.ok(isRateLimitedError(refused));
 * assert.equal(refused.retryAfterMs, 60_000);
 * await clock.advance(60_000);
 * assert.equal(await client.execute(async () => 'fourth'), 'fourth');
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function rateLimit(options: RateLimitOptions): RateLimiter {
  const opts = check.object('options', options) as Partial<RateLimitOptions>;
  const limits = checkLimits(opts.limits);
  const mode = check.oneOf('mode', opts.mode, 'reject', ['reject', 'wait'] as const);
  const maxWaitMs =
    mode === 'reject' ? 0 : check.number('maxWaitMs', opts.maxWaitMs, 60_000, { min: 0, finite: false });
  if (mode === 'reject' && opts.maxWaitMs !== undefined) {
    check.fail('maxWaitMs', "absent unless `mode` is 'wait'", opts.maxWaitMs);
  }
  const keyOf = check.func<(context: Context) => string, (context: Context) => string>('key', opts.key, defaultKeyOf);
  const name = check.string('name', opts.name, 'rate-limit');
  // Waiting sleeps on the clock; refusing only reads it.
  const clock = check.clock('clock', opts.clock, systemClock, mode === 'wait' ? ['now', 'sleep'] : ['now']);
  const store = check.object('store', opts.store ?? memoryStore()) as RateLimitStoreFactory;
  check.method('store.open', (store as Partial<RateLimitStoreFactory>).open);

  const limiter = new Limiter(name, limits, mode, maxWaitMs, clock, store);
  const policy = definePolicy(name, [{ gate: new RateLimitGate(limiter, keyOf) }], limiter.events);
  const forKey = (key: string): Policy<RateLimitEvent> => {
    check.string('key', key, undefined);
    return definePolicy(name, [{ gate: new RateLimitGate(limiter, () => key) }], limiter.events);
  };
  const acquire = (key: string = DEFAULT_KEY, signal?: AbortSignal): Promise<void> => {
    try {
      return Promise.resolve(limiter.admit(key, undefined, signal));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return Object.defineProperties(policy, {
    kind: { value: 'rate-limiter', enumerable: true },
    limits: { value: limits, enumerable: true },
    mode: { value: mode, enumerable: true },
    forKey: { value: forKey, enumerable: true },
    acquire: { value: acquire, enumerable: true },
    health: { value: () => limiter.health(), enumerable: true },
  }) as RateLimiter;
}
