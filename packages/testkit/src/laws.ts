/**
 * Laws every policy must keep, as reusable fast-check properties.
 *
 * Like keyv's shared test suite, each function registers tests through the `test` function it is
 * given (Jest's `it`, Vitest's `test`, node:test's `test`), so a package proves a law in one line.
 * Assertions throw plain `Error`s; no runner's `expect` is needed.
 *
 * @module
 */

import { noop, pipeline, type Policy, type PolicyEvent, type Task } from '@bulwark/core';
import fc from 'fast-check';

import { outcomeSchedule, policySpec, scheduledTask, toPolicy, type PolicySpec } from './arbitraries.js';
import { VirtualClock, settle } from './virtual-clock.js';

/**
 * A test registration function: Jest's `it`, Vitest's `test` or node:test's `test`.
 *
 * @category testing
 * @since 0.1.0
 */
export type TestFn = (name: string, fn: () => Promise<void>, timeoutMs?: number) => void;

/** Options shared by the law suites. */
export interface LawOptions {
  /** fast-check runs per property. @default 100 */
  readonly numRuns?: number;
}

type Settled = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

const settledOf = (promise: Promise<unknown>): Promise<Settled> =>
  promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error: error instanceof Error ? error.message : String(error) }),
  );

function assertSame(label: string, left: unknown, right: unknown): void {
  const a = JSON.stringify(left);
  const b = JSON.stringify(right);
  if (a !== b) throw new Error(`${label}: ${a} !== ${b}`);
}

/** Runs a generated policy over a task that fails on the planned calls, recording everything. */
async function observe(
  spec: PolicySpec,
  failures: readonly boolean[],
  build: (spec: PolicySpec, trace: string[]) => Policy,
  run: (policy: Policy, task: Task<unknown>) => Promise<unknown>,
): Promise<{ trace: string[]; settled: Settled; calls: number }> {
  const trace: string[] = [];
  const policy = build(spec, trace);
  let calls = 0;
  const task: Task<unknown> = () => {
    const call = calls++;
    trace.push(`task${call}`);
    return failures[call] === true
      ? Promise.reject(new Error(`task failed on call ${call}`))
      : Promise.resolve({ call });
  };
  const settled = await settledOf(run(policy, task));
  return { trace, settled, calls };
}

const byPipeline = (spec: PolicySpec, trace: string[]): Policy => toPolicy(spec, trace, (parts) => pipeline(...parts));
const execute = (policy: Policy, task: Task<unknown>): Promise<unknown> => policy.execute(task);

/**
 * The monoid laws of `pipeline` and `noop`, over generated policies and tasks, plus the law that makes
 * fusion safe: a pipeline behaves exactly as its parts nested by `decorate`.
 *
 * @example
 * ```ts
 * // typecheck-only: registers Jest tests, from a file such as test/laws.test.ts
 * import { it } from '@jest/globals';
 * import { policyMonoidLaws } from '@bulwark/testkit';
 * policyMonoidLaws(it);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function policyMonoidLaws(test: TestFn, options: LawOptions = {}): void {
  const { numRuns = 100 } = options;
  const failures = fc.array(fc.boolean(), { maxLength: 8 });

  test('pipeline(noop, p) and pipeline(p, noop) behave as p', async () => {
    await fc.assert(
      fc.asyncProperty(policySpec, failures, async (spec, fails) => {
        const alone = await observe(spec, fails, byPipeline, execute);
        const left = await observe(spec, fails, (s, t) => pipeline(noop, byPipeline(s, t)), execute);
        const right = await observe(spec, fails, (s, t) => pipeline(byPipeline(s, t), noop), execute);
        assertSame('left identity', left, alone);
        assertSame('right identity', right, alone);
      }),
      { numRuns },
    );
  });

  test('pipeline is associative', async () => {
    await fc.assert(
      fc.asyncProperty(policySpec, policySpec, policySpec, failures, async (a, b, c, fails) => {
        const leftNested = await observe(
          { kind: 'pipeline', parts: [a, { kind: 'pipeline', parts: [b, c] }] },
          fails,
          byPipeline,
          execute,
        );
        const rightNested = await observe(
          { kind: 'pipeline', parts: [{ kind: 'pipeline', parts: [a, b] }, c] },
          fails,
          byPipeline,
          execute,
        );
        assertSame('associativity', leftNested, rightNested);
      }),
      { numRuns },
    );
  });

  test('pipeline(a, b) behaves as a.decorate(b.decorate(task))', async () => {
    const nested = (spec: PolicySpec, trace: string[]): Policy =>
      toPolicy(spec, trace, (parts) => {
        // Composition by hand: each part decorates what the parts after it made of the task.
        const decorate = <A>(task: Task<A>): Task<A> =>
          parts.reduceRight<Task<A>>((inner, part) => part.decorate(inner), task);
        const composed: Policy = {
          name: 'nested',
          layers: [],
          decorate,
          execute: <A>(task: Task<A>): Promise<A> => Promise.resolve().then(() => decorate(task)(rootless)),
          wrap: () => {
            throw new Error('not used by the laws');
          },
          wrapWithContext: () => {
            throw new Error('not used by the laws');
          },
          onEvent: () => () => undefined,
        };
        return composed;
      });
    await fc.assert(
      fc.asyncProperty(fc.array(policySpec, { maxLength: 4 }), failures, async (parts, fails) => {
        const spec: PolicySpec = { kind: 'pipeline', parts };
        const fused = await observe(spec, fails, byPipeline, execute);
        const byHand = await observe(spec, fails, nested, execute);
        assertSame('pipeline vs nested decorate', fused, byHand);
      }),
      { numRuns },
    );
  });
}

/** A context for running a hand-nested chain outside any call. */
const rootless = {
  signal: new AbortController().signal,
  attempt: 1,
  correlationId: 'laws',
};

/**
 * What a policy factory receives in the law suites.
 *
 * @category testing
 * @since 0.1.0
 */
export interface LawEnvironment {
  /** The virtual clock the laws drive; give it to the policy's `clock` option. */
  readonly clock: VirtualClock;
}

/**
 * Laws any policy keeps, whatever it does:
 * - it never resolves a value the task did not produce (a value from some call of the task);
 * - every call settles once the clock has run its timers (no hang);
 * - a caller's abort reaches the task's signal, and the call then settles.
 *
 * @param make - Makes a fresh policy for each generated case, on the given virtual clock.
 * @example
 * ```ts
 * // typecheck-only: registers Jest tests
 * import { it } from '@jest/globals';
 * import { noop } from '@bulwark/core';
 * import { policyLaws } from '@bulwark/testkit';
 * policyLaws(it, 'noop', () => noop);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function policyLaws(
  test: TestFn,
  name: string,
  make: (env: LawEnvironment) => Policy<PolicyEvent>,
  options: LawOptions & {
    /** Generated calls run one after another (default) or all at once. */
    readonly concurrent?: boolean;
  } = {},
): void {
  const { numRuns = 100, concurrent = false } = options;
  const schedule = outcomeSchedule({ maxLength: 12, maxLatencyMs: 2000 });
  const callCount = fc.integer({ min: 1, max: 6 });

  test(`${name}: never resolves a value the task did not produce, and every call settles`, async () => {
    await fc.assert(
      fc.asyncProperty(schedule, callCount, async (plan, calls) => {
        const clock = new VirtualClock();
        const policy = make({ clock });
        const scheduled = scheduledTask(plan, clock);
        const results: Settled[] = [];
        const one = async (): Promise<void> => {
          const promise = policy.execute(scheduled.task);
          const settled = await clock.run(settledOf(promise));
          if (settled.ok && !scheduled.produced.includes(settled.value as { call: number })) {
            throw new Error(`${name} resolved ${JSON.stringify(settled.value)}, which the task never produced`);
          }
          results.push(settled);
        };
        if (concurrent) await Promise.all(Array.from({ length: calls }, one));
        else for (let i = 0; i < calls; i++) await one();
        if (results.length !== calls) throw new Error(`${name}: ${calls - results.length} calls never settled`);
      }),
      { numRuns },
    );
  });

  test(`${name}: a caller's abort reaches the task and the call settles`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 500 }), async (abortAfterMs) => {
        const clock = new VirtualClock();
        const policy = make({ clock });
        const scheduled = scheduledTask([{ ok: true, latencyMs: 1_000_000 }], clock);
        const controller = new AbortController();
        const reason = new Error('caller gave up');
        const promise = settledOf(policy.execute(scheduled.task, controller.signal));
        clock.setTimer(() => controller.abort(reason), abortAfterMs);
        await clock.advance(abortAfterMs);
        await settle();
        for (const ctx of scheduled.contexts) {
          if (!ctx.signal.aborted) throw new Error(`${name}: the task's signal did not abort when the caller's did`);
        }
        await clock.run(promise);
      }),
      { numRuns: Math.min(numRuns, 50) },
    );
  });
}
