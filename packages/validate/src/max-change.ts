/**
 * The maximum-change rule: a number may not move further than a bound from the last good value of
 * its key (the oil-price seed's "sudden spikes").
 *
 * The last good value per key is kept in a store with Keyv's `get`/`set`: the bounded memory store
 * by default, or a `Keyv` on Redis so that every process judges against the same history. A value
 * becomes the last good one only when it passed every rule of its policy. The first value of a key
 * has nothing to be compared with and passes this rule.
 *
 * A store that fails or does not answer within `storeTimeoutMs` is reported (`store-error`) and the
 * value passes this rule (`onStoreError: 'pass'`, the default) or is rejected (`'reject'`).
 *
 * Laws: with a last good value `p`, a value `v` is rejected exactly when `|v - p|` exceeds the
 * allowed change (`maxRatio * |p|`, `maxDelta`, or the larger of the two when both are given) or
 * `v` is not a finite number; the violation names the rule, the key, `v` and `p` with the bound.
 *
 * @module
 */

import { type Clock } from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';

import type { Violation } from './errors.js';
import { formatNumber } from './internal/duration.js';
import { perKeyMap, selector, type PerKey } from './internal/keyed.js';
import type { Rule, RuleEnvironment, Verdict } from './rule.js';
import { memoryStore, type KeyValueStore } from './store.js';

const PACKAGE = '@bulwark/validate';

/**
 * What the maximum-change rule remembers per key.
 *
 * @category models
 * @since 0.1.0
 */
export interface LastGood {
  /** The last value that passed every rule. */
  readonly value: number;
  /** When it was accepted, on the policy's clock (milliseconds). */
  readonly at: number;
}

/**
 * How far a value may move from the last good one. Give `maxRatio`, `maxDelta` or both (then the
 * larger allowance applies: a ratio for large values, a delta near zero).
 *
 * @category models
 * @since 0.1.0
 */
export interface ChangeLimit {
  /**
   * The largest change as a fraction of the last good value's magnitude: `0.2` allows ±20 %.
   * @default no ratio limit
   */
  readonly maxRatio?: number;
  /**
   * The largest change in the value's own unit: `5` allows ±5.
   * @default no absolute limit
   */
  readonly maxDelta?: number;
}

/**
 * Options of {@link maxChange}.
 *
 * @category models
 * @since 0.1.0
 */
export interface MaxChangeOptions<A> extends ChangeLimit {
  /**
   * The rule's name in violations and events, and the prefix of its keys in the store.
   * @default 'max-change'
   */
  readonly name?: string;
  /** Picks the number to judge out of the decoded value, e.g. `(r) => r.data.price`. */
  readonly value: (decoded: A) => number;
  /**
   * Picks the key whose history applies, e.g. `(r) => r.data.code`.
   * @default one history for all values
   */
  readonly key?: (decoded: A) => string | undefined;
  /**
   * Limits per key (an object or a `Map`); a limit an entry leaves out is taken from the top level.
   * Given without a top-level `maxRatio`/`maxDelta`, keys with no entry are not judged.
   * @default no per-key limits
   */
  readonly perKey?: PerKey<ChangeLimit>;
  /**
   * Where the last good values live: anything with Keyv's `get`/`set`, e.g. a `Keyv` on Redis. Keys
   * are `${name}:${key}`, so several rules can share one store.
   * @default memoryStore({ maxEntries: 10_000 }), the rule's own (keys without the prefix)
   */
  readonly store?: KeyValueStore<LastGood>;
  /**
   * How long a last good value counts, in milliseconds; an older one is ignored (and a Keyv store is
   * asked to expire it). Bounds how long a genuine jump can be rejected: after this long with
   * nothing accepted, the next value is judged against nothing.
   * @default Infinity
   */
  readonly rememberMs?: number;
  /**
   * How long to wait for an asynchronous store, in milliseconds, before treating it as failed.
   * @default 1000
   */
  readonly storeTimeoutMs?: number;
  /**
   * What to do with a value when the store fails: let it pass this rule, or reject it.
   * @default 'pass'
   */
  readonly onStoreError?: 'pass' | 'reject';
}

interface Limit {
  readonly maxRatio: number | undefined;
  readonly maxDelta: number | undefined;
  readonly text: string;
}

function checkedLimit(prefix: string, entry: ChangeLimit, defaults: Limit | undefined): Limit {
  const check = optionChecker(PACKAGE);
  const maxRatio = check.number(`${prefix}maxRatio`, entry.maxRatio, defaults?.maxRatio, { min: 0 });
  const maxDelta = check.number(`${prefix}maxDelta`, entry.maxDelta, defaults?.maxDelta, { min: 0 });
  if (maxRatio === undefined && maxDelta === undefined) {
    check.fail(`${prefix}maxRatio`, 'given (or `maxDelta`): a change needs a limit', undefined);
  }
  const parts: string[] = [];
  if (maxRatio !== undefined) parts.push(`${formatNumber(maxRatio * 100)}%`);
  if (maxDelta !== undefined) parts.push(formatNumber(maxDelta));
  return { maxRatio, maxDelta, text: `at most ${parts.join(' or ')}` };
}

/**
 * Whether `next` is within the allowed change from `previous`: `maxRatio * |previous|`,
 * `maxDelta`, or the larger of the two. False when `next` is not a finite number.
 *
 * @example
 * ```ts
 * assert.ok(withinChange(70, 80, 0.2, undefined)); // +14 % of 70
 * assert.ok(!withinChange(70, 90, 0.2, undefined)); // +29 %
 * assert.ok(withinChange(0.5, 2, 0.2, 2)); // +300 %, but within 2
 * ```
 *
 * @category predicates
 * @since 0.1.0
 */
export function withinChange(
  previous: number,
  next: unknown,
  maxRatio: number | undefined,
  maxDelta: number | undefined,
): boolean {
  if (typeof next !== 'number' || !Number.isFinite(next)) return false;
  const byRatio = maxRatio !== undefined ? maxRatio * Math.abs(previous) : Number.NEGATIVE_INFINITY;
  const byDelta = maxDelta !== undefined ? maxDelta : Number.NEGATIVE_INFINITY;
  return Math.abs(next - previous) <= Math.max(byRatio, byDelta);
}

const isLastGood = (value: unknown): value is LastGood =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as LastGood).value === 'number' &&
  Number.isFinite((value as LastGood).value) &&
  typeof (value as LastGood).at === 'number';

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';

/** Settles as `pending` does, or rejects after `ms` on `clock` (a timer that keeps nothing alive). */
function within<T>(pending: PromiseLike<T>, ms: number, clock: Clock, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimer(
      () => reject(new Error(`${PACKAGE}: the last-good store did not answer a ${what} within ${ms} ms`)),
      ms,
      false,
    );
    pending.then(
      (value) => {
        clock.clearTimer(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimer(timer);
        reject(error);
      },
    );
  });
}

/**
 * Makes a rule that rejects a number further than a bound from the last good value of its key.
 *
 * @throws `TypeError`/`RangeError` naming the option: a missing selector, no limit, a bad store.
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * const Quote = t.type({ code: t.string, price: t.number });
 * const spikes = maxChange<t.TypeOf<typeof Quote>>({ value: (q) => q.price, key: (q) => q.code, maxRatio: 0.2 });
 * const quotes = validate(Quote, { rules: [spikes] });
 * await quotes.execute(async () => ({ code: 'WTI_USD', price: 70 })); // nothing to compare with yet
 * await quotes.execute(async () => ({ code: 'WTI_USD', price: 80 })); // +14 %: now the last good value
 * const error = await quotes.execute(async () => ({ code: 'WTI_USD', price: 140 })).catch((e: unknown) => e);
 * assert.ok(isDataQualityError(error));
 * assert.deepEqual(error.bound, { previous: 80, maxRatio: 0.2 });
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function maxChange<A>(options: MaxChangeOptions<A>): Rule<A> {
  const check = optionChecker(PACKAGE);
  // Absent options read as {}, so the message names the required option that is missing.
  const opts = check.object('options', options) as MaxChangeOptions<A>;
  const name = check.string('name', opts.name, 'max-change');
  const valueOf = selector<(a: A) => number>(PACKAGE, 'value', opts.value, false) as (a: A) => number;
  const keyOf = selector<(a: A) => string | undefined>(PACKAGE, 'key', opts.key, true);
  const defaults =
    opts.maxRatio === undefined && opts.maxDelta === undefined && opts.perKey !== undefined
      ? undefined
      : checkedLimit('', opts, undefined);
  const perKey = perKeyMap<ChangeLimit, Limit>(PACKAGE, 'perKey', opts.perKey, (entryName, entry) => {
    if (typeof entry !== 'object' || entry === null) check.fail(entryName, 'an object { maxRatio?, maxDelta? }', entry);
    return checkedLimit(`${entryName}.`, entry as ChangeLimit, defaults);
  });
  if (perKey.size > 0 && keyOf === undefined) check.fail('key', 'a function when `perKey` is given', undefined);
  const own = opts.store === undefined ? memoryStore<LastGood>() : undefined;
  const store: KeyValueStore<LastGood> = own ?? (opts.store as KeyValueStore<LastGood>);
  // The rule judges ages itself on the policy's clock; a TTL only lets a store of the user's (Redis)
  // drop what the rule would ignore anyway.
  const ownStore = own !== undefined;
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.get !== 'function' ||
    typeof store.set !== 'function'
  ) {
    check.fail('store', 'a store with get and set (a Keyv, or memoryStore())', store);
  }
  const rememberMs = check.number('rememberMs', opts.rememberMs, Number.POSITIVE_INFINITY, {
    min: 1,
    finite: false,
  });
  const storeTimeoutMs = check.number('storeTimeoutMs', opts.storeTimeoutMs, 1000, { min: 1 });
  const rejectOnStoreError =
    check.oneOf('onStoreError', opts.onStoreError, 'pass', ['pass', 'reject'] as const) === 'reject';
  const synchronous = store.synchronous === true;
  const ttl = Number.isFinite(rememberMs) ? rememberMs : undefined;
  const storeTtl = ownStore ? undefined : ttl;
  const prefix = `${name}:`;
  // The default store is this rule's alone: its keys need no prefix (and no string built per call).
  const storeKey = ownStore
    ? (key: string | undefined): string => key ?? ''
    : (key: string | undefined): string => prefix + (key ?? '');

  const limitOf = (key: string | undefined): Limit | undefined =>
    (key !== undefined ? perKey.get(key) : undefined) ?? defaults;

  /** The verdict once the last good value (or what the store held) is known. */
  const judge = (
    value: number,
    key: string | undefined,
    limit: Limit,
    remembered: unknown,
    env: RuleEnvironment,
  ): Verdict => {
    if (!isLastGood(remembered)) {
      if (remembered !== undefined && remembered !== null) {
        env.storeError(
          name,
          new TypeError(
            `${PACKAGE}: the last-good store held something else than { value, at } under ${JSON.stringify(storeKey(key))}`,
          ),
        );
      }
      return undefined;
    }
    if (ttl !== undefined && env.clock.now() - remembered.at > ttl) return undefined;
    if (withinChange(remembered.value, value, limit.maxRatio, limit.maxDelta)) return undefined;
    return violation(value, key, limit, remembered.value);
  };

  const violation = (
    value: unknown,
    key: string | undefined,
    limit: Limit,
    previous: number | undefined,
  ): Violation => {
    const bound: { previous?: number; maxRatio?: number; maxDelta?: number } = {};
    if (previous !== undefined) bound.previous = previous;
    if (limit.maxRatio !== undefined) bound.maxRatio = limit.maxRatio;
    if (limit.maxDelta !== undefined) bound.maxDelta = limit.maxDelta;
    let reason: string;
    if (typeof value !== 'number' || !Number.isFinite(value)) reason = 'not a finite number';
    else if (previous === undefined) reason = 'the last good value could not be read';
    else {
      const delta = value - previous;
      const ratio =
        previous !== 0 ? ` (${delta >= 0 ? '+' : ''}${formatNumber((delta / Math.abs(previous)) * 100, 4)}%)` : '';
      reason = `changed by ${delta >= 0 ? '+' : ''}${formatNumber(delta)}${ratio} from ${formatNumber(previous)}, ${limit.text}`;
    }
    return { rule: name, key, value, bound, reason };
  };

  const storeFailed = (
    error: unknown,
    value: number,
    key: string | undefined,
    limit: Limit,
    env: RuleEnvironment,
  ): Verdict => {
    env.storeError(name, error);
    return rejectOnStoreError ? violation(value, key, limit, undefined) : undefined;
  };

  return {
    name,
    synchronous,
    check(decoded: A, env: RuleEnvironment): Verdict | Promise<Verdict> {
      const value = valueOf(decoded);
      const key = keyOf?.(decoded);
      const limit = limitOf(key);
      if (limit === undefined) return undefined; // a key with no limit, and no default: not judged
      if (typeof value !== 'number' || !Number.isFinite(value)) return violation(value, key, limit, undefined);
      let remembered: unknown;
      try {
        remembered = store.get(storeKey(key));
      } catch (error) {
        return storeFailed(error, value, key, limit, env);
      }
      if (!isThenable(remembered)) return judge(value, key, limit, remembered, env);
      if (synchronous) {
        remembered.then(undefined, () => undefined);
        return storeFailed(
          new TypeError(`${PACKAGE}: a store marked synchronous returned a promise`),
          value,
          key,
          limit,
          env,
        );
      }
      return within(remembered, storeTimeoutMs, env.clock, 'read').then(
        (found) => judge(value, key, limit, found, env),
        (error: unknown) => storeFailed(error, value, key, limit, env),
      );
    },
    accept(decoded: A, env: RuleEnvironment): void | Promise<void> {
      const key = keyOf?.(decoded);
      if (limitOf(key) === undefined) return;
      const value = valueOf(decoded);
      const at = env.clock.now();
      if (own !== undefined) {
        // The rule's own store holds objects nobody else sees: update the key's in place, and set it
        // again all the same, which marks it recent (a key accepted a moment ago must not be the one
        // evicted past `maxEntries`, its history lost and its next spike let through).
        const held = own.get(storeKey(key)) as { value: number; at: number } | undefined;
        if (held !== undefined) {
          held.value = value;
          held.at = at;
        }
        own.set(storeKey(key), held ?? { value, at });
        return;
      }
      const entry: LastGood = { value, at };
      let written: unknown;
      try {
        written = store.set(storeKey(key), entry, storeTtl);
      } catch (error) {
        env.storeError(name, error);
        return;
      }
      if (!isThenable(written)) return;
      return within(written, storeTimeoutMs, env.clock, 'write').then(
        () => undefined,
        (error: unknown) => env.storeError(name, error),
      );
    },
  };
}
