/**
 * Data-quality rules: what a rule is, and how a list of them judges a decoded value.
 *
 * A rule looks at a decoded value and either lets it pass or names the bound it breaks. Rules that
 * remember (a maximum change against the last good value) learn only from values that passed
 * every rule: `accept` runs after all checks passed, never after a violation. A list of synchronous
 * rules judges without a promise, so the validate policy can run as a gate.
 *
 * Laws: a value that passes every rule is returned unchanged (the same reference); a value breaking
 * k rules yields exactly k violations, in the order the rules were given; `accept` runs once per rule
 * for each value that passed, and never for one that did not.
 *
 * @module
 */

import { systemClock, type Clock } from '@bulwark/core';
import * as E from 'fp-ts/lib/Either.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';

import { DataQualityError, type Violation } from './errors.js';

/**
 * What a rule receives besides the value: the clock and where to report a failing store. Made once
 * per policy, not per call.
 *
 * @category models
 * @since 0.1.0
 */
export interface RuleEnvironment {
  /** The policy's clock: freshness reads it, remembered values are stamped with it. */
  readonly clock: Clock;
  /** Reports that a rule's store failed (the rule then decides to pass or reject on its own). */
  storeError(rule: string, error: unknown): void;
}

/**
 * A rule's judgement of one value: `undefined` to let it pass, or the bound it breaks.
 *
 * @category models
 * @since 0.1.0
 */
export type Verdict = Violation | undefined;

/**
 * A data-quality rule over decoded values of type `A`.
 *
 * Write one by hand for a judgement the built-in rules cannot express; `predicate` covers most.
 *
 * @example
 * ```ts
 * import type { Rule } from '@bulwark/validate';
 * const positive: Rule<number> = {
 *   name: 'positive',
 *   synchronous: true,
 *   check: (n) => (n > 0 ? undefined : { rule: 'positive', key: undefined, value: n, bound: 0, reason: 'not > 0' }),
 * };
 * const judged = await judge([positive])(-1)();
 * assert.equal(judged._tag, 'Left');
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Rule<A> {
  /** The rule's name in violations and events; distinct within one policy. */
  readonly name: string;
  /**
   * Whether `check` and `accept` always return without a promise. A policy whose rules are all
   * synchronous runs as a gate (no promise of its own per call).
   */
  readonly synchronous: boolean;
  /** Judges `value`. Must not throw for any value its codec accepts. */
  check(value: A, env: RuleEnvironment): Verdict | PromiseLike<Verdict>;
  /** Learns from a value that passed every rule (a last good value). */
  accept?(value: A, env: RuleEnvironment): void | PromiseLike<void>;
}

/** @internal The failure of a rule's own code: passed on as the call's error, never as a violation. */
export class RuleCrash {
  constructor(readonly error: unknown) {}
}

/**
 * Judges `value` with synchronous rules: the violations, or `undefined` after every `accept` ran.
 * A rule that throws returns a {@link RuleCrash} holding what it threw.
 *
 * @internal
 */
export function judgeNow<A>(
  rules: readonly Rule<A>[],
  value: A,
  env: RuleEnvironment,
): [Violation, ...Violation[]] | RuleCrash | undefined {
  let found: Violation[] | undefined;
  try {
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as Rule<A>;
      const verdict = rule.check(value, env);
      if (verdict === undefined) continue;
      if (typeof (verdict as PromiseLike<Verdict>).then === 'function') {
        Promise.resolve(verdict).catch(() => undefined);
        throw new TypeError(`@bulwark/validate: rule "${rule.name}" says it is synchronous but returned a promise`);
      }
      (found ??= []).push(verdict as Violation);
    }
    if (found !== undefined) return found as [Violation, ...Violation[]];
    for (let i = 0; i < rules.length; i++) (rules[i] as Rule<A>).accept?.(value, env);
    return undefined;
  } catch (error) {
    return new RuleCrash(error);
  }
}

/**
 * Judges `value` with any rules: checks run at once (a store's reads overlap), `accept`s after all
 * passed. Rejects only with what a rule's own code threw.
 *
 * @internal
 */
export async function judgeLater<A>(
  rules: readonly Rule<A>[],
  value: A,
  env: RuleEnvironment,
): Promise<[Violation, ...Violation[]] | undefined> {
  // Every check starts before any is awaited, so the reads of several stores overlap.
  const pending = rules.map(async (rule): Promise<Verdict> => rule.check(value, env));
  let found: Violation[] | undefined;
  for (const verdict of await Promise.all(pending)) if (verdict !== undefined) (found ??= []).push(verdict);
  if (found !== undefined) return found as [Violation, ...Violation[]];
  const accepting = rules.map(async (rule): Promise<void> => rule.accept?.(value, env));
  await Promise.all(accepting);
  return undefined;
}

/** @internal Throws a `RangeError` when two rules share a name: violations and stores tell rules apart by it. */
export function checkRules<A>(rules: unknown, packageName = '@bulwark/validate'): readonly Rule<A>[] {
  if (rules === undefined) return [];
  if (!Array.isArray(rules)) throw new TypeError(`${packageName}: expected \`rules\` to be an array of rules`);
  const seen = new Set<string>();
  rules.forEach((rule: Partial<Rule<A>> | null, i) => {
    if (
      typeof rule !== 'object' ||
      rule === null ||
      typeof rule.check !== 'function' ||
      typeof rule.name !== 'string'
    ) {
      throw new TypeError(`${packageName}: expected \`rules[${i}]\` to be a rule (made by range, maxChange, …)`);
    }
    if (seen.has(rule.name)) {
      throw new RangeError(
        `${packageName}: expected \`rules\` to have distinct names, got ${JSON.stringify(rule.name)} twice (give one a \`name\`)`,
      );
    }
    seen.add(rule.name);
  });
  return Object.freeze([...(rules as Rule<A>[])]);
}

/**
 * Options of {@link judge}.
 *
 * @category models
 * @since 0.1.0
 */
export interface JudgeOptions {
  /**
   * The clock rules read (freshness) and stamp remembered values with.
   * @default systemClock
   */
  readonly clock?: Clock;
  /**
   * Called when a rule's store fails; the rule then passes or rejects as it was configured.
   * @default nothing is called
   */
  readonly onStoreError?: (rule: string, error: unknown) => void;
}

/**
 * Judges decoded values with data-quality rules, the fp-ts way: a `TaskEither` that is `Right`
 * with the same value when every rule passed, `Left` with a {@link DataQualityError} otherwise.
 *
 * @param rules - The rules, in the order their violations are listed.
 * @throws `RangeError` when two rules share a name.
 *
 * @example
 * ```ts
 * import { pipe } from 'fp-ts/lib/function.js';
 * import * as TE from 'fp-ts/lib/TaskEither.js';
 * import * as t from 'io-ts';
 * const checkPrice = judge([range({ value: (n: number) => n, min: 0, max: 500 })]);
 * const program = (input: unknown) =>
 *   pipe(TE.fromEither(decode(t.number)(input)), TE.chainW(checkPrice));
 * assert.deepEqual(await program(72)(), { _tag: 'Right', right: 72 });
 * const left = await program(9999)();
 * assert.ok(left._tag === 'Left' && isDataQualityError(left.left));
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function judge<A>(
  rules: readonly Rule<A>[],
  options: JudgeOptions = {},
): (value: A) => TaskEither<DataQualityError, A> {
  const checked = checkRules<A>(rules);
  const report = options.onStoreError;
  const env: RuleEnvironment = {
    clock: options.clock ?? systemClock,
    storeError: (rule, error) => report?.(rule, error),
  };
  return (value) => async () => {
    const violations = await judgeLater(checked, value, env);
    return violations === undefined ? E.right(value) : E.left(new DataQualityError(violations, 'judge'));
  };
}
