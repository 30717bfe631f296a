// What the client tests open against the fake OilPriceAPI, and closing it after each test.
import { noop } from '@bulwark/core';
import { startFakeOilPrice, type FakeOilPrice, type FakeOilPriceOptions } from '@bulwark/testkit/fake-oilprice';

import { OilPriceClient, type OilPriceClientOptions } from '../src/index.js';

const opened: { close(): Promise<void> }[] = [];

/** Keeps `things` to be closed by {@link closeOpened}. */
export function closeLater(...things: { close(): Promise<void> }[]): void {
  opened.push(...things);
}

/** Closes what the test opened, last first: a test file's `afterEach(closeOpened)`. */
export async function closeOpened(): Promise<void> {
  while (opened.length > 0) await opened.pop()?.close();
}

/** A fresh fake and a client of it with no policy (unless `clientOptions` gives one), both closed after the test. */
export async function clientAgainstFake(
  fakeOptions: FakeOilPriceOptions = {},
  clientOptions: Partial<OilPriceClientOptions> = {},
): Promise<{ fake: FakeOilPrice; client: OilPriceClient }> {
  const fake = await startFakeOilPrice(fakeOptions);
  closeLater(fake);
  const client = new OilPriceClient({ apiKey: fake.apiKey, baseUrl: fake.url, policy: noop, ...clientOptions });
  closeLater(client);
  return { fake, client };
}
