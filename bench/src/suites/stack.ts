/**
 * The four-policy stack `pipeline(retry, breaker, bulkhead, timeout)` beside a bare async call, in one
 * run: cockatiel 3's same stack (`wrap(retry, circuitBreaker, bulkhead, timeout)`), opossum 9's breaker
 * with its timeout on (its equivalent of breaker + timeout), and the calibration of four plain nested
 * `async` wrappers (about 3.4x in this harness: the price of four promise hops, which the target
 * of 2.5x is below).
 *
 * On the success path: wall time in mitata's harness, CPU time in a tight loop (steadier on a busy
 * machine), bytes allocated per call. On a failure path: three failures then a success, retried with
 * no delay, so the figure is the machinery of the whole stack at work and not a wait.
 */

import { breaker, consecutiveFailures } from '@bulwark/breaker';
import { bulkhead } from '@bulwark/bulkhead';
import { pipeline } from '@bulwark/core';
import { constant, retry } from '@bulwark/retry';
import { timeout } from '@bulwark/timeout';
import {
  bulkhead as cockatielBulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  ConstantBackoff,
  handleAll,
  retry as cockatielRetry,
  timeout as cockatielTimeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import CircuitBreaker from 'opossum';

import { compare, compareAllocation, compareCpuTime, type Case, type Suite } from '../harness.js';
import { flaky, retriedByHand } from '../tasks.js';

const bare = async (): Promise<number> => 1;

/** Bulwark's stack, options matching cockatiel's below; `attempts` counts the first one. */
function bulwarkStack(attempts: number, zeroDelay: boolean) {
  return pipeline(
    retry({ maxAttempts: attempts, ...(zeroDelay ? { backoff: constant(0) } : {}) }),
    breaker({ strategy: consecutiveFailures(5), halfOpenAfterMs: 60_000 }),
    bulkhead({ capacity: 100, queueSize: 1000 }),
    timeout({ timeoutMs: 1000, strategy: 'aggressive' }),
  );
}

/** Cockatiel's stack; its `maxAttempts` counts retries, not attempts. */
function cockatielStack(retries: number, zeroDelay: boolean) {
  return wrap(
    cockatielRetry(handleAll, { maxAttempts: retries, ...(zeroDelay ? { backoff: new ConstantBackoff(0) } : {}) }),
    circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) }),
    cockatielBulkhead(100, 1000),
    cockatielTimeout(1000, TimeoutStrategy.Aggressive),
  );
}

export const stackSuite: Suite = {
  name: 'stack',
  run: async (ctx) => {
    const stack = bulwarkStack(3, false);
    const wrapped = stack.wrap(bare);
    const cockatiel = cockatielStack(3, false);
    const opossum = new CircuitBreaker(bare, { timeout: 1000, resetTimeout: 60_000 });

    // The calibration: four plain nested async wrappers, one per policy.
    const one = async (): Promise<number> => await bare();
    const two = async (): Promise<number> => await one();
    const three = async (): Promise<number> => await two();
    const four = async (): Promise<number> => await three();

    const success: Case[] = [
      { name: 'four nested async wrappers (calibration)', run: four },
      {
        name: 'bulwark pipeline(retry, breaker, bulkhead, timeout).execute',
        run: () => stack.execute(bare),
        target: '< 4x (aim 2.5x)',
      },
      { name: 'bulwark the same stack, .wrap(fn)(…)', run: wrapped, target: '< 4x (aim 2.5x)' },
      { name: 'cockatiel wrap(retry, circuitBreaker, bulkhead, timeout).execute', run: () => cockatiel.execute(bare) },
      { name: 'opossum fire(), timeout 1000 ms (breaker + timeout)', run: () => opossum.fire() },
    ];

    // Failure path: three failures then a success, no wait between attempts.
    const bulwarkFlaky = flaky();
    const cockatielFlaky = flaky();
    const bulwarkFailing = bulwarkStack(4, true);
    const cockatielFailing = cockatielStack(3, true);
    const loop = retriedByHand(flaky());
    const failure: Case[] = [
      { name: 'a hand-written retry loop', run: loop },
      {
        name: 'bulwark the stack, retry({ maxAttempts: 4, backoff: constant(0) })',
        run: () => bulwarkFailing.execute(bulwarkFlaky),
      },
    ];
    const cockatielFailure: Case = {
      name: 'cockatiel the stack, retry({ maxAttempts: 3, backoff: ConstantBackoff(0) })',
      run: () => cockatielFailing.execute(cockatielFlaky),
    };

    const baseline = { name: 'bare async call', run: bare };
    try {
      // Cockatiel stays out of the failure path's tight loop: it waits out even a zero delay in a
      // setTimeout (about 1 ms per retry), so 50,000 calls would be minutes of idle waiting.
      return [
        ...(await compare('stack, success', baseline, success, ctx)),
        ...(await compare('stack, 3 failures then success', baseline, [...failure, cockatielFailure], ctx)),
        ...(await compareCpuTime('stack cpu, success', baseline, success, ctx.quick)),
        ...(await compareCpuTime('stack cpu, 3 failures then success', baseline, failure, ctx.quick)),
        ...(await compareAllocation(
          'stack memory, success',
          baseline,
          // The allocation target is for Bulwark's stack: under 2x a bare call's bytes.
          success.map(({ name, run }) => ({ name, run, ...(name.startsWith('bulwark') ? { target: '< 2x' } : {}) })),
          ctx,
        )),
      ];
    } finally {
      opossum.shutdown();
    }
  },
};
