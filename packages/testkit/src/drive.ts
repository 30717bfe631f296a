/**
 * Settles a promise on a virtual clock shared by code under test and real loopback I/O (a fake server
 * and a client talking HTTP to it).
 *
 * Time may only move when nothing else can: when `parked()` says every request in flight waits on the
 * clock (a fake's latency, a hang) or there is none. Then the clock jumps to its next timer (a retry's
 * wait, a timeout, a breaker's recovery, the fake's latency) and the loop waits for the I/O that
 * starts. Waiting here is for I/O on loopback, never for time: no assertion depends on wall time.
 *
 * @module
 */

import { settle, type VirtualClock } from './virtual-clock.js';

const ioTick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

/**
 * Waits on I/O (up to ~10 s of wall time, a bound that only catches hangs) until `condition` holds.
 *
 * @category testing
 * @since 0.1.0
 */
export async function untilIo(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !condition(); i++) await ioTick();
  if (!condition()) throw new Error('untilIo: condition not met');
}

/**
 * Settles `promise`, moving `clock` to its next timer whenever `parked()` holds: every request in
 * flight waits on the clock. Rejects as `promise` does; fails if it is still pending once nothing is
 * in flight and no timer is left.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const done = clock.sleep(60_000).then(() => 'slept');
 * assert.equal(await runWithIo(done, clock, () => true), 'slept');
 * assert.equal(clock.now(), 60_000);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export async function runWithIo<A>(promise: Promise<A>, clock: VirtualClock, parked: () => boolean): Promise<A> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  tracked.catch(() => undefined);
  while (!done) {
    await untilIo(() => done || parked());
    if (done) break;
    await settle();
    if (done || !parked()) continue;
    if (!(await clock.next())) {
      await ioTick();
      await settle();
      if (!done && parked() && clock.pending === 0) {
        throw new Error('runWithIo: the promise is pending, nothing is in flight and no timer is left');
      }
    }
  }
  return tracked;
}
