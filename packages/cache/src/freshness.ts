/**
 * The cache's decisions, as pure functions of an entry's age: serve it, serve it while refreshing it,
 * or go to the origin; and, when the origin fails, serve the entry anyway or give up on it.
 *
 * Laws (fast-check, `test/freshness.test.ts`): an entry is `fresh` only while its age is below `ttlMs`
 * (as HTTP's freshness: `0` keeps nothing fresh); `revalidate` only while it is below
 * `ttlMs + staleWhileRevalidateMs`; `serve-stale` only when the error allows it and the age is at most
 * `maxStaleAgeMs` ("stale up to one hour"); and `expired` only beyond that.
 *
 * @module
 */

/**
 * How long an entry is served, in milliseconds of age (time since the origin produced it).
 *
 * @category models
 * @since 0.1.0
 */
export interface Freshness {
  /** An entry younger than this is served as is. */
  readonly ttlMs: number;
  /** From `ttlMs` on, for this much longer, the entry is served while one background call refreshes it. */
  readonly staleWhileRevalidateMs: number;
  /** When the origin fails, an entry at most this old is served in place of the error. */
  readonly maxStaleAgeMs: number;
}

/**
 * What to do with an entry of a given age: serve it (`fresh`), serve it and refresh it in the
 * background (`revalidate`), or call the origin (`expired`).
 *
 * @category models
 * @since 0.1.0
 */
export type Verdict = 'fresh' | 'revalidate' | 'expired';

/**
 * What to do when the origin fails: serve the entry in its place (`serve-stale`), fail with a
 * `CacheExpiredError` because the entry is too old (`expired`), or let the origin's error through
 * (`rethrow`: no entry, or an error that must not be hidden).
 *
 * @category models
 * @since 0.1.0
 */
export type Fallback = 'serve-stale' | 'expired' | 'rethrow';

/**
 * The age of an entry stored at `storedAt`, read at `now` (both on the policy's clock). An entry from
 * the future (another process's clock ahead of ours) is taken as new, never as negative age.
 *
 * @example
 * ```ts
 * assert.equal(ageOf(1_000, 4_000), 3_000);
 * assert.equal(ageOf(5_000, 4_000), 0);
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export function ageOf(storedAt: number, now: number): number {
  const age = now - storedAt;
  return age > 0 ? age : 0;
}

/**
 * Whether an entry of age `ageMs` is served, served while refreshed, or replaced by an origin call.
 *
 * @example
 * ```ts
 * const f = { ttlMs: 300_000, staleWhileRevalidateMs: 60_000, maxStaleAgeMs: 3_600_000 };
 * assert.equal(verdict(299_999, f), 'fresh');
 * assert.equal(verdict(300_000, f), 'revalidate');
 * assert.equal(verdict(360_000, f), 'expired');
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export function verdict(ageMs: number, freshness: Freshness): Verdict {
  if (ageMs < freshness.ttlMs) return 'fresh';
  if (ageMs < freshness.ttlMs + freshness.staleWhileRevalidateMs) return 'revalidate';
  return 'expired';
}

/**
 * What to do when the origin failed, given the age of the entry at hand (`undefined` when there is
 * none) and whether the error allows serving stale data.
 *
 * @example
 * ```ts
 * const f = { ttlMs: 300_000, staleWhileRevalidateMs: 0, maxStaleAgeMs: 3_600_000 };
 * assert.equal(fallback(1_800_000, true, f), 'serve-stale');
 * assert.equal(fallback(3_600_001, true, f), 'expired');
 * assert.equal(fallback(1_800_000, false, f), 'rethrow');
 * assert.equal(fallback(undefined, true, f), 'rethrow');
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export function fallback(ageMs: number | undefined, staleAllowed: boolean, freshness: Freshness): Fallback {
  if (ageMs === undefined || !staleAllowed) return 'rethrow';
  return ageMs <= freshness.maxStaleAgeMs ? 'serve-stale' : 'expired';
}

/**
 * A bound on the age at which an entry can still be served: what the store must keep it for, at least.
 *
 * @param staleIfError - Whether stale-if-error is on (then `maxStaleAgeMs` counts).
 * @example
 * ```ts
 * const f = { ttlMs: 300_000, staleWhileRevalidateMs: 0, maxStaleAgeMs: 3_600_000 };
 * assert.equal(servableAge(f, true), 3_600_000);
 * assert.equal(servableAge(f, false), 300_000);
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export function servableAge(freshness: Freshness, staleIfError: boolean): number {
  const revalidated = freshness.ttlMs + freshness.staleWhileRevalidateMs;
  return staleIfError && freshness.maxStaleAgeMs > revalidated ? freshness.maxStaleAgeMs : revalidated;
}
