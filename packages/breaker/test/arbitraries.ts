// fast-check arbitraries for the breaker's laws: configurations, machine events and call schedules.
import {
  breaker,
  consecutiveFailures,
  countWindow,
  events,
  timeWindow,
  type Breaker,
  type MachineConfig,
  type MachineEvent,
  type Strategy,
} from '@bulwark/breaker';
import { type VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';

export const strategyArb: fc.Arbitrary<Strategy> = fc.oneof(
  fc.integer({ min: 1, max: 5 }).map((n) => consecutiveFailures(n)),
  fc
    .record({
      size: fc.integer({ min: 1, max: 8 }),
      failureRate: fc.constantFrom(0.25, 0.5, 0.75, 1),
      slowCallRate: fc.constantFrom(0.5, 1),
    })
    .chain((o) => fc.integer({ min: 1, max: o.size }).map((minimumCalls) => countWindow({ ...o, minimumCalls }))),
  fc
    .record({
      buckets: fc.integer({ min: 1, max: 5 }),
      bucketMs: fc.integer({ min: 1, max: 300 }),
      failureRate: fc.constantFrom(0.25, 0.5, 1),
      slowCallRate: fc.constantFrom(0.5, 1),
      minimumCalls: fc.integer({ min: 1, max: 6 }),
    })
    .map(({ bucketMs, buckets, ...rest }) => timeWindow({ windowMs: bucketMs * buckets, buckets, ...rest })),
);

export const configArb: fc.Arbitrary<MachineConfig> = fc
  .record({
    strategy: strategyArb,
    halfOpenAfterMs: fc.integer({ min: 0, max: 1000 }),
    growth: fc.integer({ min: 0, max: 3000 }),
    backoffFactor: fc.constantFrom(1, 1.5, 2, 3),
    probes: fc.integer({ min: 1, max: 4 }),
    successesToClose: fc.integer({ min: 1, max: 4 }),
    slowCallMs: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 0, max: 200 })),
  })
  .map(({ growth, ...c }) => ({ ...c, maxHalfOpenAfterMs: c.halfOpenAfterMs + growth }));

const duration = fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined });

export const eventArb: fc.Arbitrary<MachineEvent> = fc.oneof(
  {
    weight: 5,
    arbitrary: duration.map((d): MachineEvent =>
      d === undefined ? events.success : { type: 'success', durationMs: d },
    ),
  },
  {
    weight: 5,
    arbitrary: duration.map((d): MachineEvent =>
      d === undefined ? events.failure : { type: 'failure', durationMs: d },
    ),
  },
  { weight: 4, arbitrary: fc.constant(events.probe) },
  { weight: 2, arbitrary: fc.constant(events.release) },
  { weight: 1, arbitrary: fc.constant(events.isolate) },
  { weight: 1, arbitrary: fc.constant(events.unisolate) },
  { weight: 1, arbitrary: fc.constant(events.reset) },
);

/** Events with the time that passes before each. */
export const stepsArb = fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: 700 })), { maxLength: 40 });

/** A call of a schedule: how it ends and how long it takes, or a pause between calls. */
export type Op =
  | { readonly kind: 'call'; readonly outcome: 'ok' | 'fail' | 'ignored'; readonly latencyMs: number }
  | { readonly kind: 'wait'; readonly ms: number };

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('call' as const),
      outcome: fc.constantFrom('ok' as const, 'fail' as const, 'fail' as const, 'ignored' as const),
      latencyMs: fc.integer({ min: 0, max: 300 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 2000 }) }) },
);

export class IgnoredError extends Error {
  override readonly name = 'IgnoredError';
}

/** A breaker built from a machine configuration, on `clock`, ignoring {@link IgnoredError}. */
export function breakerOf(config: MachineConfig, clock: VirtualClock, initial?: unknown): Breaker {
  return breaker({
    clock,
    strategy: config.strategy,
    halfOpenAfterMs: config.halfOpenAfterMs,
    maxHalfOpenAfterMs: config.maxHalfOpenAfterMs,
    backoffFactor: config.backoffFactor,
    probes: config.probes,
    successesToClose: config.successesToClose,
    ...(Number.isFinite(config.slowCallMs) ? { slowCallMs: config.slowCallMs } : {}),
    ignore: [IgnoredError],
    ...(initial !== undefined ? { initial: initial as never } : {}),
  });
}

/** What a call of a schedule came to. */
export function describeSettled(error: unknown): string {
  if (error instanceof IgnoredError) return 'ignored';
  if (typeof error === 'object' && error !== null && '_tag' in error) return String(error._tag);
  return 'fail';
}

/** Runs `ops` one call after another; returns what each call came to. */
export async function runSequential(
  b: Breaker,
  clock: VirtualClock,
  ops: readonly Op[],
  each?: (op: Op, result: string) => void,
): Promise<string[]> {
  const results: string[] = [];
  for (const op of ops) {
    if (op.kind === 'wait') {
      await clock.advance(op.ms);
      continue;
    }
    const task = async (): Promise<string> => {
      if (op.latencyMs > 0) await clock.sleep(op.latencyMs);
      if (op.outcome === 'fail') throw new Error('planned failure');
      if (op.outcome === 'ignored') throw new IgnoredError('planned, ignored');
      return 'ok';
    };
    const result = await clock.run(b.execute(task)).then(
      (value) => value,
      (error: unknown) => describeSettled(error),
    );
    results.push(result);
    each?.(op, result);
  }
  return results;
}
