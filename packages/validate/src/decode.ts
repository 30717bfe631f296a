/**
 * Decoding untrusted values with io-ts, failure as data.
 *
 * `decode(codec)` is io-ts's own `codec.decode` behind an input guard: the guard walks the value
 * once, without recursion, and refuses values nested deeper than `maxDepth`, holding more than
 * `maxNodes` values, or holding an own `__proto__` key (which some io-ts combinators would turn into
 * the prototype of the decoded object). A codec that throws (a custom one, or the stack running out
 * in one the guard was told to skip) is a failure too, never an exception.
 *
 * Laws: for a value within the limits, `decode(codec)(value)` is a `Right` exactly when
 * `codec.decode(value)` is, holding the same value; a value outside them is always a `Left`; the
 * function never throws.
 *
 * @module
 */

import { optionChecker } from '@bulwark/core/options';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

import { inspectInput, MAX_GUARD_DEPTH, type GuardLimits, type GuardProblem } from './internal/guard.js';
import { failureOf, type DecodeFailure } from './tree.js';

/**
 * How much untrusted input a decode accepts before the codec sees it.
 *
 * @category models
 * @since 0.1.0
 */
export interface DecodeOptions {
  /**
   * The deepest nesting of arrays and objects accepted (`{ a: 1 }` nests 1 deep), at most 1000.
   * @default 64
   */
  readonly maxDepth?: number;
  /**
   * The most values (containers and primitives, the root included) accepted in one input.
   * @default 1_000_000
   */
  readonly maxNodes?: number;
  /**
   * Skips the input guard: no depth, size or `__proto__` checks. Only for input that is trusted or
   * already checked; a deep input can then exhaust the stack (reported as a `codec-threw` failure).
   * @default false
   */
  readonly unsafeSkipInputGuard?: boolean;
}

/** The checked limits, or `undefined` when the guard is skipped. */
export type CheckedLimits = GuardLimits | undefined;

/** @internal Checks {@link DecodeOptions} once; `packageName` prefixes the messages. */
export function checkDecodeOptions(options: DecodeOptions, packageName = '@bulwark/validate'): CheckedLimits {
  const check = optionChecker(packageName);
  const maxDepth = check.integer('maxDepth', options.maxDepth, 64, { min: 1, max: MAX_GUARD_DEPTH });
  const maxNodes = check.number('maxNodes', options.maxNodes, 1_000_000, { min: 1, finite: false });
  if (!Number.isInteger(maxNodes) && maxNodes !== Number.POSITIVE_INFINITY) {
    check.fail('maxNodes', 'an integer >= 1 or Infinity', maxNodes);
  }
  const skip = check.boolean('unsafeSkipInputGuard', options.unsafeSkipInputGuard, false);
  return skip ? undefined : { maxDepth, maxNodes };
}

const limitType = (name: string): t.Decoder<unknown, never> =>
  new t.Type<never, never, unknown>(
    name,
    (_: unknown): _ is never => false,
    (u, c) => t.failure(u, c),
    (a) => a,
  );

/** io-ts errors for a guard problem, so that the tree and io-ts's reporters both show it. */
function guardFailure(
  codec: t.Decoder<unknown, unknown>,
  input: unknown,
  found: GuardProblem,
  limits: GuardLimits,
): DecodeFailure {
  const context: t.ContextEntry[] = [{ key: '', type: codec, actual: input }];
  let value: unknown = input;
  let message: string;
  const steps = found.path.length;
  for (let i = 0; i < steps; i++) {
    value = (value as Record<string | number, unknown>)[found.path[i] as string | number];
    const last = i === steps - 1 && found.kind === 'depth';
    context.push({
      key: String(found.path[i]),
      type: last ? limitType(`at most ${limits.maxDepth} levels of nesting`) : t.unknown,
      actual: value,
    });
  }
  switch (found.kind) {
    case 'depth':
      message = `nested deeper than ${limits.maxDepth} levels (maxDepth)`;
      break;
    case 'size':
      message = `holds more than ${limits.maxNodes} values (maxNodes)`;
      break;
    case 'proto-key': {
      const own = Object.getOwnPropertyDescriptor(found.actual, '__proto__');
      context.push({ key: '__proto__', type: limitType('no __proto__ key'), actual: own?.value });
      message = 'a __proto__ key could replace the prototype of the decoded object';
      break;
    }
  }
  const reason = found.kind === 'depth' ? 'too-deep' : found.kind === 'size' ? 'too-large' : 'proto-key';
  return failureOf(codec, input, [{ value: context[context.length - 1]?.actual, context, message }], reason);
}

function threwFailure(codec: t.Decoder<unknown, unknown>, input: unknown, error: unknown): DecodeFailure {
  const detail =
    error instanceof RangeError && /call stack/i.test(error.message)
      ? 'the codec ran out of stack (is the input nested too deeply?)'
      : `the codec threw ${error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : 'a non-error'}`;
  return failureOf(
    codec,
    input,
    [{ value: input, context: [{ key: '', type: codec, actual: input }], message: detail }],
    'codec-threw',
  );
}

/**
 * Runs `codec` on `input` behind the guard `limits` (none when `undefined`).
 *
 * @internal The function behind {@link decode} and the policy, with options already checked.
 */
export function decodeWith<A>(
  codec: t.Decoder<unknown, A>,
  limits: CheckedLimits,
  input: unknown,
): E.Either<DecodeFailure, A> {
  try {
    if (limits !== undefined) {
      const found = inspectInput(input, limits);
      if (found !== undefined) return E.left(guardFailure(codec, input, found, limits));
    }
    const result = codec.decode(input);
    return E.isRight(result) ? result : E.left(failureOf(codec, input, result.left));
  } catch (error) {
    return E.left(threwFailure(codec, input, error));
  }
}

/**
 * Makes a decoder of untrusted input: io-ts's `codec.decode` behind the input guard, with every
 * failure as a tree of failing paths on the `Left`.
 *
 * @param codec - Any io-ts codec (or decoder) from `unknown`.
 * @param options - The guard's limits; checked here, once.
 * @returns A function that never throws.
 * @throws `TypeError` or `RangeError` naming the option, for a bad option.
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * import * as E from 'fp-ts/lib/Either.js';
 * const Price = t.type({ code: t.string, price: t.number });
 * const decodePrice = decode(Price);
 * assert.deepEqual(decodePrice({ code: 'WTI_USD', price: 71.2 }), E.right({ code: 'WTI_USD', price: 71.2 }));
 * const bad = decodePrice(JSON.parse('{"code":"WTI_USD","price":1,"__proto__":{"admin":true}}'));
 * assert.ok(E.isLeft(bad) && bad.left.reason === 'proto-key');
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function decode<A>(
  codec: t.Decoder<unknown, A>,
  options: DecodeOptions = {},
): (input: unknown) => E.Either<DecodeFailure, A> {
  if (!(codec instanceof t.Type) && typeof (codec as Partial<t.Decoder<unknown, A>>)?.decode !== 'function') {
    optionChecker('@bulwark/validate').fail('codec', 'an io-ts codec', codec);
  }
  optionChecker('@bulwark/validate').object('options', options);
  const limits = checkDecodeOptions(options);
  return (input) => decodeWith(codec, limits, input);
}
