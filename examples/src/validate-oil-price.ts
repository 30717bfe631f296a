/**
 * The oil-price recipe for @bulwark/validate: a codec for OilPriceAPI's latest-price response, and
 * the rules that decide whether a price is believable (a range per commodity, no sudden spikes
 * against the last good price, not stale). A fake upstream plays a day of answers, good and bad.
 *
 * Run: pnpm --filter @bulwark/examples example src/validate-oil-price.ts
 */

import assert from 'node:assert/strict';

import { VirtualClock } from '@bulwark/testkit';
import {
  failures,
  formatTree,
  freshness,
  isDataQualityError,
  isValidationError,
  maxChange,
  range,
  validate,
} from '@bulwark/validate';
import * as t from 'io-ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// A finite number: io-ts's `t.number` also accepts NaN and ±Infinity.
interface FiniteBrand {
  readonly Finite: unique symbol;
}
const Finite = t.brand(t.number, (n): n is t.Branded<number, FiniteBrand> => Number.isFinite(n), 'Finite');

// GET /v1/prices/latest?by_code=…: `code`, `price` and `created_at` are required, the rest optional,
// unknown extra keys accepted (the API adds fields over time).
const LatestPrice = t.type(
  {
    status: t.literal('success'),
    data: t.intersection([
      t.type({ code: t.string, price: Finite, created_at: t.string }),
      t.partial({
        formatted: t.string,
        currency: t.union([t.string, t.null]),
        type: t.string,
        unit: t.string,
        source: t.string,
      }),
    ]),
  },
  'LatestPrice',
);
type LatestPrice = t.TypeOf<typeof LatestPrice>;

const price = (r: LatestPrice): number => r.data.price;
const code = (r: LatestPrice): string => r.data.code;

// In production leave `clock` out (the system clock); here time is virtual, starting on a real date.
const clock = new VirtualClock(Date.parse('2026-01-15T12:00:00.000Z'));
const latest = validate(LatestPrice, {
  name: 'latest-price',
  clock,
  rules: [
    range({
      value: price,
      key: code,
      min: 0,
      perKey: {
        BRENT_CRUDE_USD: { min: 10, max: 300 },
        WTI_USD: { min: -50, max: 300 }, // WTI settled at -37.63 on 2020-04-20
        NATURAL_GAS_USD: { min: 0.5, max: 30 },
      },
    }),
    maxChange({ value: price, key: code, maxRatio: 0.15, rememberMs: 6 * HOUR }),
    freshness({ at: (r) => r.data.created_at, key: code, maxAgeMs: 7 * DAY }),
  ],
});

// The fake upstream: each call answers the next response of the day.
const now = (): string => new Date(clock.now()).toISOString();
const answer = (data: Record<string, unknown>): unknown => ({ status: 'success', data });
const day: (() => unknown)[] = [
  () => answer({ code: 'BRENT_CRUDE_USD', price: 72.5, currency: 'USD', created_at: now(), unit: 'barrel' }),
  () => answer({ code: 'BRENT_CRUDE_USD', price: 131.2, currency: 'USD', created_at: now() }), // +81 %: a spike
  () => answer({ code: 'BRENT_CRUDE_USD', price: 74.1, currency: 'USD', created_at: now() }), // +2 %: fine
  () => answer({ code: 'WTI_USD', price: 'n/a', currency: 'USD', created_at: now() }), // not a price
  () => answer({ code: 'NATURAL_GAS_USD', price: 72.5, currency: 'USD', created_at: now() }), // gas at oil prices
  () => answer({ code: 'WTI_USD', price: 70.2, currency: 'USD', created_at: '2025-12-01T00:00:00.000Z' }), // stale
];
const fetchLatest = latest.wrapDecoded(async (_code: string): Promise<unknown> => (day.shift() as () => unknown)());

const outcomes: string[] = [];
for (const commodity of [
  'BRENT_CRUDE_USD',
  'BRENT_CRUDE_USD',
  'BRENT_CRUDE_USD',
  'WTI_USD',
  'NATURAL_GAS_USD',
  'WTI_USD',
]) {
  await clock.advance(HOUR);
  try {
    const quote = await fetchLatest(commodity);
    outcomes.push(`ok ${quote.data.code} ${quote.data.price}`);
  } catch (error) {
    if (isValidationError(error)) {
      outcomes.push(`invalid ${failures(error.tree)[0]?.path ?? ''}`);
      console.log(formatTree(error.tree, { maxTypeLength: 40 }));
    } else if (isDataQualityError(error)) {
      outcomes.push(`${error.rule} ${String(error.key)}`);
      console.log(error.message);
    } else throw error;
  }
}

assert.deepEqual(outcomes, [
  'ok BRENT_CRUDE_USD 72.5',
  'max-change BRENT_CRUDE_USD',
  'ok BRENT_CRUDE_USD 74.1',
  'invalid $.data.price',
  'range NATURAL_GAS_USD',
  'freshness WTI_USD',
]);
console.log(outcomes.join('\n'));
