/**
 * The timeout's success path beside a bare async call and cockatiel 3's timeouts, in one run: every
 * call settles long before its limit (1 s). Also the case of a task that reads its signal (which makes
 * the scope's `AbortController`, for Bulwark as for cockatiel), the calibration case of one plain
 * `async` wrapper (about 1.5x on a quiet machine, see ADR 0001) and core's floor for any gate.
 *
 * Three measures: wall time in mitata's harness, CPU time in a tight loop (steadier on a busy
 * machine), bytes allocated per call.
 */

import { definePolicy, PASS } from '@bulwark/core';
import { timeout } from '@bulwark/timeout';
import { timeout as cockatielTimeout, TimeoutStrategy } from 'cockatiel';

import { compare, compareAllocation, compareCpuTime, type Case, type Suite } from '../harness.js';

const bare = async (): Promise<number> => 1;
/** A task that reads its signal, as one passing it to `fetch` does. */
const readsSignal = async (ctx: { readonly signal: AbortSignal }): Promise<number> => (ctx.signal.aborted ? 0 : 1);

export const timeoutSuite: Suite = {
  name: 'timeout',
  run: async (ctx) => {
    const aggressive = timeout({ timeoutMs: 1000, strategy: 'aggressive' });
    const cooperative = timeout({ timeoutMs: 1000, strategy: 'cooperative' });
    const cockatielCooperative = cockatielTimeout(1000, TimeoutStrategy.Cooperative);
    const cockatielAggressive = cockatielTimeout(1000, TimeoutStrategy.Aggressive);
    // The floor: a gate that does nothing, through core's runner (what any gate policy costs).
    const emptyGate = definePolicy('empty gate', [{ gate: { enter: () => 0, exit: () => PASS } }]);
    const wrapper = async (): Promise<number> => await bare();

    const cases: Case[] = [
      { name: 'one async wrapper (calibration)', run: wrapper },
      { name: 'an empty gate (core’s floor for a gate)', run: () => emptyGate.execute(bare) },
      { name: 'bulwark timeout(1000), aggressive', run: () => aggressive.execute(bare), target: '< 2x' },
      { name: 'bulwark timeout(1000), cooperative', run: () => cooperative.execute(bare), target: '< 2x' },
      { name: 'cockatiel timeout(1000, Aggressive)', run: () => cockatielAggressive.execute(bare) },
      { name: 'cockatiel timeout(1000, Cooperative)', run: () => cockatielCooperative.execute(bare) },
    ];
    // Apart: making an AbortController per call (and the garbage of its listeners) weighs on whatever
    // runs next, which would be the baseline of the next round.
    const readingCases: Case[] = [
      { name: 'bulwark, aggressive', run: () => aggressive.execute(readsSignal) },
      { name: 'bulwark, cooperative', run: () => cooperative.execute(readsSignal) },
      { name: 'cockatiel, Aggressive', run: () => cockatielAggressive.execute(readsSignal) },
      { name: 'cockatiel, Cooperative', run: () => cockatielCooperative.execute(readsSignal) },
    ];
    const baseline = { name: 'bare async call', run: bare };
    const plain = (list: readonly Case[]): Case[] => list.map(({ name, run }) => ({ name, run }));
    return [
      ...(await compare('timeout', baseline, cases, ctx)),
      ...(await compare('timeout, task reads its signal', baseline, readingCases, ctx)),
      // Without cockatiel's cases: each leaves some 50,000 AbortControllers (kB each) of garbage whose
      // collection landed on the next round's baseline, tripling it (a bare call read ~130-220 cpu ns
      // here against ~50 in every other suite). Its cost is in the wall-time table above.
      ...(await compareCpuTime(
        'timeout cpu, tight loop',
        baseline,
        cases.filter((c) => !c.name.startsWith('cockatiel')),
        ctx.quick,
      )),
      ...(await compareAllocation('timeout memory', baseline, plain(cases), ctx)),
      ...(await compareAllocation('timeout memory, task reads its signal', baseline, plain(readingCases), ctx)),
    ];
  },
};
