/**
 * @bulwark/breaker/redis: breakers of several processes sharing one state through Redis (node-redis 5).
 *
 * One store per Redis client serves any number of breakers. Every fleet decision is one atomic Lua
 * script (`internal/fleet-script.ts`); a background sync re-reads the fleet's state of every attached
 * breaker each `syncIntervalMs` (all in one pipelined round trip), so a process learns of another's
 * decision within about `syncIntervalMs` and the success path never waits on Redis. When Redis cannot
 * be reached, operations fail fast (nothing is queued behind a dead connection) and breakers go on with
 * their local state; see `internal/fleet.ts` and the README's "Consistency" section.
 *
 * The client is the user's: the store never connects, quits or configures it. It does listen to the
 * client's `error` events while open (so a client without a listener of its own does not crash the
 * process when Redis goes away), and reports them as the breakers' `store-error`.
 *
 * @module
 */

import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import { systemClock, type Clock, type TimerHandle } from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';

import { FLEET_SCRIPT } from './internal/fleet-script.js';
import type { BreakerStore, FleetHooks, FleetLink, FleetParams, FleetView, ProbeGrant } from './store.js';

const check = optionChecker('@bulwark/breaker');
const SHA = createHash('sha1').update(FLEET_SCRIPT).digest('hex');

/**
 * What the store needs of a Redis client: node-redis 5's `createClient()` gives one.
 *
 * @category models
 * @since 0.1.0
 */
export interface RedisClientLike {
  /** Whether the client is connected and ready for commands. */
  readonly isReady: boolean;
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  off(event: 'error', listener: (error: unknown) => void): unknown;
}

/**
 * Options of {@link redisBreakerStore}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RedisBreakerStoreOptions {
  /** Prefix of every key; keys are `<prefix>{<breaker name>}:state` and so on. @default 'bulwark:breaker:' */
  readonly prefix?: string;
  /** How often each process re-reads the fleet's state, in milliseconds: the bound on how late it learns of a change. @default 100 */
  readonly syncIntervalMs?: number;
  /** How long a Redis command may take before the store gives up on it, in milliseconds. @default 1000 */
  readonly commandTimeoutMs?: number;
  /** How long a fleet's state outlives its last change, in milliseconds. @default 86400000 (1 day) */
  readonly stateTtlMs?: number;
  /** The clock of the sync timer. @default systemClock */
  readonly clock?: Clock;
}

/**
 * A store of breaker state in Redis.
 *
 * @category models
 * @since 0.1.0
 */
export interface RedisBreakerStore extends BreakerStore {
  /** Stops syncing every breaker and stops listening to the client. Does not close the client. */
  close(): void;
}

/**
 * Why a store operation failed without a Redis error of its own.
 *
 * It never reaches a caller: a breaker reports it in a `store-error` event and goes on locally.
 *
 * @example
 * ```ts
 * import { RedisStoreError } from '@bulwark/breaker/redis';
 * const error = new RedisStoreError('not-ready', 'the client is not connected');
 * assert.equal(error.name, 'RedisStoreError');
 * assert.equal(error.reason, 'not-ready');
 * assert.equal(error.message, '@bulwark/breaker/redis: the client is not connected');
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class RedisStoreError extends Error {
  override readonly name = 'RedisStoreError';
  constructor(
    /**
     * `not-ready`: the client is not connected; `timeout`: Redis did not answer within
     * `commandTimeoutMs`; `bad-reply`: Redis answered something that is not a fleet view; `closed`:
     * the store was closed.
     */
    readonly reason: 'not-ready' | 'timeout' | 'bad-reply' | 'closed',
    message: string,
  ) {
    super(`@bulwark/breaker/redis: ${message}`);
  }
}

const STATES = new Set(['closed', 'open', 'half-open', 'isolated']);

/** Reads the script's reply; anything else is a {@link RedisStoreError}, never a crash. */
function parseReply(reply: unknown): { view: FleetView; granted: boolean } {
  if (Array.isArray(reply) && reply.length === 7) {
    const [state, generation, remaining, openings, resets, known, granted] = reply as unknown[];
    const remainingMs = Number(remaining);
    const openingsN = Number(openings);
    const resetsN = Number(resets);
    if (
      typeof state === 'string' &&
      STATES.has(state) &&
      typeof generation === 'string' &&
      /^\d+$/.test(generation) &&
      Number.isFinite(remainingMs) &&
      remainingMs >= 0 &&
      Number.isSafeInteger(openingsN) &&
      openingsN >= 0 &&
      Number.isSafeInteger(resetsN) &&
      resetsN >= 0 &&
      (known === 0 || known === 1) &&
      (granted === 0 || granted === 1)
    ) {
      return {
        view: {
          state: state as FleetView['state'],
          generation,
          remainingMs,
          openings: openingsN,
          resets: resetsN,
          known: known === 1,
        },
        granted: granted === 1,
      };
    }
  }
  throw new RedisStoreError('bad-reply', 'Redis answered the fleet script with something that is not a fleet view');
}

const noscript = (error: unknown): boolean => error instanceof Error && error.message.startsWith('NOSCRIPT');

/**
 * Makes a store that shares breakers' state through Redis, on a node-redis 5 client you created
 * (and connect, and close).
 *
 * @param client - A node-redis 5 client (`createClient(…)`), connected or about to be.
 * @throws TypeError or RangeError naming the option, for a bad option.
 * @example
 * ```ts
 * // typecheck-only (needs a Redis; examples/src/breaker-shared.ts runs it)
 * import { breaker } from '@bulwark/breaker';
 * import { redisBreakerStore } from '@bulwark/breaker/redis';
 * import { createClient } from 'redis';
 *
 * const client = createClient({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' });
 * client.on('error', () => {}); // the breakers report outages as `store-error`
 * await client.connect();
 * const store = redisBreakerStore(client, { prefix: 'myapp:breaker:' });
 * const llm = breaker({ name: 'llm', store, quorum: 2 });
 * // … every process with a breaker named 'llm' on this Redis shares its open/half-open decision.
 * llm.dispose();
 * store.close();
 * client.destroy();
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function redisBreakerStore(client: RedisClientLike, options: RedisBreakerStoreOptions = {}): RedisBreakerStore {
  // Required: a missing client is reported as one, not as a crash on its first command. A client of
  // another library (ioredis has a `status`, no `isReady`) would fail every operation as not ready.
  const given = check.object('client', client ?? null) as Partial<RedisClientLike>;
  if (
    typeof given.isReady !== 'boolean' ||
    typeof given.sendCommand !== 'function' ||
    typeof given.on !== 'function' ||
    typeof given.off !== 'function'
  ) {
    check.fail('client', 'a node-redis 5 client (with `isReady`, `sendCommand`, `on` and `off`)', client);
  }
  const opts = check.object('options', options) as RedisBreakerStoreOptions;
  const prefix = check.string('prefix', opts.prefix, 'bulwark:breaker:');
  const syncIntervalMs = check.integer('syncIntervalMs', opts.syncIntervalMs, 100, { min: 1 });
  const timeout = check.integer('commandTimeoutMs', opts.commandTimeoutMs, 1000, { min: 1 });
  const stateTtlMs = String(check.integer('stateTtlMs', opts.stateTtlMs, 86_400_000, { min: 1000 }));
  const clock = check.clock('clock', opts.clock, systemClock, ['now', 'setTimer', 'clearTimer']);
  return new RedisStore(client, prefix, syncIntervalMs, timeout, stateTtlMs, clock);
}

class RedisStore implements RedisBreakerStore {
  private readonly links = new Set<RedisLink>();
  /** The sync timer, while any breaker is attached. */
  private timer: TimerHandle = undefined;
  private listening = false;
  private closed = false;
  private readonly onClientError = (error: unknown): void => {
    for (const link of this.links) link.hooks.onError(error);
  };

  constructor(
    private readonly client: RedisClientLike,
    private readonly prefix: string,
    readonly syncIntervalMs: number,
    private readonly timeout: number,
    readonly stateTtlMs: string,
    private readonly clock: Clock,
  ) {}

  attach(name: string, params: FleetParams, hooks: FleetHooks): FleetLink {
    if (this.closed) throw new Error('@bulwark/breaker/redis: the store is closed');
    if (/[{}]/.test(name))
      check.fail('name', 'a breaker name without `{` or `}` (they delimit its Redis hash tag)', name);
    const tag = `${this.prefix}{${name}}`;
    const link = new RedisLink(
      this,
      [`${tag}:state`, `${tag}:probes`, `${tag}:votes`, `${tag}:isolations`],
      params,
      hooks,
    );
    this.links.add(link);
    if (!this.listening) {
      this.client.on('error', this.onClientError);
      this.listening = true;
    }
    // Learn the fleet's state at once, then every interval.
    link.sync();
    this.timer ??= this.clock.setTimer(this.tick, this.syncIntervalMs, false);
    return link;
  }

  detach(link: RedisLink): void {
    this.links.delete(link);
    if (this.links.size === 0) this.stop();
  }

  close(): void {
    this.closed = true;
    for (const link of [...this.links]) link.detach();
    this.stop();
  }

  private stop(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (this.listening) this.client.off('error', this.onClientError);
    this.listening = false;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.links.size === 0) return;
    for (const link of this.links) link.sync();
    this.timer = this.clock.setTimer(this.tick, this.syncIntervalMs, false);
  };

  /**
   * Runs the fleet script; fails fast when the client is not ready rather than queueing behind it, and
   * after `commandTimeoutMs` when Redis does not answer (node-redis's own command `timeout` only bounds
   * the wait to send a command, not the wait for its answer).
   */
  run(keys: readonly string[], args: readonly string[]): Promise<{ view: FleetView; granted: boolean }> {
    if (!this.client.isReady) {
      return Promise.reject(new RedisStoreError('not-ready', 'the Redis client is not connected'));
    }
    const answer = this.send(keys, args);
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimer(
        () => reject(new RedisStoreError('timeout', `Redis did not answer within ${this.timeout} ms`)),
        this.timeout,
        false,
      );
      // A late answer is dropped: the breaker already took the operation as failed.
      answer.then(
        (reply) => {
          this.clock.clearTimer(timer);
          try {
            resolve(parseReply(reply));
          } catch (error) {
            reject(error);
          }
        },
        (error: unknown) => {
          this.clock.clearTimer(timer);
          reject(error);
        },
      );
    });
  }

  private async send(keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await this.client.sendCommand(['EVALSHA', SHA, '4', ...keys, ...args]);
    } catch (error) {
      // Redis restarted, or never saw the script: send it whole (it is cached again for the next call).
      if (!noscript(error)) throw error;
      return this.client.sendCommand(['EVAL', FLEET_SCRIPT, '4', ...keys, ...args]);
    }
  }
}

class RedisLink implements FleetLink {
  readonly member = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly syncIntervalMs: number;
  private readonly params: string[];
  private syncing = false;
  private detached = false;

  constructor(
    private readonly store: RedisStore,
    private readonly keys: readonly string[],
    params: FleetParams,
    readonly hooks: FleetHooks,
  ) {
    this.syncIntervalMs = store.syncIntervalMs;
    this.params = [
      params.halfOpenAfterMs,
      params.maxHalfOpenAfterMs,
      params.backoffFactor,
      params.probes,
      params.successesToClose,
      params.quorum,
      params.quorumWindowMs,
      params.probeLeaseMs,
    ].map(String);
    this.params.push(store.stateTtlMs);
  }

  private run(op: string, member: string, a1 = '', a2 = ''): Promise<{ view: FleetView; granted: boolean }> {
    if (this.detached) return Promise.reject(new RedisStoreError('closed', 'the store was closed'));
    return this.store.run(this.keys, [op, member, ...this.params, a1, a2]);
  }

  private view(op: string, member = this.member, a1?: string, a2?: string): Promise<FleetView> {
    return this.run(op, member, a1, a2).then((reply) => reply.view);
  }

  /** One background read of the fleet's state (skipped while the previous one is still out). */
  sync(): void {
    if (this.syncing || this.detached) return;
    this.syncing = true;
    this.view('sync').then(
      (view) => {
        this.syncing = false;
        if (!this.detached) this.hooks.onView(view);
      },
      (error: unknown) => {
        this.syncing = false;
        if (!this.detached) this.hooks.onError(error);
      },
    );
  }

  trip(remainingMs: number, openings: number): Promise<FleetView> {
    return this.view('trip', this.member, String(Math.round(remainingMs)), String(openings));
  }

  withdraw(): Promise<FleetView> {
    return this.view('withdraw');
  }

  acquireProbe(lease: string): Promise<ProbeGrant> {
    return this.run('probe', lease);
  }

  probeDone(lease: string, generation: string, outcome: 'success' | 'failure' | 'release'): Promise<FleetView> {
    return this.view('probe-done', lease, outcome, generation);
  }

  isolate(holder: string): Promise<FleetView> {
    return this.view('isolate', holder);
  }

  release(holder: string): Promise<FleetView> {
    return this.view('release', holder);
  }

  reset(): Promise<FleetView> {
    return this.view('reset');
  }

  seedOpen(remainingMs: number, openings: number): Promise<FleetView> {
    return this.view('seed', this.member, String(Math.round(remainingMs)), String(openings));
  }

  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.store.detach(this);
  }
}
