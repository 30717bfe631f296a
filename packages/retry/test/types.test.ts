import { describe, expect, it } from '@jest/globals';
import { VirtualClock } from '@bulwark/testkit';

import { constant, retry } from '../src/index.js';

/** What a caller's tasks resolve to; the result predicate is typed for it. */
interface Reply {
  readonly status: number;
}

describe('handleResult typed for the caller’s results', () => {
  it('is accepted (a policy decorates tasks of any type, so the option takes unknown)', async () => {
    const clock = new VirtualClock();
    const policy = retry({ maxAttempts: 2, backoff: constant(0), clock, handleResult: (r: Reply) => r.status === 503 });
    const replies: Reply[] = [{ status: 503 }, { status: 200 }];
    expect(await policy.execute(async () => replies.shift() as Reply)).toEqual({ status: 200 });
  });
});
