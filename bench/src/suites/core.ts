/** The cost of the policy machinery itself: `noop` and a pipeline of three `noop`s on the success path. */

import { noop, pipeline } from '@bulwark/core';

import { compare, compareAllocation, type Suite } from '../harness.js';

const bare = async (): Promise<number> => 1;

export const coreSuite: Suite = {
  name: 'core',
  run: async (ctx) => {
    const three = pipeline(noop, noop, noop);
    const baseline = { name: 'bare async call', run: bare };
    const cases = [
      { name: 'noop.execute', run: () => noop.execute(bare), target: '< 1.3x' },
      { name: 'pipeline(noop, noop, noop).execute', run: () => three.execute(bare), target: '< 1.3x' },
      { name: 'noop.wrap(fn)(…)', run: noop.wrap(bare), target: '< 1.3x' },
    ];
    return [
      ...(await compare('core', baseline, cases, ctx)),
      ...(await compareAllocation(
        'core memory',
        baseline,
        cases.map(({ name, run }) => ({ name, run })),
        ctx,
      )),
    ];
  },
};
