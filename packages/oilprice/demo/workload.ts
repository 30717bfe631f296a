/**
 * The demo's workload: a seeded list of calls at fixed times (open loop: a call starts on time
 * whether or not earlier ones have finished, as requests from many users would), and the runner that
 * plays it against one client and records what each call got.
 */
import { isBulwarkError, type Clock, type PolicyEvent } from '@bulwark/core';
import { seededRandom } from '@bulwark/testkit/fake-oilprice';

import {
  DEFAULT_MAX_PRICE_CHANGE,
  isOilPriceApiError,
  isOilPriceNetworkError,
  isOilPriceResponseError,
  priceFamilyOf,
  type HistoryRange,
  type OilPriceClient,
  type Price,
} from '../src/index.js';

export type Operation =
  | { readonly kind: 'latest'; readonly code: string }
  | {
      readonly kind: 'history';
      readonly code: string;
      readonly range: HistoryRange;
      readonly interval: 'daily' | 'hourly';
    }
  | { readonly kind: 'commodities' };

export interface ScheduledCall {
  readonly index: number;
  /** When it starts, in simulated ms after the run starts. */
  readonly atMs: number;
  readonly op: Operation;
}

/** Codes in order of popularity: a few are asked for all the time, most now and then. */
const CODES = [
  'BRENT_CRUDE_USD',
  'WTI_USD',
  'NATURAL_GAS_USD',
  'DUTCH_TTF_EUR',
  'DIESEL_USD',
  'GASOLINE_USD',
  'COAL_USD',
  'JET_FUEL_USD',
  'HEATING_OIL_USD',
  'NATURAL_GAS_GBP',
  'EU_CARBON_EUR',
  'VLSFO_USD',
  'GOLD_USD',
  'URALS_CRUDE_USD',
  'DUBAI_CRUDE_USD',
  'MGO_05S_USD',
] as const;

const DAY_MS = 86_400_000;

/** Makes the list of calls: `ratePerS` per simulated second for `durationMs`, drawn from `seed`. */
export function makeWorkload(options: {
  seed: number;
  durationMs: number;
  ratePerS: number;
  nowMs: number;
}): ScheduledCall[] {
  const random = seededRandom(options.seed * 7919 + 17);
  const zipfWeights = CODES.map((_, i) => 1 / (i + 1));
  const pickCode = (top: number = CODES.length): string => {
    let x = random.next() * zipfWeights.slice(0, top).reduce((a, b) => a + b, 0);
    for (let i = 0; i < top; i++) {
      x -= zipfWeights[i] as number;
      if (x <= 0) return CODES[i] as string;
    }
    return CODES[0];
  };
  const count = Math.floor((options.durationMs / 1000) * options.ratePerS);
  const calls: ScheduledCall[] = [];
  for (let index = 0; index < count; index++) {
    const atMs = (index * 1000) / options.ratePerS;
    const draw = random.next();
    let op: Operation;
    if (draw < 0.58) op = { kind: 'latest', code: pickCode() };
    else if (draw < 0.59)
      op = { kind: 'latest', code: 'BRENT_CRUDE' }; // a typo: 400 with suggestions, never retried
    else if (draw < 0.95) {
      const code = pickCode(6);
      if (random.next() < 0.6) {
        op = { kind: 'history', code, range: random.next() < 0.5 ? 'week' : 'month', interval: 'daily' };
      } else {
        const to = options.nowMs - Math.floor(random.next() * 120) * DAY_MS;
        const from = to - (3 + Math.floor(random.next() * 12)) * DAY_MS;
        const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
        op = { kind: 'history', code, range: { from: day(from), to: day(to) }, interval: 'daily' };
      }
    } else op = { kind: 'commodities' };
    calls.push({ index, atMs, op });
  }
  return calls;
}

/** How one call ended, as the demo counts it. */
export type Outcome =
  | 'ok'
  | 'network'
  | 'server-5xx'
  | 'rate-limited'
  | 'quota-exhausted'
  | 'client-4xx'
  | 'bad-response'
  | 'timeout'
  | 'breaker-open'
  | 'bulkhead-full'
  | 'cache-expired'
  | 'implausible-rejected'
  | 'other';

export function outcomeOf(error: unknown): Outcome {
  if (isOilPriceNetworkError(error)) return 'network';
  if (isOilPriceResponseError(error)) return 'bad-response';
  if (isOilPriceApiError(error)) {
    if (error.kind === 'server') return 'server-5xx';
    if (error.kind === 'rate-limited') return 'rate-limited';
    if (error.kind === 'quota-exhausted' || error.kind === 'payment-required') return 'quota-exhausted';
    return 'client-4xx';
  }
  if (isBulwarkError(error)) {
    switch (error._tag) {
      case 'Timeout':
        return 'timeout';
      case 'BrokenCircuit':
      case 'Isolated':
        return 'breaker-open';
      case 'BulkheadRejected':
        return 'bulkhead-full';
      case 'CacheExpired':
        return 'cache-expired';
      case 'DataQuality':
      case 'Validation':
        return 'implausible-rejected';
      default:
        // A policy that wraps the last error (a retry giving up) keeps it as the cause.
        return error.cause !== undefined ? outcomeOf(error.cause) : 'other';
    }
  }
  return 'other';
}

export interface CallRecord {
  readonly index: number;
  readonly op: Operation['kind'];
  /** Simulated ms after the run started. */
  readonly startMs: number;
  readonly latencyMs: number;
  readonly outcome: Outcome;
  /** Where a successful answer came from. */
  readonly servedBy: 'origin' | 'cache' | 'stale' | undefined;
  /** A successful answer holding a price no market would print (out of its family's range, or a spike). */
  readonly implausible: boolean;
}

export interface BreakerChange {
  readonly atMs: number;
  readonly to: string;
}

export interface RunResult {
  readonly name: string;
  readonly records: readonly CallRecord[];
  readonly originRequests: number;
  readonly retries: number;
  readonly breakerChanges: readonly BreakerChange[];
  readonly durationMs: number;
}

export interface LiveCounts {
  started: number;
  done: number;
  ok: number;
  breaker: string;
}

type AnyEvent = PolicyEvent & { readonly to?: unknown; readonly context?: { readonly correlationId: string } };

/** Plays `calls` against `client`, starting at `startAt` on `clock`; `live` is updated as calls end. */
export async function runWorkload(
  name: string,
  client: OilPriceClient,
  calls: readonly ScheduledCall[],
  clock: Clock,
  startAt: number,
  live: LiveCounts,
): Promise<RunResult> {
  const records: CallRecord[] = [];
  const servedBy = new Map<string, 'cache' | 'stale'>();
  const breakerChanges: BreakerChange[] = [];
  let originRequests = 0;
  let retries = 0;
  const stopPolicy = client.policy.onEvent((event: AnyEvent) => {
    const id = event.context?.correlationId;
    if (event.type === 'hit' && id !== undefined) servedBy.set(id, 'cache');
    else if (event.type === 'stale' && id !== undefined) servedBy.set(id, 'stale');
    else if (event.type === 'retry') retries++;
    else if (event.type === 'state-change' && typeof event.to === 'string') {
      breakerChanges.push({ atMs: clock.now() - startAt, to: event.to });
      live.breaker = event.to;
    }
  });
  const stopClient = client.onEvent(() => originRequests++);
  const lastGood = new Map<string, number>();
  const implausible = (price: Price): boolean => {
    const family = priceFamilyOf(price.code);
    const previous = lastGood.get(price.code);
    const bad =
      (family !== undefined && (price.price < family.min || price.price > family.max)) ||
      (previous !== undefined && Math.abs(price.price / previous - 1) > DEFAULT_MAX_PRICE_CHANGE);
    if (!bad) lastGood.set(price.code, price.price);
    return bad;
  };

  const one = async (call: ScheduledCall): Promise<void> => {
    await clock.sleep(Math.max(0, startAt + call.atMs - clock.now()));
    live.started++;
    const correlationId = `${name}-${call.index}`;
    const started = clock.now();
    let outcome: Outcome = 'ok';
    let bad = false;
    try {
      const op = call.op;
      if (op.kind === 'latest') bad = implausible(await client.latest(op.code, { correlationId }));
      else if (op.kind === 'history') {
        const rows = await client.history(op.code, op.range, { interval: op.interval, correlationId });
        bad = rows.some((row) => {
          const family = priceFamilyOf(row.code);
          return family !== undefined && (row.price < family.min || row.price > family.max);
        });
      } else await client.commodities({ correlationId });
    } catch (error) {
      outcome = outcomeOf(error);
    }
    const latencyMs = clock.now() - started;
    live.done++;
    if (outcome === 'ok') live.ok++;
    records.push({
      index: call.index,
      op: call.op.kind,
      startMs: started - startAt,
      latencyMs,
      outcome,
      servedBy: outcome === 'ok' ? (servedBy.get(correlationId) ?? 'origin') : undefined,
      implausible: bad,
    });
    servedBy.delete(correlationId);
  };

  await Promise.all(calls.map(one));
  stopPolicy();
  stopClient();
  records.sort((a, b) => a.index - b.index);
  return { name, records, originRequests, retries, breakerChanges, durationMs: clock.now() - startAt };
}
