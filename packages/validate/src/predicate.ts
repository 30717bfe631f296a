/**
 * Custom rules from a predicate, and a combinator that applies a rule to every item of a list.
 *
 * Laws: `predicate` rejects a value exactly when `test` returns false, naming the rule, the value
 * judged and the bound given; `each(items, rule)` rejects a value exactly when `rule` rejects one of
 * its items (naming the first such item), and passes every item to `rule.accept` when all passed.
 *
 * @module
 */

import { describeValue, optionChecker } from '@bulwark/core/options';

import type { Violation } from './errors.js';
import { selector } from './internal/keyed.js';
import type { Rule, RuleEnvironment, Verdict } from './rule.js';

const PACKAGE = '@bulwark/validate';

/**
 * Options of {@link predicate}.
 *
 * @category models
 * @since 0.1.0
 */
export interface PredicateOptions<A> {
  /** The rule's name in violations and events. */
  readonly name: string;
  /** Whether the decoded value is believable. */
  readonly test: (decoded: A) => boolean;
  /**
   * Picks the value to name in a violation.
   * @default the decoded value itself
   */
  readonly value?: (decoded: A) => unknown;
  /**
   * Picks a key to name in a violation.
   * @default no key
   */
  readonly key?: (decoded: A) => string | undefined;
  /**
   * The bound to name in a violation, as data.
   * @default undefined
   */
  readonly bound?: unknown;
  /**
   * Why a value fails, for people.
   * @default `failed ${name}`
   */
  readonly reason?: string;
}

/**
 * Makes a rule from a predicate.
 *
 * @throws `TypeError` naming the option.
 *
 * @example
 * ```ts
 * type Quote = { price: number; currency: string | null };
 * const priced = predicate<Quote>({
 *   name: 'has-currency',
 *   test: (q) => q.currency !== null,
 *   value: (q) => q.currency,
 *   reason: 'a price needs a currency',
 * });
 * const check = judge([priced]);
 * assert.equal((await check({ price: 1, currency: 'USD' })())._tag, 'Right');
 * const left = await check({ price: 1, currency: null })();
 * assert.ok(left._tag === 'Left' && left.left.reason === 'a price needs a currency');
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function predicate<A>(options: PredicateOptions<A>): Rule<A> {
  const check = optionChecker(PACKAGE);
  // Absent options read as {}, so the message names the required option that is missing.
  const opts = check.object('options', options) as PredicateOptions<A>;
  const name = check.string('name', opts.name, undefined) ?? check.fail('name', 'a string (it is required)', undefined);
  const test = selector<(a: A) => boolean>(PACKAGE, 'test', opts.test, false) as (a: A) => boolean;
  const valueOf = selector<(a: A) => unknown>(PACKAGE, 'value', opts.value, true);
  const keyOf = selector<(a: A) => string | undefined>(PACKAGE, 'key', opts.key, true);
  const reason = check.string('reason', opts.reason, `failed ${name}`);
  const bound = opts.bound;
  return {
    name,
    synchronous: true,
    check(decoded: A): Verdict {
      if (test(decoded) === true) return undefined;
      const violation: Violation = {
        rule: name,
        key: keyOf?.(decoded),
        value: valueOf !== undefined ? valueOf(decoded) : decoded,
        bound,
        reason,
      };
      return violation;
    },
  };
}

/**
 * Applies `rule` to every item of a list in the decoded value (every row of a price history).
 * The violation is the first rejected item's, its reason prefixed with the item's index.
 *
 * @param items - Picks the list out of the decoded value.
 * @param options.name - The combined rule's name. @default the inner rule's name
 *
 * @example
 * ```ts
 * type History = { prices: { code: string; price: number }[] };
 * const rows = each<History, { code: string; price: number }>(
 *   (h) => h.prices,
 *   range({ value: (p) => p.price, min: 0 }),
 * );
 * const left = await judge([rows])({ prices: [{ code: 'A', price: 1 }, { code: 'A', price: -3 }] })();
 * assert.ok(left._tag === 'Left' && left.left.reason === 'item 1: outside [0, Infinity]');
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export function each<A, B>(
  items: (decoded: A) => readonly B[],
  rule: Rule<B>,
  options: { readonly name?: string } = {},
): Rule<A> {
  const check = optionChecker(PACKAGE);
  const itemsOf = selector<(a: A) => readonly B[]>(PACKAGE, 'items', items, false) as (a: A) => readonly B[];
  if (typeof rule !== 'object' || rule === null || typeof rule.check !== 'function') check.fail('rule', 'a rule', rule);
  const name = check.string('name', (check.object('options', options) as { name?: unknown }).name, rule.name);
  const named = (violation: Violation, index: number): Violation => ({
    ...violation,
    rule: name,
    reason: `item ${index}: ${violation.reason}`,
  });

  const checkFrom = (list: readonly B[], start: number, env: RuleEnvironment): Verdict | Promise<Verdict> => {
    for (let i = start; i < list.length; i++) {
      const verdict = rule.check(list[i] as B, env);
      if (verdict === undefined) continue;
      if (typeof (verdict as PromiseLike<Verdict>).then !== 'function') return named(verdict as Violation, i);
      // An asynchronous rule: wait for this item, then go on from the next.
      return Promise.resolve(verdict as PromiseLike<Verdict>).then((found) =>
        found !== undefined ? named(found, i) : checkFrom(list, i + 1, env),
      );
    }
    return undefined;
  };

  // The selector is the user's: a value that is not a list fails the call naming it (a rule's crash
  // is the call's error), instead of as a TypeError from deep inside the loop.
  const listOf = (decoded: A): readonly B[] => {
    const list = itemsOf(decoded);
    if (!Array.isArray(list)) {
      throw new TypeError(`${PACKAGE}: expected \`items\` to return an array, got ${describeValue(list)}`);
    }
    return list as readonly B[];
  };

  const accept = rule.accept?.bind(rule);
  const acceptFrom = (list: readonly B[], start: number, env: RuleEnvironment): void | Promise<void> => {
    if (accept === undefined) return;
    for (let i = start; i < list.length; i++) {
      const done = accept(list[i] as B, env);
      // Items are accepted in order: an asynchronous store finishes one before the next.
      if (done !== undefined && typeof done.then === 'function') {
        return Promise.resolve(done).then(() => acceptFrom(list, i + 1, env));
      }
    }
  };
  return {
    name,
    synchronous: rule.synchronous,
    check: (decoded, env) => checkFrom(listOf(decoded), 0, env),
    ...(accept !== undefined
      ? { accept: (decoded: A, env: RuleEnvironment) => acceptFrom(listOf(decoded), 0, env) }
      : {}),
  };
}
