/**
 * The OilPriceAPI client against the test kit's fake OilPriceAPI: an answer, then the faults a real
 * API throws at you, each coming back as a typed error with what you need to decide what to do.
 *
 * Run: pnpm --filter @bulwark/examples example src/oilprice-fake-faults.ts
 */

import assert from 'node:assert/strict';

import { noop } from '@bulwark/core';
import { isOilPriceApiError, isOilPriceNetworkError, isOilPriceResponseError, OilPriceClient } from '@bulwark/oilprice';
import { startFakeOilPrice } from '@bulwark/testkit/fake-oilprice';

const fake = await startFakeOilPrice();
// No policy: every fault reaches the caller, to show what each one looks like.
const client = new OilPriceClient({ apiKey: fake.apiKey, baseUrl: fake.url, policy: noop });

try {
  const brent = await client.latest('BRENT_CRUDE_USD');
  assert.equal(brent.price, fake.priceAt('BRENT_CRUDE_USD'));

  const typo = await client.latest('BRENT_CRUDE').catch((error: unknown) => error);
  assert.ok(isOilPriceApiError(typo) && typo.kind === 'bad-request' && typo.suggestions.includes('BRENT_CRUDE_USD'));

  fake.inject({ kind: 'rate-limit', retryAfterS: 12 });
  const limited = await client.latest('WTI_USD').catch((error: unknown) => error);
  assert.ok(isOilPriceApiError(limited) && limited.retryable && limited.retryAfterMs === 12_000);

  fake.inject({ kind: 'quota-exhausted', window: 'monthly_counter' });
  const quota = await client.latest('WTI_USD').catch((error: unknown) => error);
  assert.ok(isOilPriceApiError(quota) && quota.quotaExhausted && !quota.retryable);

  fake.inject({ kind: 'bad-gateway-html' });
  const html = await client.latest('WTI_USD').catch((error: unknown) => error);
  assert.ok(isOilPriceApiError(html) && html.status === 502 && html.retryable);

  fake.inject({ kind: 'connection-reset' });
  assert.ok(isOilPriceNetworkError(await client.latest('WTI_USD').catch((error: unknown) => error)));

  fake.inject({ kind: 'wrong-types', variant: 'price-string' });
  const shape = await client.latest('WTI_USD').catch((error: unknown) => error);
  assert.ok(isOilPriceResponseError(shape) && shape.paths.some((path) => path.startsWith('data.price')));

  console.log('every fault came back typed:', fake.requests.map((r) => r.status).join(' '));
} finally {
  await client.close();
  await fake.close();
}
