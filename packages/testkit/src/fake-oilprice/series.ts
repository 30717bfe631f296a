/**
 * Deterministic price series: the price of a commodity at any instant is a pure function of its code
 * and the time, so a test can compute what the fake will answer, and two fakes with the same clock
 * answer the same.
 *
 * Raw points are 5 minutes apart. Each series moves around its catalogue level along two slow waves
 * (periods of 45 and 3.3 days) plus a little per-point noise drawn from a hash of the code and the slot:
 * consecutive points differ by well under 1 %, so only an injected fault looks like a spike.
 *
 * @module
 */

import { type FakeCommodity } from './catalogue.js';

/**
 * How far apart the fake's raw points are, in milliseconds.
 *
 * @example
 * ```ts
 * import { RAW_STEP_MS } from '@bulwark/testkit/fake-oilprice';
 * assert.equal(RAW_STEP_MS, 300_000); // a raw point every 5 minutes
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export const RAW_STEP_MS = 5 * 60_000;

/**
 * The aggregation intervals the fake understands, after aliases (`1h`, `minute`, …) are resolved.
 *
 * @category testing
 * @since 0.1.0
 */
export type FakeInterval = 'raw' | 'hourly' | 'daily' | 'weekly' | 'monthly';

const DAY_MS = 86_400_000;

/** Bucket length per interval, in milliseconds. */
export const INTERVAL_MS: Readonly<Record<FakeInterval, number>> = {
  raw: RAW_STEP_MS,
  hourly: 3_600_000,
  daily: DAY_MS,
  weekly: 7 * DAY_MS,
  monthly: 30 * DAY_MS,
};

const INTERVAL_ALIASES: Readonly<Record<string, FakeInterval>> = {
  raw: 'raw',
  minute: 'raw',
  hourly: 'hourly',
  '1h': 'hourly',
  daily: 'daily',
  '1d': 'daily',
  weekly: 'weekly',
  '1w': 'weekly',
  monthly: 'monthly',
  '1m': 'monthly',
};

/** Resolves an `interval` query value (SDK names and doc aliases), or `undefined` when unknown. */
export function parseInterval(value: string): FakeInterval | undefined {
  return Object.prototype.hasOwnProperty.call(INTERVAL_ALIASES, value) ? INTERVAL_ALIASES[value] : undefined;
}

/** A 32-bit hash of a string (FNV-1a). */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes two 32-bit integers into a number in [-1, 1]. */
function noise(seed: number, slot: number): number {
  let h = (seed ^ Math.imul(slot | 0, 0x9e3779b1) ^ Math.imul(Math.floor(slot / 4_294_967_296), 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return (h / 4_294_967_295) * 2 - 1;
}

const SLOW_PERIOD_SLOTS = (45 * DAY_MS) / RAW_STEP_MS;
const FAST_PERIOD_SLOTS = (3.3 * DAY_MS) / RAW_STEP_MS;

/**
 * The price of `commodity` at the raw slot containing `atMs` (epoch milliseconds), rounded to the
 * commodity's decimals.
 *
 * @example
 * ```ts
 * import { fakeCommodity, fakePriceAt } from '@bulwark/testkit/fake-oilprice';
 *
 * const brent = fakeCommodity('BRENT_CRUDE_USD')!;
 * const price = fakePriceAt(brent, Date.UTC(2026, 0, 15, 12));
 * assert.ok(price > 60 && price < 95);
 * assert.equal(price, fakePriceAt(brent, Date.UTC(2026, 0, 15, 12, 4))); // same 5-minute slot
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function fakePriceAt(commodity: FakeCommodity, atMs: number): number {
  const seed = hashString(commodity.code);
  const slot = Math.floor(atMs / RAW_STEP_MS);
  const phase1 = ((seed & 0xffff) / 0xffff) * 2 * Math.PI;
  const phase2 = ((seed >>> 16) / 0xffff) * 2 * Math.PI;
  const factor =
    1 +
    0.06 * Math.sin((2 * Math.PI * slot) / SLOW_PERIOD_SLOTS + phase1) +
    0.025 * Math.sin((2 * Math.PI * slot) / FAST_PERIOD_SLOTS + phase2) +
    0.004 * noise(seed, slot);
  const scale = 10 ** commodity.decimals;
  return Math.round(commodity.base * factor * scale) / scale;
}

/**
 * The buckets of one interval inside `[fromMs, toMs]`, newest first: how many there are, and the
 * start of the `index`-th (0 = newest).
 */
export class BucketRange {
  readonly total: number;
  private readonly last: number;

  constructor(
    readonly interval: FakeInterval,
    fromMs: number,
    toMs: number,
  ) {
    const step = INTERVAL_MS[interval];
    const first = Math.ceil(fromMs / step);
    this.last = Math.floor(toMs / step);
    this.total = Math.max(0, this.last - first + 1);
  }

  /** The start (epoch ms) of the bucket at `index`, newest first. */
  startOf(index: number): number {
    return (this.last - index) * INTERVAL_MS[this.interval];
  }
}
