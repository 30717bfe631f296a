/**
 * The freshness rule: a timestamp in the decoded value no older than a bound (and not from the
 * future beyond a tolerance), on the policy's clock.
 *
 * The clock's `now()` is compared with the data's timestamps, so it must read milliseconds since
 * the Unix epoch: `systemClock` does; in tests start a `VirtualClock` at a real date.
 *
 * Laws: at time `now`, a timestamp `ts` is rejected exactly when it is not a valid time, when
 * `now - ts > maxAgeMs`, or when `ts - now > maxFutureMs`; the violation names the rule, the key,
 * the timestamp as found and the bounds.
 *
 * @module
 */

import { optionChecker } from '@bulwark/core/options';

import type { Violation } from './errors.js';
import { formatDuration } from './internal/duration.js';
import { selector } from './internal/keyed.js';
import type { Rule, RuleEnvironment, Verdict } from './rule.js';

const PACKAGE = '@bulwark/validate';

/**
 * A timestamp as data carries it: milliseconds since the epoch, an ISO 8601 string or a `Date`.
 *
 * @category models
 * @since 0.1.0
 */
export type Timestamp = number | string | Date;

/**
 * Options of {@link freshness}.
 *
 * @category models
 * @since 0.1.0
 */
export interface FreshnessOptions<A> {
  /**
   * The rule's name in violations and events.
   * @default 'freshness'
   */
  readonly name?: string;
  /** Picks the timestamp out of the decoded value, e.g. `(r) => r.data.created_at`. */
  readonly at: (decoded: A) => Timestamp;
  /** The oldest accepted age, in milliseconds. */
  readonly maxAgeMs: number;
  /**
   * How far in the future a timestamp may be, in milliseconds (clock skew between the source and
   * this process).
   * @default 60_000
   */
  readonly maxFutureMs?: number;
  /**
   * Picks a key to name in violations, e.g. `(r) => r.data.code`.
   * @default no key
   */
  readonly key?: (decoded: A) => string | undefined;
}

/** A calendar date, as ISO 8601 writes it. */
const DATE = String.raw`\d{4}-\d{2}-\d{2}`;
/** A time of day after its date, seconds and their fraction optional. */
const TIME = String.raw`[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?`;
/**
 * An ISO 8601 / RFC 3339 date, or date and time with a zone: what `Date.parse` reads the same in every
 * zone. RFC 3339's space between date and time (Python's `str(datetime)`, PostgreSQL) and its lower
 * case `t` and `z` are taken too.
 */
const ISO_8601 = new RegExp(String.raw`^${DATE}(?:${TIME}(?:[Zz]|[+-]\d{2}:?\d{2}))?$`);
/** A date and time without a zone: said apart in a violation, the one mistake worth naming. */
const ZONELESS = new RegExp(String.raw`^${DATE}${TIME}$`);

/**
 * The time a {@link Timestamp} stands for, in milliseconds since the epoch; NaN when it is none.
 *
 * A string must be ISO 8601: a date (`2026-01-15`, midnight UTC) or a date and time with its zone
 * (`Z` or an offset). A time without a zone is NaN, not a guess: `Date.parse` would read it in the
 * host's zone, so the same data would be fresh in one process and stale in another.
 *
 * @example
 * ```ts
 * assert.equal(timeOf('1970-01-01T00:00:01.000Z'), 1000);
 * assert.equal(timeOf('1970-01-01T01:00:01+01:00'), 1000);
 * assert.equal(timeOf(new Date(5)), 5);
 * assert.ok(Number.isNaN(timeOf('yesterday')));
 * assert.ok(Number.isNaN(timeOf('2026-01-15T12:00:00'))); // which zone?
 * ```
 *
 * @category destructors
 * @since 0.1.0
 */
export function timeOf(timestamp: unknown): number {
  if (typeof timestamp === 'number') return timestamp;
  if (typeof timestamp === 'string') return ISO_8601.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
  if (timestamp instanceof Date) return timestamp.getTime();
  return Number.NaN;
}

/**
 * Whether a time `ts` is fresh at `now`: valid, at most `maxAgeMs` old and at most `maxFutureMs` ahead.
 *
 * @example
 * ```ts
 * assert.ok(isFresh(1000, 1500, 500, 0));
 * assert.ok(!isFresh(1000, 1501, 500, 0));
 * assert.ok(!isFresh(2000, 1000, 500, 999));
 * ```
 *
 * @category predicates
 * @since 0.1.0
 */
export function isFresh(ts: number, now: number, maxAgeMs: number, maxFutureMs: number): boolean {
  return Number.isFinite(ts) && now - ts <= maxAgeMs && ts - now <= maxFutureMs;
}

/**
 * Makes a rule that rejects data whose timestamp is too old, too far ahead, or not a time at all.
 *
 * @throws `TypeError`/`RangeError` naming the option.
 *
 * @example
 * ```ts
 * import { VirtualClock } from '@bulwark/testkit';
 * const clock = new VirtualClock(Date.parse('2026-01-15T12:00:00Z'));
 * const recent = freshness<{ created_at: string }>({ at: (r) => r.created_at, maxAgeMs: 7 * 86_400_000 });
 * const check = judge([recent], { clock });
 * assert.equal((await check({ created_at: '2026-01-14T12:00:00Z' })())._tag, 'Right');
 * const stale = await check({ created_at: '2025-12-01T12:00:00Z' })();
 * assert.ok(stale._tag === 'Left' && stale.left.reason === 'is 45 days old, at most 7 days');
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function freshness<A>(options: FreshnessOptions<A>): Rule<A> {
  const check = optionChecker(PACKAGE);
  // Absent options read as {}, so the message names the required option that is missing.
  const opts = check.object('options', options) as FreshnessOptions<A>;
  const name = check.string('name', opts.name, 'freshness');
  const atOf = selector<(a: A) => Timestamp>(PACKAGE, 'at', opts.at, false) as (a: A) => Timestamp;
  const keyOf = selector<(a: A) => string | undefined>(PACKAGE, 'key', opts.key, true);
  const maxAgeMs =
    check.number('maxAgeMs', opts.maxAgeMs, undefined, { min: 0 }) ??
    check.fail('maxAgeMs', 'a number of milliseconds (it is required)', undefined);
  const maxFutureMs = check.number('maxFutureMs', opts.maxFutureMs, 60_000, { min: 0, finite: false });
  const bound = Object.freeze({ maxAgeMs, maxFutureMs });
  // Parsing an ISO string costs far more than the rest of the rule, and polling sees the same
  // timestamp many times: the last string parsed is remembered.
  let lastText: string | undefined;
  let lastTime = Number.NaN;
  const parse = (found: unknown): number => {
    if (typeof found !== 'string') return timeOf(found);
    if (found !== lastText) {
      lastTime = timeOf(found);
      lastText = found;
    }
    return lastTime;
  };
  const oldest = formatDuration(maxAgeMs);
  const ahead = formatDuration(maxFutureMs);

  return {
    name,
    synchronous: true,
    check(decoded: A, env: RuleEnvironment): Verdict {
      const found = atOf(decoded);
      const ts = parse(found);
      const now = env.clock.now();
      if (isFresh(ts, now, maxAgeMs, maxFutureMs)) return undefined;
      const reason = !Number.isFinite(ts)
        ? typeof found === 'string' && ZONELESS.test(found)
          ? 'a time without a zone (Z or an offset)'
          : 'not a valid timestamp'
        : now - ts > maxAgeMs
          ? `is ${formatDuration(now - ts)} old, at most ${oldest}`
          : `is ${formatDuration(ts - now)} in the future, at most ${ahead}`;
      const violation: Violation = { rule: name, key: keyOf?.(decoded), value: found, bound, reason };
      return violation;
    },
  };
}
