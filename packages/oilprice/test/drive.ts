// Drives a virtual clock shared by the fake OilPriceAPI and a client's policies, over real HTTP: time
// moves only when every request in flight is parked on the fake's clock (the test kit's runWithIo).
import { runWithIo, type VirtualClock } from '@bulwark/testkit';
import { type FakeOilPrice } from '@bulwark/testkit/fake-oilprice';

import { type OilPriceClient } from '../src/index.js';

/** Settles `promise`, moving `clock` whenever every request in flight waits on it. */
export function drive<A>(
  promise: Promise<A>,
  clock: VirtualClock,
  fake: FakeOilPrice,
  client: OilPriceClient,
): Promise<A> {
  return runWithIo(promise, clock, () => client.inFlight === fake.sleeping);
}
