/** The cost of the policy machinery itself: `noop` and a pipeline of three `noop`s on the success path. */

import { noop, pipeline } from '@bulwark/core';

import { compare, type Suite } from '../harness.js';

const bare = async (): Promise<number> => 1;

export const coreSuite: Suite = {
  name: 'core',
  run: (ctx) => {
    const three = pipeline(noop, noop, noop);
    return compare(
      'core',
      { name: 'bare async call', run: bare },
      [
        { name: 'noop.execute', run: () => noop.execute(bare), target: '< 1.3x' },
        { name: 'pipeline(noop, noop, noop).execute', run: () => three.execute(bare), target: '< 1.3x' },
        { name: 'noop.wrap(fn)(…)', run: noop.wrap(bare), target: '< 1.3x' },
      ],
      ctx,
    );
  },
};
