/**
 * The range rule: a number within bounds, optionally per key (prices within sane bounds per
 * commodity).
 *
 * Laws: a value is rejected exactly when it is not a number in `[min, max]` (NaN included) for the
 * bounds of its key; the violation names the rule, the key, the value and those bounds.
 *
 * @module
 */

import { optionChecker } from '@bulwark/core/options';

import type { Violation } from './errors.js';
import { formatNumber } from './internal/duration.js';
import { perKeyMap, selector, type PerKey } from './internal/keyed.js';
import type { Rule, Verdict } from './rule.js';

const PACKAGE = '@bulwark/validate';

/**
 * Inclusive bounds of a range.
 *
 * @category models
 * @since 0.1.0
 */
export interface Bounds {
  /**
   * The smallest value accepted.
   * @default -Infinity
   */
  readonly min?: number;
  /**
   * The largest value accepted.
   * @default Infinity
   */
  readonly max?: number;
}

/**
 * Options of {@link range}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RangeOptions<A> extends Bounds {
  /**
   * The rule's name in violations and events.
   * @default 'range'
   */
  readonly name?: string;
  /** Picks the number to judge out of the decoded value, e.g. `(r) => r.data.price`. */
  readonly value: (decoded: A) => number;
  /** Picks the key whose bounds apply, e.g. `(r) => r.data.code`. Without it, `min`/`max` apply to all. */
  readonly key?: (decoded: A) => string | undefined;
  /**
   * Bounds per key (an object or a `Map`); a bound an entry leaves out is taken from `min`/`max`,
   * and a key with no entry gets `min`/`max`. Looked up by own keys only: a key `constructor` in
   * the data finds no entry unless you gave one.
   * @default no per-key bounds
   */
  readonly perKey?: PerKey<Bounds>;
}

interface Checked {
  readonly min: number;
  readonly max: number;
  /** Shared by every violation of these bounds: nothing to allocate per call. */
  readonly bound: { readonly min: number; readonly max: number };
  readonly reason: string;
  readonly notANumber: string;
}

function checkedBounds(name: string, min: unknown, max: unknown, fallbackMin: number, fallbackMax: number): Checked {
  const check = optionChecker(PACKAGE);
  const lo = check.number(`${name}min`, min, fallbackMin, { finite: false });
  const hi = check.number(`${name}max`, max, fallbackMax, { finite: false });
  if (lo > hi) check.fail(`${name}max`, `>= ${name}min (${lo})`, hi);
  return {
    min: lo,
    max: hi,
    bound: Object.freeze({ min: lo, max: hi }),
    reason: `outside [${formatNumber(lo)}, ${formatNumber(hi)}]`,
    notANumber: `not a number in [${formatNumber(lo)}, ${formatNumber(hi)}]`,
  };
}

/**
 * Whether `value` lies within `[min, max]`: false for NaN and for anything that is not a number.
 *
 * @example
 * ```ts
 * assert.ok(withinRange(72.5, 10, 300));
 * assert.ok(!withinRange(Number.NaN, -Infinity, Infinity));
 * assert.ok(!withinRange('72.5', 10, 300));
 * ```
 *
 * @category predicates
 * @since 0.1.0
 */
export function withinRange(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && value >= min && value <= max;
}

/**
 * Makes a rule that rejects a number outside its bounds, optionally per key.
 *
 * @throws `TypeError`/`RangeError` naming the option, for a missing selector or bad bounds.
 *
 * @example
 * ```ts
 * type Quote = { code: string; price: number };
 * const sane = range<Quote>({
 *   value: (q) => q.price,
 *   key: (q) => q.code,
 *   min: 0,
 *   perKey: { BRENT_CRUDE_USD: { min: 10, max: 300 }, NATURAL_GAS_USD: { max: 50 } },
 * });
 * const check = judge([sane]);
 * assert.equal((await check({ code: 'BRENT_CRUDE_USD', price: 72.5 })())._tag, 'Right');
 * const gas = await check({ code: 'NATURAL_GAS_USD', price: 72.5 })();
 * assert.ok(gas._tag === 'Left' && gas.left.reason === 'outside [0, 50]');
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function range<A>(options: RangeOptions<A>): Rule<A> {
  const check = optionChecker(PACKAGE);
  // Absent options read as {}, so the message names the required option that is missing.
  const opts = check.object('options', options) as RangeOptions<A>;
  const name = check.string('name', opts.name, 'range');
  const valueOf = selector<(a: A) => number>(PACKAGE, 'value', opts.value, false) as (a: A) => number;
  const keyOf = selector<(a: A) => string | undefined>(PACKAGE, 'key', opts.key, true);
  const defaults = checkedBounds('', opts.min, opts.max, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  const perKey = perKeyMap<Bounds, Checked>(PACKAGE, 'perKey', opts.perKey, (entryName, entry) => {
    if (typeof entry !== 'object' || entry === null) check.fail(entryName, 'an object of bounds { min?, max? }', entry);
    const { min, max } = entry as Bounds;
    return checkedBounds(`${entryName}.`, min, max, defaults.min, defaults.max);
  });
  if (perKey.size > 0 && keyOf === undefined) check.fail('key', 'a function when `perKey` is given', undefined);

  return {
    name,
    synchronous: true,
    check(decoded: A): Verdict {
      const value = valueOf(decoded);
      const key = keyOf?.(decoded);
      const bounds = (key !== undefined ? perKey.get(key) : undefined) ?? defaults;
      if (withinRange(value, bounds.min, bounds.max)) return undefined;
      const violation: Violation = {
        rule: name,
        key,
        value,
        bound: bounds.bound,
        reason: typeof value === 'number' ? bounds.reason : bounds.notANumber,
      };
      return violation;
    },
  };
}
