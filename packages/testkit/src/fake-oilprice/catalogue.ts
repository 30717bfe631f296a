/**
 * The commodities the fake OilPriceAPI knows: codes, names, categories, currencies and units as the
 * real catalogue shows them (reference §7), with the level each deterministic price series moves around.
 *
 * @module
 */

/**
 * One commodity of the fake catalogue.
 *
 * @category testing
 * @since 0.1.0
 */
export interface FakeCommodity {
  /** The commodity code, e.g. `'BRENT_CRUDE_USD'`. */
  readonly code: string;
  readonly name: string;
  /** The catalogue category key, e.g. `'oil'`. */
  readonly category: string;
  /** The quote currency; `null` for non-price series (utilisation, indices, counts). */
  readonly currency: string | null;
  readonly unit: string;
  /** The level the price series moves around. */
  readonly base: number;
  /** Decimal places of the price. */
  readonly decimals: number;
  /** Whether the fake's default plan may read it (premium series answer 403 otherwise). */
  readonly premium: boolean;
  readonly source: string;
}

const c = (
  code: string,
  name: string,
  category: string,
  currency: string | null,
  unit: string,
  base: number,
  extra: { decimals?: number; premium?: boolean; source?: string } = {},
): FakeCommodity => ({
  code,
  name,
  category,
  currency,
  unit,
  base,
  decimals: extra.decimals ?? 2,
  premium: extra.premium ?? false,
  source: extra.source ?? 'oilprice.business_insider',
});

/**
 * The fake catalogue, in the order `/v1/commodities` lists it.
 *
 * @example
 * ```ts
 * import { fakeCatalogue } from '@bulwark/testkit/fake-oilprice';
 * assert.ok(fakeCatalogue.some((entry) => entry.code === 'BRENT_CRUDE_USD' && entry.unit === 'barrel'));
 * assert.equal(new Set(fakeCatalogue.map((entry) => entry.code)).size, fakeCatalogue.length);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export const fakeCatalogue: readonly FakeCommodity[] = Object.freeze([
  c('BRENT_CRUDE_USD', 'Brent Crude Oil', 'oil', 'USD', 'barrel', 78),
  c('WTI_USD', 'WTI Crude Oil', 'oil', 'USD', 'barrel', 74),
  c('URALS_CRUDE_USD', 'Urals Crude Oil', 'oil', 'USD', 'barrel', 63),
  c('DUBAI_CRUDE_USD', 'Dubai Crude Oil', 'oil', 'USD', 'barrel', 77),
  c('NATURAL_GAS_USD', 'Henry Hub Natural Gas', 'natural_gas', 'USD', 'mmbtu', 2.9),
  c('NATURAL_GAS_GBP', 'UK NBP Natural Gas', 'natural_gas', 'GBp', 'pence_per_therm', 85, { source: 'oilprice.ft' }),
  c('DUTCH_TTF_EUR', 'Dutch TTF Natural Gas', 'natural_gas', 'EUR', 'mwh', 34, { source: 'oilprice.ft' }),
  c('COAL_USD', 'Coal', 'coal', 'USD', 'tonne', 130),
  c('NEWCASTLE_COAL_USD', 'Newcastle Coal', 'coal', 'USD', 'tonne', 136),
  c('DIESEL_USD', 'Diesel', 'refined_products', 'USD', 'gallon', 3.6),
  c('GASOLINE_USD', 'Gasoline', 'refined_products', 'USD', 'gallon', 2.4),
  c('GASOLINE_RBOB_USD', 'RBOB Gasoline', 'refined_products', 'USD', 'gallon', 2.3),
  c('JET_FUEL_USD', 'Jet Fuel', 'refined_products', 'USD', 'gallon', 2.5),
  c('HEATING_OIL_USD', 'Heating Oil', 'refined_products', 'USD', 'gallon', 2.5),
  c('VLSFO_USD', 'Very Low Sulphur Fuel Oil', 'marine_fuels', 'USD', 'tonne', 610, { source: 'market_reporting' }),
  c('MGO_05S_USD', 'Marine Gas Oil 0.5% S', 'marine_fuels', 'USD', 'tonne', 780, { source: 'market_reporting' }),
  c('GOLD_USD', 'Gold', 'metals', 'USD', 'troy_ounce', 2400),
  c('ETHANOL_USD', 'Ethanol', 'renewables', 'USD', 'gallon', 1.8),
  c('EU_CARBON_EUR', 'EU Carbon Allowance', 'carbon', 'EUR', 'tonne', 70, { source: 'oilprice.ft' }),
  c('EUR_USD', 'Euro to US Dollar', 'currencies', 'USD', 'exchange_rate', 1.08, { decimals: 4 }),
  c('GBP_USD', 'British Pound to US Dollar', 'currencies', 'USD', 'exchange_rate', 1.27, { decimals: 4 }),
  c('US_REFINERY_UTILIZATION', 'US Refinery Utilization', 'indicators', null, 'percent', 91, { source: 'internal' }),
  c('ENERGY_PRICE_INDEX', 'Energy Price Index', 'indicators', null, 'index_points', 100, { source: 'internal' }),
  c('US_RIG_COUNT', 'US Rig Count', 'drilling', null, 'rigs', 580, { decimals: 0, premium: true, source: 'internal' }),
]);

const byCode = new Map(fakeCatalogue.map((entry) => [entry.code, entry]));

/**
 * The catalogue entry for `code`, or `undefined` for a code the fake does not know.
 *
 * @example
 * ```ts
 * import { fakeCommodity } from '@bulwark/testkit/fake-oilprice';
 * assert.equal(fakeCommodity('WTI_USD')?.currency, 'USD');
 * assert.equal(fakeCommodity('NOT_A_CODE'), undefined);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function fakeCommodity(code: string): FakeCommodity | undefined {
  return byCode.get(code);
}

/** Codes that look like `code` (same prefix or one edit apart), for the 400 answer's `suggestions`. */
export function suggestionsFor(code: string): string[] {
  const upper = code.toUpperCase();
  const scored = fakeCatalogue
    .map((entry) => ({ code: entry.code, distance: editDistance(upper, entry.code) }))
    .filter((s) => s.distance <= Math.max(2, Math.floor(upper.length / 4)) || s.code.startsWith(upper.slice(0, 4)))
    .sort((a, b) => a.distance - b.distance);
  return scored.slice(0, 3).map((s) => s.code);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

const SYMBOLS: Readonly<Record<string, string>> = { USD: '$', EUR: '€', GBP: '£' };

/**
 * The `formatted` field: currency symbol and fixed decimals, `72.50p` for pence, the bare number otherwise.
 *
 * @example
 * ```ts
 * import { fakeCommodity, formatPrice } from '@bulwark/testkit/fake-oilprice';
 * const brent = fakeCommodity('BRENT_CRUDE_USD');
 * assert.ok(brent !== undefined);
 * assert.equal(formatPrice(brent, 78.1), '$78.10');
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function formatPrice(commodity: FakeCommodity, price: number): string {
  const digits = price.toFixed(commodity.decimals);
  if (commodity.currency === 'GBp') return `${digits}p`;
  const symbol = commodity.currency === null ? undefined : SYMBOLS[commodity.currency];
  if (symbol === undefined) return digits;
  return price < 0 ? `-${symbol}${digits.slice(1)}` : `${symbol}${digits}`;
}
