/**
 * The errors `@bulwark/validate` produces: a result that does not decode (`Validation`) and a
 * decoded result that breaks a data-quality rule (`DataQuality`). Neither is retryable: the same
 * call is expected to return the same bad data.
 *
 * Messages are bounded: values are cut short, never printed whole.
 *
 * @module
 */

import { BulwarkError, tagGuard } from '@bulwark/core';

import { preview } from './internal/preview.js';
import { formatPaths, type DecodeFailure } from './tree.js';

/**
 * A task's result did not decode with the policy's codec, or the input guard stopped it first.
 *
 * `tree` holds every failing path; render it with `formatTree` or `formatPaths`.
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * const strict = validate(t.type({ price: t.number }));
 * const error = await strict.execute(async () => ({ price: 'n/a' })).catch((e: unknown) => e);
 * assert.ok(isValidationError(error));
 * assert.equal(error.retryable, false);
 * assert.equal(error.tree.children[0]?.path, '$.price');
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class ValidationError extends BulwarkError<'Validation'> {
  readonly retryable = false;
  /** The tree of every failing path, with io-ts's own errors. */
  readonly tree: DecodeFailure;
  /** The name of the policy that rejected the result. */
  readonly policy: string;

  constructor(tree: DecodeFailure, policy = 'validate') {
    const lines = formatPaths(tree, { maxLines: 3, maxValueLength: 40, maxTypeLength: 60 });
    const what = tree.count === 1 ? '1 problem' : `${tree.count} problems`;
    const codec = tree.expected.length > 60 ? `${tree.expected.slice(0, 60)}…` : tree.expected;
    super('Validation', `@bulwark/validate: the result is not a valid ${codec} (${what}): ${lines.join('; ')}`);
    this.tree = tree;
    this.policy = policy;
  }
}

/**
 * One broken data-quality rule: which rule, for which key, the value it judged and the bound it
 * broke.
 *
 * @category models
 * @since 0.1.0
 */
export interface Violation {
  /** The rule's name, e.g. `'range'`, `'max-change'`, `'freshness'`. */
  readonly rule: string;
  /** The key the rule judged the value under (a commodity code), if it is keyed. */
  readonly key: string | undefined;
  /** The value judged (a price, a timestamp), not the whole result. */
  readonly value: unknown;
  /**
   * The bound it broke, as data: `{ min, max }` for a range, `{ previous, maxRatio, maxDelta }` for a
   * change, `{ maxAgeMs, maxFutureMs }` for freshness, or what a custom rule says.
   */
  readonly bound: unknown;
  /** The same for people, e.g. `'outside [10, 300]'`. */
  readonly reason: string;
}

/**
 * A decoded result broke one or more data-quality rules.
 *
 * `rule`, `key`, `value`, `bound` and `reason` are those of the first violation; `violations` lists one per
 * broken rule, in the order the rules were given.
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * const sane = validate(t.number, { rules: [range({ value: (n: number) => n, min: 0, max: 500 })] });
 * const error = await sane.execute(async () => 9999).catch((e: unknown) => e);
 * assert.ok(isDataQualityError(error));
 * assert.equal(error.rule, 'range');
 * assert.equal(error.value, 9999);
 * assert.deepEqual(error.bound, { min: 0, max: 500 });
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class DataQualityError extends BulwarkError<'DataQuality'> {
  readonly retryable = false;
  /** The first broken rule's name. */
  readonly rule: string;
  /** The key the first broken rule judged under, if any. */
  readonly key: string | undefined;
  /** The value the first broken rule judged. */
  readonly value: unknown;
  /** The bound the first broken rule holds. */
  readonly bound: unknown;
  /** Why the first broken rule rejected the value, for people. */
  readonly reason: string;
  /** Every violation, one per broken rule. */
  readonly violations: readonly Violation[];
  /** The name of the policy that rejected the result. */
  readonly policy: string;

  constructor(violations: readonly [Violation, ...Violation[]], policy = 'validate') {
    const first = violations[0];
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
    const key = first.key !== undefined ? ` for ${preview(first.key, 40)}` : '';
    super(
      'DataQuality',
      `@bulwark/validate: rule "${first.rule}" rejected ${preview(first.value, 40)}${key}: ${first.reason}${more}`,
    );
    this.rule = first.rule;
    this.key = first.key;
    this.value = first.value;
    this.bound = first.bound;
    this.reason = first.reason;
    this.violations = violations;
    this.policy = policy;
  }
}

/**
 * Whether `value` is a {@link ValidationError} (of any copy of this package).
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * const error = await validate(t.number).execute(async () => 'one').catch((e: unknown) => e);
 * assert.ok(isValidationError(error) && error.tree.reason === 'invalid');
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isValidationError = tagGuard<ValidationError>('Validation');

/**
 * Whether `value` is a {@link DataQualityError} (of any copy of this package).
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * const positive = validate(t.number, { rules: [range({ value: (n: number) => n, min: 0 })] });
 * const error = await positive.execute(async () => -1).catch((e: unknown) => e);
 * assert.ok(isDataQualityError(error) && error.rule === 'range');
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isDataQualityError = tagGuard<DataQualityError>('DataQuality');

/**
 * Whether `value` says a result was rejected as invalid or unbelievable: a {@link ValidationError}
 * or a {@link DataQualityError}. Give it to a cache's stale-if-error predicate to serve a
 * stale-but-valid value in place of a rejected one.
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * const error = await validate(t.string).execute(async () => 42).catch((e: unknown) => e);
 * assert.ok(isInvalidResult(error));
 * assert.ok(!isInvalidResult(new Error('socket hang up')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export function isInvalidResult(value: unknown): value is ValidationError | DataQualityError {
  return isValidationError(value) || isDataQualityError(value);
}
