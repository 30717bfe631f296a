/**
 * Checks for policy options, run once at construction.
 *
 * Each check returns the value (or the default when the option is absent) and throws a `TypeError`
 * for a value of the wrong type or a `RangeError` for one out of range. Messages name the option,
 * the expected form and the value received:
 * ``@bulwark/retry: expected `maxAttempts` to be an integer >= 1, got -1 (number)``.
 *
 * @module
 */

import type { Clock } from './clock.js';

/** A class of errors, matched with `instanceof`. */
type ErrorClass = abstract new (...args: never[]) => unknown;

/**
 * Which errors a policy acts on (retries, counts, falls back from): a predicate, or error classes
 * (`instanceof` any of them).
 *
 * @category models
 * @since 0.1.0
 */
export type ErrorFilter = ((error: unknown) => boolean) | readonly ErrorClass[];

/**
 * Renders a received value for an error message: short, and never the contents of an object (which
 * may hold a secret).
 *
 * @example
 * ```ts
 * assert.equal(describeValue(-1), '-1 (number)');
 * assert.equal(describeValue({ apiKey: 'secret' }), 'an object');
 * assert.equal(describeValue('x'.repeat(50)), `"${'x'.repeat(40)}…" (string)`);
 * ```
 *
 * @category utils
 * @since 0.1.0
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} (string)`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)} (${typeof value})`;
  }
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `an object`;
}

/** What kind of character `char` is, without showing it. */
const kindOf = (char: string): string =>
  char === '\n' || char === '\r'
    ? 'a line break'
    : char === ' '
      ? 'a space'
      : char.charCodeAt(0) < 0x20 || char === '\x7f'
        ? 'a control character'
        : 'a character outside ASCII';

/**
 * A checker of one package's options: every message starts with the package's name.
 *
 * @example
 * ```ts
 * const check = optionChecker('@bulwark/example');
 * assert.equal(check.integer('attempts', 3, undefined, { min: 1 }), 3);
 * assert.equal(check.integer('attempts', undefined, 5, { min: 1 }), 5);
 * assert.throws(() => check.integer('attempts', -1, 5, { min: 1 }), RangeError);
 * assert.throws(() => check.integer('attempts', '3', 5, { min: 1 }), TypeError);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function optionChecker(packageName: string): OptionChecker {
  const fail = (Kind: typeof TypeError | typeof RangeError, name: string, expected: string, value: unknown): never => {
    throw new Kind(`${packageName}: expected \`${name}\` to be ${expected}, got ${describeValue(value)}`);
  };
  const range = (min: number | undefined, max: number | undefined): string =>
    min !== undefined && max !== undefined
      ? ` in [${min}, ${max}]`
      : min !== undefined
        ? ` >= ${min}`
        : max !== undefined
          ? ` <= ${max}`
          : '';

  const checker: OptionChecker = {
    fail(name, expected, value) {
      return fail(RangeError, name, expected, value);
    },
    number(name, value, fallback, bounds = {}) {
      if (value === undefined) return fallback;
      const { min, max, finite = true } = bounds;
      const expected = `a ${finite ? 'finite ' : ''}number${range(min, max)}`;
      if (typeof value !== 'number') return fail(TypeError, name, expected, value);
      if (Number.isNaN(value) || (finite && !Number.isFinite(value))) return fail(RangeError, name, expected, value);
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        return fail(RangeError, name, expected, value);
      }
      return value;
    },
    integer(name, value, fallback, bounds = {}) {
      if (value === undefined) return fallback;
      const { min, max } = bounds;
      const expected = `an integer${range(min, max)}`;
      if (typeof value !== 'number') return fail(TypeError, name, expected, value);
      if (!Number.isSafeInteger(value)) return fail(RangeError, name, expected, value);
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        return fail(RangeError, name, expected, value);
      }
      return value;
    },
    boolean(name, value, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'boolean') return fail(TypeError, name, 'a boolean', value);
      return value;
    },
    string(name, value, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'string') return fail(TypeError, name, 'a string', value);
      return value;
    },
    func(name, value, fallback) {
      return value === undefined ? fallback : checker.method<never>(name, value);
    },
    secret(name, value) {
      if (typeof value !== 'string' || value.length === 0) {
        throw new TypeError(`${packageName}: expected \`${name}\` to be a non-empty string (value not shown)`);
      }
      const stray = /[^\x21-\x7e]/.exec(value)?.[0];
      if (stray !== undefined) {
        throw new RangeError(
          `${packageName}: expected \`${name}\` to be a key of visible ASCII characters, got one with ${kindOf(stray)} (value not shown)`,
        );
      }
      return value;
    },
    method(name, value) {
      if (typeof value !== 'function') return fail(TypeError, name, 'a function', value);
      return value as never;
    },
    oneOf(name, value, fallback, allowed) {
      if (value === undefined) return fallback;
      if (!allowed.includes(value as never)) {
        return fail(
          typeof value === 'string' ? RangeError : TypeError,
          name,
          `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
          value,
        );
      }
      return value as (typeof allowed)[number];
    },
    errorFilter(name, value) {
      if (value === undefined) return undefined;
      if (Array.isArray(value)) {
        if (value.length === 0 || !value.every((c) => typeof c === 'function')) {
          return fail(TypeError, name, 'a predicate or a non-empty array of error classes', value);
        }
        const classes = (value as ErrorClass[]).slice();
        return (error: unknown) => classes.some((c) => error instanceof c);
      }
      if (typeof value !== 'function') return fail(TypeError, name, 'a predicate or an array of error classes', value);
      return value as (error: unknown) => boolean;
    },
    clock(name, value, fallback, uses) {
      const clock = value === undefined ? fallback : value;
      if (typeof clock !== 'object' || clock === null) return fail(TypeError, name, 'a Clock', value);
      const methods: Partial<Record<keyof Clock, unknown>> = clock;
      for (const method of uses) {
        if (typeof methods[method] !== 'function') {
          return fail(TypeError, `${name}.${method}`, 'a function', methods[method]);
        }
      }
      return clock as Clock;
    },
    object(name, value) {
      if (value === undefined) return {};
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return fail(TypeError, name, 'an object', value);
      }
      return value;
    },
  };
  return checker;
}

/**
 * The checks made by {@link optionChecker}. Each returns `fallback` when `value` is `undefined`.
 *
 * @category models
 * @since 0.1.0
 */
export interface OptionChecker {
  /** Throws a `RangeError` for a rule the other checks cannot express. */
  fail(name: string, expected: string, value: unknown): never;
  /** A number, finite unless `finite: false`, within the bounds (inclusive). */
  number<F extends number | undefined>(
    name: string,
    value: unknown,
    fallback: F,
    bounds?: { min?: number; max?: number; finite?: boolean },
  ): number | F;
  /** A safe integer within the bounds (inclusive). */
  integer<F extends number | undefined>(
    name: string,
    value: unknown,
    fallback: F,
    bounds?: { min?: number; max?: number },
  ): number | F;
  boolean<F extends boolean | undefined>(name: string, value: unknown, fallback: F): boolean | F;
  string<F extends string | undefined>(name: string, value: unknown, fallback: F): string | F;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any callable is accepted; callers narrow it
  func<T extends (...args: any[]) => unknown, F extends T | undefined>(
    name: string,
    value: unknown,
    fallback: F,
  ): T | F;
  /**
   * A secret that goes into a header (an API key): a non-empty string of visible ASCII. The value is
   * never shown in the error; a stray character is named by its kind (a line break, a space…).
   * Checked at construction because `fetch` and undici refuse such a header on every request, and
   * `fetch` quotes the value in its error.
   */
  secret(name: string, value: unknown): string;
  /** A function that must be there (a method of an object given as an option): no fallback. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any callable is accepted; callers narrow it
  method<T extends (...args: any[]) => unknown>(name: string, value: unknown): T;
  oneOf<const A extends readonly (string | number)[], F extends A[number] | undefined>(
    name: string,
    value: unknown,
    fallback: F,
    allowed: A,
  ): A[number] | F;
  /** An {@link ErrorFilter} as a predicate (`undefined` when absent). */
  errorFilter(name: string, value: unknown): ((error: unknown) => boolean) | undefined;
  /**
   * A {@link Clock} with the methods the policy `uses` (each named in the error, as `clock.now`): a
   * clock that lacks one fails here, not in the middle of a call.
   */
  clock(name: string, value: unknown, fallback: Clock, uses: readonly (keyof Clock)[]): Clock;
  /** The options object itself: `{}` when absent, a `TypeError` when not a plain object. */
  object(name: string, value: unknown): object;
}

/**
 * A user's predicate (an error filter, a result check) made safe for the call path: when it throws,
 * it answers `fallback`, and the error is thrown again on a later tick, where it surfaces as the bug
 * it is, instead of failing the call it judged or leaving it unsettled.
 *
 * @example
 * ```ts
 * const isServerError = guardedPredicate((error) => (error as { status: number }).status >= 500, false);
 * assert.equal(isServerError({ status: 503 }), true);
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export function guardedPredicate(
  predicate: (value: unknown) => boolean,
  fallback: boolean,
): (value: unknown) => boolean {
  return (value) => {
    try {
      return Boolean(predicate(value));
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
      return fallback;
    }
  };
}
