/**
 * What a believable price looks like, per commodity family: the bounds the default pipeline's
 * validation checks every price against, and the largest move between two reads it accepts.
 *
 * Bounds are wide on purpose: they catch a decimal slip or a unit mix-up (a price ten times too
 * large, a gas price read as an oil price), not a market crash. Crude allows negative prices because
 * WTI settled at −37.63 USD on 2020-04-20.
 *
 * @module
 */

/**
 * A family of commodities quoted in the same unit, with the bounds of a believable price.
 *
 * @category models
 * @since 0.1.0
 */
export interface PriceFamily {
  /** The family's name, e.g. `'crude-oil'`. */
  readonly family: string;
  /** The lowest believable price, inclusive. */
  readonly min: number;
  /** The highest believable price, inclusive. */
  readonly max: number;
}

const family = (name: string, min: number, max: number): PriceFamily => Object.freeze({ family: name, min, max });

const CRUDE = family('crude-oil', -50, 500); // USD per barrel
const GAS_MMBTU = family('natural-gas-mmbtu', 0.1, 100); // USD per MMBtu
const GAS_MWH = family('natural-gas-mwh', 0.5, 1000); // EUR per MWh (TTF reached ~340 in 2022)
const GAS_THERM = family('natural-gas-pence-therm', 2, 1500); // GBp per therm
const COAL = family('coal', 10, 1000); // USD per tonne
const REFINED = family('refined-products', 0.2, 20); // USD per gallon
const MARINE = family('marine-fuels', 50, 5000); // USD per tonne
const PRECIOUS = family('precious-metals', 1, 50_000); // USD per troy ounce
const CARBON = family('carbon', 0.5, 1000); // EUR per tonne
const FX = family('exchange-rates', 0.05, 20);
const PERCENT = family('percent', 0, 100);
const INDEX = family('index', 0, 100_000);
const COUNT = family('counts', 0, 100_000);

const BY_CODE: ReadonlyMap<string, PriceFamily> = new Map([
  ['BRENT_CRUDE_USD', CRUDE],
  ['WTI_USD', CRUDE],
  ['URALS_CRUDE_USD', CRUDE],
  ['DUBAI_CRUDE_USD', CRUDE],
  ['OPEC_BASKET_USD', CRUDE],
  ['MURBAN_CRUDE_USD', CRUDE],
  ['DME_OMAN_USD', CRUDE],
  ['NATURAL_GAS_USD', GAS_MMBTU],
  ['JKM_LNG_USD', GAS_MMBTU],
  ['LNG_USD', GAS_MMBTU],
  ['DUTCH_TTF_EUR', GAS_MWH],
  ['NATURAL_GAS_GBP', GAS_THERM],
  ['UK_NATURAL_GAS_GBP', GAS_THERM],
  ['COAL_USD', COAL],
  ['NEWCASTLE_COAL_USD', COAL],
  ['DIESEL_USD', REFINED],
  ['ULSD_DIESEL_USD', REFINED],
  ['GASOLINE_USD', REFINED],
  ['GASOLINE_RBOB_USD', REFINED],
  ['JET_FUEL_USD', REFINED],
  ['HEATING_OIL_USD', REFINED],
  ['ETHANOL_USD', REFINED],
  ['VLSFO_USD', MARINE],
  ['MGO_05S_USD', MARINE],
  ['GOLD_USD', PRECIOUS],
  ['SILVER_USD', PRECIOUS],
  ['EU_CARBON_EUR', CARBON],
  ['EUR_USD', FX],
  ['GBP_USD', FX],
  ['US_REFINERY_UTILIZATION', PERCENT],
  ['ENERGY_PRICE_INDEX', INDEX],
  ['US_RIG_COUNT', COUNT],
  ['PERMIAN_FRAC_SPREADS', COUNT],
]);

/**
 * The family of `code`, or `undefined` for a code this table does not know (only finiteness is then
 * checked). Unknown codes ending in `_CRUDE_USD` count as crude.
 *
 * @example
 * ```ts
 * assert.equal(priceFamilyOf('BRENT_CRUDE_USD')?.family, 'crude-oil');
 * assert.equal(priceFamilyOf('NOT_A_CODE'), undefined);
 * ```
 *
 * @category instances
 * @since 0.1.0
 */
export function priceFamilyOf(code: string): PriceFamily | undefined {
  return BY_CODE.get(code) ?? (code.endsWith('_CRUDE_USD') ? CRUDE : undefined);
}

/**
 * The bounds of every code this table knows, as `{ CODE: { min, max } }` (a `range` rule's `perKey`).
 *
 * @example
 * ```ts
 * assert.deepEqual(knownPriceBounds()['WTI_USD'], { min: -50, max: 500 });
 * ```
 *
 * @category instances
 * @since 0.1.0
 */
export function knownPriceBounds(): Record<string, { readonly min: number; readonly max: number }> {
  const bounds: Record<string, { readonly min: number; readonly max: number }> = {};
  for (const [code, { min, max }] of BY_CODE) bounds[code] = { min, max };
  return bounds;
}

/**
 * The largest relative move between two reads of the same price that the default pipeline believes:
 * 0.25 (25 %). A move past it is a spike, reported as a data-quality error rather than returned.
 *
 * @example
 * ```ts
 * const last = 80;
 * assert.ok(Math.abs(99 - last) / last <= DEFAULT_MAX_PRICE_CHANGE); // +23.75 %: believable
 * assert.ok(Math.abs(101 - last) / last > DEFAULT_MAX_PRICE_CHANGE); // +26.25 %: a spike
 * ```
 *
 * @category instances
 * @since 0.1.0
 */
export const DEFAULT_MAX_PRICE_CHANGE = 0.25;
