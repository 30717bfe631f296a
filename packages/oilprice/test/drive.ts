// Drives a virtual clock shared by the fake OilPriceAPI and a client's policies, over real HTTP.
//
// Time may only move when nothing else can: every request in flight is parked on the fake's clock
// (a latency, a hang) or there is none. Then the clock jumps to its next timer (a retry's wait, a
// timeout, a breaker's recovery, the fake's latency), and the loop waits for the I/O that starts.
// Waiting here is for I/O on loopback, never for time: no assertion depends on wall time.
import { settle, type VirtualClock } from '@bulwark/testkit';
import { type FakeOilPrice } from '@bulwark/testkit/fake-oilprice';

import { type OilPriceClient } from '../src/index.js';

const ioTick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

/** Waits (on I/O, up to ~10 s of wall time) until `condition` holds. */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !condition(); i++) await ioTick();
  if (!condition()) throw new Error('until: condition not met');
}

/** Settles `promise`, moving `clock` whenever every request in flight waits on it. */
export async function drive<A>(
  promise: Promise<A>,
  clock: VirtualClock,
  fake: FakeOilPrice,
  client: OilPriceClient,
): Promise<A> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  tracked.catch(() => undefined);
  const parked = (): boolean => client.inFlight === fake.sleeping;
  while (!done) {
    await until(() => done || parked());
    if (done) break;
    await settle();
    if (done || !parked()) continue;
    if (!(await clock.next())) {
      await ioTick();
      await settle();
      if (!done && parked() && clock.pending === 0) {
        throw new Error('drive: the call is pending, nothing is in flight and no timer is left');
      }
    }
  }
  return tracked;
}
