/**
 * fast-check arbitraries for testing policies: outcome schedules, tasks that follow them, option
 * values (good and bad) and small generated policies for the composition laws.
 *
 * @module
 */

import { definePolicy, PASS, type Context, type Policy, type Task } from '@bulwark/core';
import fc from 'fast-check';

import type { VirtualClock } from './virtual-clock.js';

/**
 * One planned call of a scheduled task: whether it succeeds, and after how long.
 *
 * @category testing
 * @since 0.1.0
 */
export interface PlannedOutcome {
  readonly ok: boolean;
  readonly latencyMs: number;
}

/**
 * Schedules of call outcomes: successes and failures with latencies.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * fc.assert(fc.property(outcomeSchedule({ maxLength: 5 }), (schedule) => schedule.length <= 5));
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function outcomeSchedule(
  options: { minLength?: number; maxLength?: number; maxLatencyMs?: number; failureWeight?: number } = {},
): fc.Arbitrary<PlannedOutcome[]> {
  const { minLength = 0, maxLength = 20, maxLatencyMs = 1000, failureWeight = 1 } = options;
  const outcome = fc.record({
    ok: fc.oneof({ arbitrary: fc.constant(true), weight: 1 }, { arbitrary: fc.constant(false), weight: failureWeight }),
    latencyMs: fc.integer({ min: 0, max: maxLatencyMs }),
  });
  return fc.array(outcome, { minLength, maxLength });
}

/**
 * The error a scheduled task fails with.
 *
 * @example
 * ```ts
 * import { noop } from '@bulwark/core';
 * const clock = new VirtualClock();
 * const { task } = scheduledTask([{ ok: false, latencyMs: 0 }], clock);
 * const error = await noop.execute(task).catch((e: unknown) => e);
 * assert.ok(error instanceof PlannedFailure && error.call === 0);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export class PlannedFailure extends Error {
  constructor(readonly call: number) {
    super(`planned failure of call ${call}`);
    this.name = 'PlannedFailure';
  }
}

/**
 * A task that follows a schedule, and what it did.
 *
 * @category testing
 * @since 0.1.0
 */
export interface ScheduledTask {
  /** Call `n` (from 0) waits `schedule[n].latencyMs` on the clock, then resolves `{ call: n }` or rejects with a {@link PlannedFailure}. Calls beyond the schedule succeed at once. */
  readonly task: Task<{ readonly call: number }>;
  /** How many times the task was called. */
  readonly calls: () => number;
  /** Every value the task resolved, in order. */
  readonly produced: readonly { readonly call: number }[];
  /** The contexts it was called with. */
  readonly contexts: readonly Context[];
}

/**
 * Makes a task that follows `schedule` on `clock`, honouring its context's signal while it waits.
 *
 * @example
 * ```ts
 * import { noop } from '@bulwark/core';
 * const clock = new VirtualClock();
 * const { task, calls, produced } = scheduledTask([{ ok: true, latencyMs: 2_000 }, { ok: false, latencyMs: 0 }], clock);
 * assert.deepEqual(await clock.run(noop.execute(task)), { call: 0 }); // after 2 s on the clock
 * await assert.rejects(noop.execute(task), PlannedFailure);
 * assert.equal(calls(), 2);
 * assert.deepEqual(produced, [{ call: 0 }]);
 * assert.equal(clock.now(), 2_000);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function scheduledTask(schedule: readonly PlannedOutcome[], clock: VirtualClock): ScheduledTask {
  let calls = 0;
  const produced: { call: number }[] = [];
  const contexts: Context[] = [];
  const task: Task<{ readonly call: number }> = async (ctx) => {
    const call = calls++;
    contexts.push(ctx);
    const planned = schedule[call] ?? { ok: true, latencyMs: 0 };
    if (planned.latencyMs > 0) await clock.sleep(planned.latencyMs, ctx.signal);
    if (!planned.ok) throw new PlannedFailure(call);
    const value = { call };
    produced.push(value);
    return value;
  };
  return { task, calls: () => calls, produced, contexts };
}

/**
 * Values an option of the given kind must reject: wrong types, NaN, infinities, negatives and
 * out-of-range numbers. Used to fuzz every policy's configuration.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { bulkhead } from '@bulwark/bulkhead';
 * fc.assert(
 *   fc.property(invalidOptionValue('positive-integer'), (capacity) => {
 *     assert.throws(() => bulkhead({ capacity: capacity as number }), /capacity/);
 *   }),
 * );
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function invalidOptionValue(
  kind: 'positive-integer' | 'non-negative-number' | 'ratio' | 'function',
): fc.Arbitrary<unknown> {
  const wrongTypes = fc.oneof(
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.object({ maxDepth: 1 }),
    fc.array(fc.integer(), { maxLength: 3 }),
  );
  const badNumbers = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
  switch (kind) {
    case 'positive-integer':
      return fc.oneof(
        wrongTypes,
        badNumbers,
        fc.integer({ max: 0 }),
        fc.double({ min: 0.01, max: 1e6, noNaN: true }).filter((n) => !Number.isInteger(n)),
      );
    case 'non-negative-number':
      return fc.oneof(
        wrongTypes,
        badNumbers,
        fc.double({ max: -Number.MIN_VALUE, noNaN: true, noDefaultInfinity: true }),
      );
    case 'ratio':
      return fc.oneof(
        wrongTypes,
        badNumbers,
        fc.double({ min: 1.000001, max: 1e9, noNaN: true }),
        fc.double({ max: -1e-9, noNaN: true, noDefaultInfinity: true }),
      );
    case 'function':
      return fc.oneof(wrongTypes, fc.integer());
  }
}

/**
 * What a callback from {@link hostileOptionValue} throws: an error of the caller's own, which a
 * policy must pass on untouched (never swallow, never turn into a crash of its own).
 *
 * @category testing
 * @since 0.1.0
 */
export class HostileCallbackError extends Error {
  constructor() {
    super('a hostile option callback threw');
    this.name = 'HostileCallbackError';
  }
}

/** Marks an option to leave out of the options object altogether (not even `undefined`). */
export const ABSENT: unique symbol = Symbol('absent option');

/**
 * Any value a careless or hostile configuration may hold, valid or not: nothing at all ({@link ABSENT}),
 * `undefined`, `null`, zero, negatives, fractions, NaN, infinities, numbers past the safe integers,
 * numeric and empty strings, booleans, bigints, symbols, arrays, objects (with a null prototype too),
 * dates, regular expressions, and functions that return nothing or throw a {@link HostileCallbackError}.
 *
 * Unlike {@link invalidOptionValue}, some of these are valid for some options: a fuzz test asserts
 * that a constructor either accepts a value and then works, or rejects it naming the option.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * const seen = fc.sample(hostileOptionValue(), { numRuns: 200, seed: 7 });
 * assert.ok(seen.some((value) => typeof value === 'number' && Number.isNaN(value)));
 * assert.ok(seen.some((value) => value === ABSENT));
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function hostileOptionValue(): fc.Arbitrary<unknown> {
  const numbers = fc.oneof(
    fc.constantFrom(
      0,
      -0,
      -1,
      1,
      0.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.MAX_SAFE_INTEGER + 2,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      -Number.MAX_VALUE,
    ),
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
    fc.double(),
  );
  const strings = fc.oneof(fc.constantFrom('', ' ', '0', '-1', 'NaN', 'Infinity', '1e3', 'true'), fc.string());
  const objects = fc.oneof(
    fc.constantFrom<unknown>({}, Object.create(null), new Date(Number.NaN), /x/g, new Map()),
    fc.object({ maxDepth: 1 }),
    fc.array(fc.oneof(fc.integer(), fc.string(), fc.constant(null)), { maxLength: 3 }),
  );
  const functions = fc.constantFrom<unknown>(
    () => undefined,
    () => Promise.resolve(undefined),
    () => {
      throw new HostileCallbackError();
    },
  );
  return fc.oneof(
    fc.constantFrom<unknown>(ABSENT, undefined, null, true, false, 10n, Symbol('hostile')),
    numbers,
    strings,
    objects,
    functions,
  );
}

/**
 * The description of a generated policy used by the composition laws; {@link toPolicy} builds it.
 *
 * @category testing
 * @since 0.1.0
 */
export type PolicySpec =
  | { readonly kind: 'trace'; readonly id: number }
  | { readonly kind: 'reject'; readonly id: number }
  | { readonly kind: 'retry'; readonly id: number; readonly times: number }
  | { readonly kind: 'map'; readonly id: number }
  | { readonly kind: 'pipeline'; readonly parts: readonly PolicySpec[] };

/**
 * Small policies that show their order and effect in a trace: gates that trace, reject or retry, and
 * decorators that change the value, nested in pipelines.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { noop, pipeline } from '@bulwark/core';
 * // A law of your own over generated policies: wrapping in noop changes nothing.
 * await fc.assert(
 *   fc.asyncProperty(policySpec, async (spec) => {
 *     const run = async (wrapInNoop: boolean) => {
 *       const trace: string[] = [];
 *       const policy = toPolicy(spec, trace, (parts) => pipeline(...parts));
 *       const outcome = await (wrapInNoop ? pipeline(noop, policy) : policy).execute(async () => 1).then(String, String);
 *       return [outcome, ...trace];
 *     };
 *     assert.deepEqual(await run(true), await run(false));
 *   }),
 *   { numRuns: 50 },
 * );
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export const policySpec: fc.Arbitrary<PolicySpec> = fc.letrec<{ spec: PolicySpec }>((tie) => ({
  spec: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('trace' as const), id: fc.nat(99) }),
    fc.record({ kind: fc.constant('reject' as const), id: fc.nat(99) }),
    fc.record({ kind: fc.constant('retry' as const), id: fc.nat(99), times: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('map' as const), id: fc.nat(99) }),
    fc.record({ kind: fc.constant('pipeline' as const), parts: fc.array(tie('spec'), { maxLength: 3 }) }),
  ),
})).spec;

/**
 * Builds the policy a {@link PolicySpec} describes, writing what it does into `trace`; `pipeline`
 * specs are built with `compose` so the laws can compare two ways of composing.
 *
 * @example
 * ```ts
 * import { pipeline } from '@bulwark/core';
 * import type { PolicySpec } from '@bulwark/testkit';
 * const trace: string[] = [];
 * const spec: PolicySpec = { kind: 'pipeline', parts: [{ kind: 'trace', id: 1 }, { kind: 'retry', id: 2, times: 1 }] };
 * const policy = toPolicy(spec, trace, (parts) => pipeline(...parts));
 * let calls = 0;
 * await policy.execute(async () => (++calls === 1 ? Promise.reject(new Error('once')) : calls));
 * assert.deepEqual(trace, ['>1', '~2', '<1:ok']);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function toPolicy(spec: PolicySpec, trace: string[], compose: (parts: Policy[]) => Policy): Policy {
  switch (spec.kind) {
    case 'trace':
      return definePolicy(`trace${spec.id}`, [
        {
          gate: {
            enter: () => void trace.push(`>${spec.id}`),
            exit: (_token, outcome) => {
              trace.push(`<${spec.id}:${outcome.ok ? 'ok' : 'fail'}`);
              return PASS;
            },
          },
        },
      ]);
    case 'reject':
      return definePolicy(`reject${spec.id}`, [
        {
          gate: {
            enter: () => {
              trace.push(`!${spec.id}`);
              throw new Error(`rejected by ${spec.id}`);
            },
            exit: () => PASS,
          },
        },
      ]);
    case 'retry': {
      return definePolicy(`retry${spec.id}`, [
        {
          gate: {
            enter: () => ({ left: spec.times }),
            exit: (token: { left: number }, outcome) => {
              if (outcome.ok || token.left === 0) return PASS;
              token.left -= 1;
              trace.push(`~${spec.id}`);
              return 0;
            },
          },
        },
      ]);
    }
    case 'map':
      return definePolicy(`map${spec.id}`, [
        {
          decorate:
            <A>(next: Task<A>): Task<A> =>
            async (ctx) => {
              trace.push(`[${spec.id}`);
              try {
                const value = await next(ctx);
                return { mapped: spec.id, value } as A;
              } finally {
                trace.push(`]${spec.id}`);
              }
            },
        },
      ]);
    case 'pipeline':
      return compose(spec.parts.map((part) => toPolicy(part, trace, compose)));
  }
}
