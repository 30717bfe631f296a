/**
 * The validate policy: decodes what a task returns with an io-ts codec, then judges it with
 * data-quality rules; a result that fails either never reaches the caller (or a cache outside).
 *
 * With synchronous rules only (range, freshness, predicates, a maximum change on the memory store)
 * the policy is a gate: it rewrites the call's outcome on the way out, in the same promise hop as
 * the gates around it. A rule with an asynchronous store (a Keyv on Redis) makes it a decorator,
 * which awaits the store.
 *
 * Laws: the policy resolves exactly the values its codec accepts and its rules pass, as the codec
 * decoded them (the task's own value when the codec changes nothing); it rejects with a
 * `ValidationError` exactly when `decode(codec)` fails, else with a `DataQualityError` exactly when
 * a rule is broken; the task's own errors pass through untouched.
 *
 * @module
 */

import {
  definePolicy,
  Emitter,
  PASS,
  systemClock,
  type Clock,
  type Context,
  type ExecuteOptions,
  type Gate,
  type Layer,
  type Outcome,
  type Policy,
  type PolicyEvent,
  type Task,
  type WrapOptions,
} from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

import { checkDecodeOptions, decodeWith, type DecodeOptions } from './decode.js';
import { DataQualityError, ValidationError, type Violation } from './errors.js';
import { checkRules, judgeLater, judgeNow, RuleCrash, type Rule, type RuleEnvironment } from './rule.js';
import type { DecodeFailure } from './tree.js';

/**
 * A result did not decode. Emitted once per rejected call.
 *
 * @category events
 * @since 0.1.0
 */
export interface InvalidEvent extends PolicyEvent {
  readonly type: 'invalid';
  readonly context: Context;
  /** The tree of every failing path. */
  readonly failure: DecodeFailure;
}

/**
 * A decoded result broke a rule. Emitted once per broken rule.
 *
 * @category events
 * @since 0.1.0
 */
export interface QualityViolationEvent extends PolicyEvent, Violation {
  readonly type: 'quality-violation';
  readonly context: Context;
}

/**
 * A rule's store (the last good values) failed or did not answer in time.
 *
 * @category events
 * @since 0.1.0
 */
export interface StoreErrorEvent extends PolicyEvent {
  readonly type: 'store-error';
  /** The rule whose store failed. */
  readonly rule: string;
  readonly error: unknown;
}

/**
 * The events of a validate policy.
 *
 * @category events
 * @since 0.1.0
 */
export type ValidateEvent = InvalidEvent | QualityViolationEvent | StoreErrorEvent;

/**
 * Options of {@link validate}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ValidateOptions<A> extends DecodeOptions {
  /**
   * The policy's name in events, errors and reports.
   * @default 'validate'
   */
  readonly name?: string;
  /**
   * Data-quality rules for the decoded value, judged in this order; their names must be distinct.
   * @default []
   */
  readonly rules?: readonly Rule<A>[];
  /**
   * The clock rules read (freshness: it must read epoch milliseconds) and stamp last good values with.
   * @default systemClock
   */
  readonly clock?: Clock;
}

/**
 * A validate policy: a {@link Policy} that also knows the type of what it lets through.
 *
 * `execute`, `wrap` and `decorate` keep core's types (the task's type in, the same type out);
 * the `…Decoded` forms type the result as the codec's instead.
 *
 * @category models
 * @since 0.1.0
 */
export interface ValidatePolicy<A> extends Policy<ValidateEvent> {
  /** The codec results are decoded with. */
  readonly codec: t.Decoder<unknown, A>;
  /** The rules decoded results are judged with. */
  readonly rules: readonly Rule<A>[];
  /** Whether the policy runs as a gate (every rule synchronous) rather than a decorator. */
  readonly isGate: boolean;
  /** Runs `task` under the policy; resolves the decoded value. */
  executeDecoded(task: Task<unknown>, options?: AbortSignal | ExecuteOptions): Promise<A>;
  /** Wraps `fn` so that each call resolves its decoded result. */
  wrapDecoded<Args extends unknown[]>(
    fn: (...args: Args) => PromiseLike<unknown>,
    options?: WrapOptions<Args>,
  ): (...args: Args) => Promise<A>;
  /** Decorates `task` so that it resolves its decoded result. */
  decorateDecoded(task: Task<unknown>): Task<A>;
}

const PACKAGE = '@bulwark/validate';

/**
 * Makes a policy that decodes a task's result with `codec` and judges it with `rules`.
 *
 * @param codec - An io-ts codec (or decoder) from `unknown`.
 * @param options - Rules, input limits, name and clock; checked here, once.
 * @throws `TypeError`/`RangeError` naming the option, for a bad codec, rule or option.
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * const Quote = t.type({ code: t.string, price: t.number });
 * const quotes = validate(Quote, {
 *   rules: [range({ value: (q: t.TypeOf<typeof Quote>) => q.price, min: 0, max: 500 })],
 * });
 * const fetchQuote = quotes.wrapDecoded(async (code: string) => ({ code, price: 72.5 }));
 * assert.deepEqual(await fetchQuote('BRENT_CRUDE_USD'), { code: 'BRENT_CRUDE_USD', price: 72.5 });
 * await assert.rejects(quotes.execute(async () => ({ code: 'X', price: '72.5' })), isValidationError);
 * await assert.rejects(quotes.execute(async () => ({ code: 'X', price: 7250 })), isDataQualityError);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function validate<A>(codec: t.Decoder<unknown, A>, options: ValidateOptions<A> = {}): ValidatePolicy<A> {
  const check = optionChecker(PACKAGE);
  if (!(codec instanceof t.Type) && typeof (codec as Partial<t.Decoder<unknown, A>> | null)?.decode !== 'function') {
    check.fail('codec', 'an io-ts codec', codec);
  }
  check.object('options', options);
  const name = check.string('name', options.name, 'validate');
  const limits = checkDecodeOptions(options);
  const rules = checkRules<A>(options.rules);
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function')
    check.fail('clock', 'a Clock', clock);
  const emitter = new Emitter<ValidateEvent>();

  const env: RuleEnvironment = {
    clock,
    storeError(rule, error) {
      if (emitter.active) emitter.emit({ type: 'store-error', policy: name, rule, error });
    },
  };

  const invalid = (failure: DecodeFailure, ctx: Context): ValidationError => {
    if (emitter.active) emitter.emit({ type: 'invalid', policy: name, context: ctx, failure });
    return new ValidationError(failure, name);
  };

  const unbelievable = (violations: [Violation, ...Violation[]], ctx: Context): DataQualityError => {
    if (emitter.active) {
      for (const violation of violations) {
        emitter.emit({ type: 'quality-violation', policy: name, context: ctx, ...violation });
      }
    }
    return new DataQualityError(violations, name);
  };

  const isGate = rules.every((rule) => rule.synchronous);
  const judged = rules.length > 0;
  let layer: Layer;
  if (isGate) {
    const settle = (outcome: Outcome, ctx: Context): void => {
      const decoded = decodeWith(codec, limits, outcome.value);
      if (E.isLeft(decoded)) {
        outcome.ok = false;
        outcome.value = invalid(decoded.left, ctx);
        return;
      }
      const value = decoded.right;
      const verdict = judged ? judgeNow(rules, value, env) : undefined;
      if (verdict === undefined) {
        outcome.value = value;
        return;
      }
      outcome.ok = false;
      // A rule's own bug is the call's error as it was thrown, not a judgement on the data.
      outcome.value = verdict instanceof RuleCrash ? verdict.error : unbelievable(verdict, ctx);
    };
    const gate: Gate<undefined> = {
      enter: () => undefined,
      exit(_token, outcome, inner) {
        if (!outcome.ok) return PASS;
        // An exit must not throw (the gates outside would not be exited): whatever goes wrong here
        // (a listener's error is already contained by the emitter) becomes the call's error.
        try {
          settle(outcome, inner);
        } catch (error) {
          outcome.ok = false;
          outcome.value = error;
        }
        return PASS;
      },
    };
    layer = { gate };
  } else {
    layer = {
      decorate:
        <R>(next: Task<R>): Task<R> =>
        async (ctx) => {
          const decoded = decodeWith(codec, limits, await next(ctx));
          if (E.isLeft(decoded)) throw invalid(decoded.left, ctx);
          const value = decoded.right;
          const violations = await judgeLater(rules, value, env);
          if (violations !== undefined) throw unbelievable(violations, ctx);
          return value as unknown as R;
        },
    };
  }

  const policy = definePolicy<ValidateEvent>(name, [layer], emitter);
  return Object.assign(policy, {
    codec,
    rules,
    isGate,
    executeDecoded: (task: Task<unknown>, executeOptions?: AbortSignal | ExecuteOptions): Promise<A> =>
      policy.execute(task, executeOptions) as Promise<A>,
    wrapDecoded: <Args extends unknown[]>(
      fn: (...args: Args) => PromiseLike<unknown>,
      wrapOptions?: WrapOptions<Args>,
    ): ((...args: Args) => Promise<A>) =>
      // The same function as `wrap` makes; only the result type changes.
      policy.wrap(fn as unknown as (...args: never[]) => Promise<unknown>, wrapOptions as never) as unknown as (
        ...args: Args
      ) => Promise<A>,
    decorateDecoded: (task: Task<unknown>): Task<A> => policy.decorate(task) as Task<A>,
  });
}
