/**
 * The retry's cost beside cockatiel 3's and p-retry 7's, as ratios to a bare async call measured in
 * the same run: on the success path (one attempt), and on a failure path of three failures then a
 * success with zero backoff (what the retry machinery itself costs, without waiting). Each in
 * mitata's harness and, since these machines are shared, in CPU time over a tight loop too.
 */

import { definePolicy, PASS } from '@bulwark/core';
import { constant, retry } from '@bulwark/retry';
import { ConstantBackoff, handleAll, retry as cockatielRetry } from 'cockatiel';
import pRetry from 'p-retry';

import { compare, compareAllocation, compareCpuTime, type Case, type Suite } from '../harness.js';
import { flaky, retriedByHand } from '../tasks.js';

const bare = async (): Promise<number> => 1;
const same = <T>(value: T): T => value;
const rethrow = (error: unknown): never => {
  throw error;
};

export const retrySuite: Suite = {
  name: 'retry',
  run: async (ctx) => {
    const defaults = retry();
    const wrapped = defaults.wrap(bare);
    const listened = retry();
    listened.onEvent(() => undefined);
    const cockatiel = cockatielRetry(handleAll, { maxAttempts: 3 });
    const emptyGate = definePolicy('empty gate', [{ gate: { enter: () => 0, exit: () => PASS } }]);
    const wrapper = async (): Promise<number> => await bare();
    // What any policy that must see a failure costs at the least: one handler on the task's promise,
    // so the caller awaits the promise `then` returns, one microtask later.
    const oneThen = (): Promise<number> => bare().then(same, rethrow);

    const success: Case[] = [
      { name: 'one async wrapper (calibration)', run: wrapper },
      { name: 'one then on the task’s promise (calibration: the floor of any retry)', run: oneThen },
      { name: 'an empty gate (core’s floor for a gate)', run: () => emptyGate.execute(bare) },
      { name: 'bulwark retry().execute', run: () => defaults.execute(bare), target: '< 1.5x' },
      { name: 'bulwark retry().wrap(fn)(…)', run: wrapped, target: '< 1.5x' },
      { name: 'bulwark retry().execute, events listened', run: () => listened.execute(bare) },
      { name: 'cockatiel retry(handleAll, { maxAttempts: 3 }).execute', run: () => cockatiel.execute(bare) },
    ];
    const pRetrySuccess: Case = { name: 'p-retry pRetry(fn, { retries: 2 })', run: () => pRetry(bare, { retries: 2 }) };

    // Failure path: 3 failures then a success, no wait between attempts.
    const bulwarkFlaky = flaky();
    const cockatielFlaky = flaky();
    const pRetryFlaky = flaky();
    const bulwarkZero = retry({ maxAttempts: 4, backoff: constant(0) });
    const cockatielZero = cockatielRetry(handleAll, { maxAttempts: 3, backoff: new ConstantBackoff(0) });
    const loop = retriedByHand(flaky());
    const failure: Case[] = [
      { name: 'a hand-written retry loop', run: loop },
      { name: 'bulwark retry({ maxAttempts: 4, backoff: constant(0) })', run: () => bulwarkZero.execute(bulwarkFlaky) },
    ];
    const peersFailing: Case[] = [
      {
        name: 'cockatiel retry(handleAll, { maxAttempts: 3, backoff: ConstantBackoff(0) })',
        run: () => cockatielZero.execute(cockatielFlaky),
      },
      {
        name: 'p-retry pRetry(fn, { retries: 3, minTimeout: 0 })',
        run: () => pRetry(pRetryFlaky, { retries: 3, minTimeout: 0 }),
      },
    ];

    const baseline = { name: 'bare async call', run: bare };
    // Left out of the tight loops: cockatiel, which waits out even a zero delay in a setTimeout (about
    // 1 ms per retry: 50,000 calls would take minutes of idle waiting), and p-retry, whose garbage
    // (several kB per call) would be collected while the baseline after it runs. Wall time has both.
    return [
      ...(await compare('retry, success', baseline, [...success, pRetrySuccess], ctx)),
      ...(await compare('retry, 3 failures then success', baseline, [...failure, ...peersFailing], ctx)),
      ...(await compareCpuTime('retry cpu, success', baseline, success, ctx.quick)),
      ...(await compareCpuTime('retry cpu, 3 failures then success', baseline, failure, ctx.quick)),
      ...(await compareAllocation(
        'retry memory, success',
        baseline,
        [...success, pRetrySuccess].map(({ name, run }) => ({ name, run })),
        ctx,
      )),
    ];
  },
};
