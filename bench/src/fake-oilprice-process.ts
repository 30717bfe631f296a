/**
 * The fake OilPriceAPI in a process of its own, for the load benchmark: answering requests is then not
 * work on the event loop of the client being measured, as it would not be against the real API.
 *
 * Started by `oilprice.ts` with `fork` (so with the same Node flags: tsx, the source condition). It
 * answers every request at once and correctly (no latency, no faults, no rate limit), posts
 * `{ url, apiKey }` once it listens, and closes and exits when told `'close'` or when its parent goes.
 */

import { startFakeOilPrice } from '@bulwark/testkit/fake-oilprice';

if (process.send === undefined) throw new Error('fake-oilprice-process: start me with child_process.fork');

const fake = await startFakeOilPrice({ rateLimit: false });
let closing = false;
const stop = async (): Promise<void> => {
  if (closing) return;
  closing = true;
  await fake.close();
  process.exit(0);
};
process.on('message', (message) => {
  if (message === 'close') void stop();
});
// The parent died or hung up: nobody will tell us to close.
process.on('disconnect', () => void stop());
process.send({ url: fake.url, apiKey: fake.apiKey });
