/**
 * io-ts codecs for what OilPriceAPI sends, and the plain values the client returns.
 *
 * The codecs accept what the real API sends (reference §4): only `code` and a finite `price` are
 * required of a price; every other documented field is optional and may be `null`; unknown extra keys
 * are accepted and dropped. A field that is present with the wrong type (a price as a string or a
 * boolean, a timestamp that is not a date) fails decoding with its path.
 *
 * The values the client returns are JSON-safe (strings, numbers, booleans, arrays, plain objects), so a
 * cache can store them in Redis and read them back unchanged.
 *
 * @module
 */

import * as t from 'io-ts';

/**
 * A finite number: rejects booleans, strings, `NaN` and infinities.
 *
 * @example
 * ```ts
 * assert.equal(FiniteNumber.decode(72.5)._tag, 'Right');
 * assert.equal(FiniteNumber.decode(Number.NaN)._tag, 'Left');
 * assert.equal(FiniteNumber.decode('72.5')._tag, 'Left'); // a price as a string is a wrong shape
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const FiniteNumber = new t.Type<number, number, unknown>(
  'finite number',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
  (u, c) => (typeof u === 'number' && Number.isFinite(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/**
 * A timestamp string that `Date.parse` understands (ISO 8601 as the API sends it).
 *
 * @example
 * ```ts
 * assert.ok(Timestamp.is('2026-01-15T12:00:00.000Z'));
 * assert.ok(!Timestamp.is('yesterday'));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const Timestamp = new t.Type<string, string, unknown>(
  'ISO 8601 timestamp',
  (u): u is string => typeof u === 'string' && !Number.isNaN(Date.parse(u)),
  (u, c) => (typeof u === 'string' && !Number.isNaN(Date.parse(u)) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

const OptionalString = t.union([t.string, t.null]);

/**
 * One price as the API sends it (`/v1/prices/latest` `data`, or a historical row).
 *
 * @example
 * ```ts
 * // Only `code` and a finite `price` are required; nulls and unknown keys are tolerated.
 * const row = { code: 'WTI_USD', price: 71.2, currency: null, new_field: 'ignored' };
 * assert.equal(PriceRecord.decode(row)._tag, 'Right');
 * assert.equal(PriceRecord.decode({ code: 'WTI_USD', price: '71.2' })._tag, 'Left');
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const PriceRecord = t.intersection(
  [
    t.type({ code: t.string, price: FiniteNumber }),
    t.partial({
      created_at: t.union([Timestamp, t.null]),
      formatted: OptionalString,
      currency: OptionalString,
      type: OptionalString,
      unit: OptionalString,
      source: OptionalString,
      updated_at: t.union([Timestamp, t.null]),
    }),
  ],
  'PriceRecord',
);

/**
 * The answer of `GET /v1/prices/latest`: `data` is one price object.
 *
 * @example
 * ```ts
 * const body = { status: 'success', data: { code: 'BRENT_CRUDE_USD', price: 74.7, created_at: '2026-01-15T12:00:00Z' } };
 * const decoded = LatestPriceResponse.decode(body);
 * assert.ok(decoded._tag === 'Right' && decoded.right.data.price === 74.7);
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const LatestPriceResponse = t.type({ data: PriceRecord }, 'LatestPriceResponse');

/**
 * The body `meta` block of a historical answer (present in some answers only).
 *
 * @example
 * ```ts
 * assert.ok(PaginationMeta.is({ page: 1, per_page: 100, total_pages: 3, has_next: true }));
 * assert.ok(PaginationMeta.is({})); // every field is optional
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const PaginationMeta = t.partial(
  {
    page: FiniteNumber,
    per_page: FiniteNumber,
    total: FiniteNumber,
    total_pages: FiniteNumber,
    has_next: t.boolean,
  },
  'PaginationMeta',
);

/**
 * The answer of `GET /v1/prices/past_*`: `data.prices` (or, tolerated, a bare array), newest first.
 *
 * @example
 * ```ts
 * const rows = [{ code: 'WTI_USD', price: 71.2 }, { code: 'WTI_USD', price: 70.9 }];
 * assert.equal(HistoricalPricesResponse.decode({ data: { prices: rows }, meta: { page: 1 } })._tag, 'Right');
 * assert.equal(HistoricalPricesResponse.decode({ data: rows })._tag, 'Right'); // a bare array, tolerated
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const HistoricalPricesResponse = t.intersection(
  [
    t.type({ data: t.union([t.type({ prices: t.array(PriceRecord) }), t.array(PriceRecord)]) }),
    t.partial({ meta: t.union([PaginationMeta, t.null]) }),
  ],
  'HistoricalPricesResponse',
);

/**
 * One catalogue entry as the API sends it.
 *
 * @example
 * ```ts
 * const entry = { code: 'BRENT_CRUDE_USD', name: 'Brent Crude Oil', validation: { min: 10, max: 300 } };
 * assert.ok(CommodityRecord.is(entry));
 * assert.ok(!CommodityRecord.is({ name: 'no code' }));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const CommodityRecord = t.intersection(
  [
    t.type({ code: t.string }),
    t.partial({
      name: OptionalString,
      category: OptionalString,
      currency: OptionalString,
      unit: OptionalString,
      unit_description: OptionalString,
      description: OptionalString,
      source: OptionalString,
      active: t.union([t.boolean, t.null]),
      multiplier: t.union([FiniteNumber, t.null]),
      validation: t.union([t.partial({ min: FiniteNumber, max: FiniteNumber }), t.null]),
      price_change_threshold: t.union([FiniteNumber, t.null]),
    }),
  ],
  'CommodityRecord',
);

/**
 * The answer of `GET /v1/commodities`: `data.commodities` (or, tolerated, a bare array).
 *
 * @example
 * ```ts
 * assert.equal(CommoditiesResponse.decode({ data: { commodities: [{ code: 'WTI_USD' }] } })._tag, 'Right');
 * assert.equal(CommoditiesResponse.decode({ data: [{ code: 'WTI_USD' }] })._tag, 'Right');
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const CommoditiesResponse = t.type(
  { data: t.union([t.type({ commodities: t.array(CommodityRecord) }), t.array(CommodityRecord)]) },
  'CommoditiesResponse',
);

/**
 * The answer of `GET /v1/commodities/{code}`.
 *
 * @example
 * ```ts
 * assert.equal(CommodityResponse.decode({ data: { code: 'WTI_USD', unit: 'barrel' } })._tag, 'Right');
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const CommodityResponse = t.type({ data: CommodityRecord }, 'CommodityResponse');

/**
 * A price as the client returns it: camel-cased, absent fields left out, JSON-safe.
 *
 * @category models
 * @since 0.1.0
 */
export interface Price {
  /** The commodity code, e.g. `'BRENT_CRUDE_USD'`. */
  readonly code: string;
  /** The price, in `currency` per `unit` (or the series' own unit when `currency` is `null`). */
  readonly price: number;
  /** When the price was recorded (ISO 8601, UTC). */
  readonly createdAt?: string;
  /** The quote currency: `'USD'`, `'EUR'`, `'GBp'`…; `null` for non-price series. */
  readonly currency?: string | null;
  /** The API's rendering, e.g. `'$72.50'`. */
  readonly formatted?: string;
  /** The price type, e.g. `'spot_price'`. */
  readonly type?: string;
  /** The unit, e.g. `'barrel'`. */
  readonly unit?: string;
  /** Where the API took it from. */
  readonly source?: string;
}

/**
 * One page of a historical series.
 *
 * @category models
 * @since 0.1.0
 */
export interface PricePage {
  /** The rows, newest first. */
  readonly prices: readonly Price[];
  /** This page's number, from 1. */
  readonly page: number;
  /** Whether another page follows (`X-Has-Next`, else `X-Total-Pages`, else the body `meta`). */
  readonly hasNext: boolean;
  /** How many pages there are, when the answer said. */
  readonly totalPages?: number;
  /** How many rows there are in all, when the answer said. */
  readonly total?: number;
}

/**
 * A catalogue entry as the client returns it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Commodity {
  readonly code: string;
  readonly name?: string;
  /** The category key as the API spells it (`'oil'`, `'natural_gas'`, `'Crude Oil'`…). */
  readonly category?: string;
  readonly currency?: string | null;
  readonly unit?: string;
  readonly description?: string;
  readonly source?: string;
  readonly active?: boolean;
  /** The bounds the API itself considers plausible, when it publishes them. */
  readonly validRange?: { readonly min?: number; readonly max?: number };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The client's {@link Price} from a decoded record. */
export function toPrice(record: t.TypeOf<typeof PriceRecord>): Price {
  const price: Mutable<Price> = { code: record.code, price: record.price };
  if (typeof record.created_at === 'string') price.createdAt = record.created_at;
  if (record.currency !== undefined) price.currency = record.currency;
  if (typeof record.formatted === 'string') price.formatted = record.formatted;
  if (typeof record.type === 'string') price.type = record.type;
  if (typeof record.unit === 'string') price.unit = record.unit;
  if (typeof record.source === 'string') price.source = record.source;
  return price;
}

/** The client's {@link Commodity} from a decoded record. */
export function toCommodity(record: t.TypeOf<typeof CommodityRecord>): Commodity {
  const commodity: Mutable<Commodity> = { code: record.code };
  if (typeof record.name === 'string') commodity.name = record.name;
  if (typeof record.category === 'string') commodity.category = record.category;
  if (record.currency !== undefined) commodity.currency = record.currency;
  if (typeof record.unit === 'string') commodity.unit = record.unit;
  if (typeof record.description === 'string') commodity.description = record.description;
  if (typeof record.source === 'string') commodity.source = record.source;
  if (typeof record.active === 'boolean') commodity.active = record.active;
  if (record.validation !== undefined && record.validation !== null) {
    const range: { min?: number; max?: number } = {};
    if (record.validation.min !== undefined) range.min = record.validation.min;
    if (record.validation.max !== undefined) range.max = record.validation.max;
    commodity.validRange = range;
  }
  return commodity;
}

/** Renders io-ts errors as `path: expected T, got V`, one per failing leaf (at most 10), values truncated. */
export function renderDecodeErrors(errors: t.Errors): string[] {
  const lines = new Set<string>();
  for (const error of errors) {
    let path = '';
    for (let i = 1; i < error.context.length; i++) {
      const parent = (error.context[i - 1] as t.ContextEntry).type as { readonly _tag?: string };
      const key = (error.context[i] as t.ContextEntry).key;
      // Union and intersection members are keyed by index too; only arrays and records make a path.
      if (parent._tag === 'ArrayType') path += `[${key}]`;
      else if (parent._tag === 'InterfaceType' || parent._tag === 'PartialType') path += path === '' ? key : `.${key}`;
    }
    const leaf = error.context[error.context.length - 1];
    let shown: string;
    try {
      shown = JSON.stringify(error.value) ?? String(error.value);
    } catch {
      shown = String(error.value);
    }
    if (shown.length > 40) shown = `${shown.slice(0, 40)}…`;
    lines.add(`${path === '' ? '(root)' : path}: expected ${leaf?.type.name ?? 'value'}, got ${shown}`);
    if (lines.size >= 10) break;
  }
  return [...lines];
}
