/**
 * The pause PostHog asks of a throttle bucket: after a 429 with `Retry-After`, no request of that
 * bucket goes out until then, whichever call it belongs to and whichever attempt of it. It is a gate
 * (ADR 0001) inside the API policy, so it holds back every attempt, not only a call's first: a retry
 * whose own wait is shorter (the default caps a Retry-After at 60 s) still sends no sooner than asked.
 *
 * @module
 */

import { MAX_TIMER_DELAY_MS, PASS, definePolicy, type Clock, type Policy, type Scope } from '@bulwark/core';

import type { ApiBucket } from '../kinds.js';

/** Until when each bucket is paused, and the policies that hold its attempts back meanwhile. */
export class BucketPauses {
  /** Per bucket, until when PostHog asked that no request be sent, on the clock. */
  private readonly until: Record<ApiBucket, number> = { analytics: 0, query: 0, crud: 0 };

  constructor(private readonly clock: Clock) {}

  /** Holds `bucket` back for `ms` from now; a longer pause already asked for stays. */
  pause(bucket: ApiBucket, ms: number): void {
    const until = this.clock.now() + ms;
    if (until > this.until[bucket]) this.until[bucket] = until;
  }

  /** The policy that makes each attempt of `bucket` wait while the bucket is paused (abortable). */
  policy(bucket: ApiBucket, name: string): Policy<never> {
    const left = (): number => this.until[bucket] - this.clock.now();
    const waitOut = async (ctx: Scope): Promise<undefined> => {
      // Again after each wait: another 429 may have lengthened the pause meanwhile.
      for (let ms = left(); ms > 0; ms = left()) await this.clock.sleep(Math.min(ms, MAX_TIMER_DELAY_MS), ctx.signal);
      return undefined;
    };
    return definePolicy(name, [
      {
        gate: {
          waits: true,
          // No clock read beyond one, and no signal made, while the bucket is not paused.
          enter: (ctx: Scope): Promise<undefined> | undefined => (left() > 0 ? waitOut(ctx) : undefined),
          exit: () => PASS,
        },
      },
    ]);
  }
}
