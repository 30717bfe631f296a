/**
 * Faults the fake OilPriceAPI injects, the profile that schedules them, and the planner that decides,
 * request by request, which fault (if any) a request meets.
 *
 * The planner is pure apart from its seeded random source: given the same profile, seed and sequence of
 * request times it makes the same decisions, so a fault timeline can be replayed exactly (the demo runs
 * two fakes with one seed, one for each client, and both see the same outage at the same moment).
 *
 * @module
 */

import { type Random } from '@bulwark/core';

/**
 * How an error body is written: the four shapes the real API sends (reference §5.2).
 *
 * - `canonical`: `{ status: 'error', error: { code, message, request_id, retry, … }, meta }`
 * - `fail-data`: `{ status: 'fail', data: { error, message, suggestions, invalid_codes } }`
 * - `legacy`: `{ error: 'message', error_code, request_id, retry_after }`
 * - `minimal`: `{ error: { message } }` or `{ message }`
 *
 * @category testing
 * @since 0.1.0
 */
export type ErrorBodyStyle = 'canonical' | 'fail-data' | 'legacy' | 'minimal';

/**
 * The quota windows the API names in `X-RateLimit-Window`. The first three are durable (retrying cannot
 * help before the period resets); `hourly_circuit_breaker` recovers on its own.
 *
 * @category testing
 * @since 0.1.0
 */
export type QuotaWindow = 'daily_counter' | 'monthly_counter' | 'trial_counter' | 'hourly_circuit_breaker';

/**
 * One fault a request can meet.
 *
 * @category testing
 * @since 0.1.0
 */
export type Fault =
  /** Answers normally after `ms` more milliseconds (on the fake's clock). */
  | { readonly kind: 'latency'; readonly ms: number }
  /** A 5xx with a JSON error body (default 500, canonical body; 503 also sends `Retry-After`). */
  | {
      readonly kind: 'server-error';
      readonly status?: 500 | 503 | 504;
      readonly body?: ErrorBodyStyle;
      readonly retryAfterS?: number;
    }
  /** A 502 whose body is a load balancer's HTML page. */
  | { readonly kind: 'bad-gateway-html' }
  /** A burst 429: `Retry-After`, `X-RateLimit-Remaining: 0` (default legacy flat body). */
  | { readonly kind: 'rate-limit'; readonly retryAfterS?: number; readonly body?: ErrorBodyStyle }
  /**
   * A quota answer: 429 with `X-RateLimit-State: exhausted` and the window (default `monthly_counter`),
   * or 402 `MONTHLY_QUOTA_EXCEEDED` with `status: 402`.
   */
  | {
      readonly kind: 'quota-exhausted';
      readonly window?: QuotaWindow;
      readonly status?: 429 | 402;
      readonly retryAfterS?: number;
    }
  /** The connection is destroyed before any byte (`before-headers`, default) or half-way through the body. */
  | { readonly kind: 'connection-reset'; readonly phase?: 'before-headers' | 'mid-body' }
  /** Nothing is sent for `ms` (default 120 000), then the connection is destroyed. */
  | { readonly kind: 'hang'; readonly ms?: number }
  /**
   * Slow loris: the answer's headers at once, then its body `bytes` at a time (default 1) every
   * `intervalMs` (default 1000, on the fake's clock), for as long as the client keeps reading.
   */
  | { readonly kind: 'slow-body'; readonly intervalMs?: number; readonly bytes?: number }
  /** A 200 whose JSON body is cut off. */
  | { readonly kind: 'malformed-json' }
  /** A 200 whose JSON has a wrong type: the price as a string (default), a boolean, or `code` as a number. */
  | {
      readonly kind: 'wrong-types';
      readonly variant?: 'price-string' | 'price-boolean' | 'code-number' | 'prices-object';
    }
  /** A 200 with a price no market would print: `factor` times the real one (default 10), or negative. */
  | { readonly kind: 'implausible-price'; readonly factor?: number }
  /** Any answer at all, for cases the other kinds do not cover. */
  | {
      readonly kind: 'respond';
      readonly status: number;
      readonly body: string;
      readonly headers?: Readonly<Record<string, string>>;
    };

/**
 * The kind of a {@link Fault}.
 *
 * @category testing
 * @since 0.1.0
 */
export type FaultKind = Fault['kind'];

/**
 * How long the fake takes to answer, in milliseconds on its clock.
 *
 * `lognormal` is the usual shape of service latency: most answers near the median, a long right tail.
 *
 * @category testing
 * @since 0.1.0
 */
export type LatencyDistribution =
  | { readonly kind: 'constant'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: 'lognormal'; readonly medianMs: number; readonly sigma: number; readonly maxMs?: number };

/**
 * A window of time during which every request fails the same way.
 *
 * @category testing
 * @since 0.1.0
 */
export interface Outage {
  /** When it starts, in ms after the fake started (on its clock). */
  readonly startMs: number;
  /** How long it lasts, in milliseconds. */
  readonly durationMs: number;
  /** How requests fail meanwhile. */
  readonly fault: Fault;
}

/**
 * A fault that, once it starts, hits every request for `durationMs` (a 5xx burst, a 429 burst).
 *
 * @category testing
 * @since 0.1.0
 */
export interface Burst {
  /** The chance that a request starts a burst, when none is running. */
  readonly probability: number;
  /** How long a burst lasts, in milliseconds. */
  readonly durationMs: number;
  /** The fault every request meets during the burst. A `rate-limit` burst's `Retry-After` is the time left. */
  readonly fault: Fault;
}

/**
 * What the fake injects, and when. Everything is optional; the empty profile answers every request
 * correctly and at once.
 *
 * @category testing
 * @since 0.1.0
 */
export interface FaultProfile {
  /** How long each answer takes. @default no delay */
  readonly latency?: LatencyDistribution;
  /** Outages at fixed times. @default none */
  readonly outages?: readonly Outage[];
  /** Bursts that start at random. @default none */
  readonly bursts?: readonly Burst[];
  /** Faults that hit single requests at random, each with its own probability (first match wins). @default none */
  readonly faults?: readonly { readonly probability: number; readonly fault: Fault }[];
}

/**
 * The profile the demo uses: a realistic bad day. Lognormal latency (median 120 ms, tail to 5 s),
 * one 90-second outage (connection resets) 6 minutes in, 5xx bursts of 8 s and 429 bursts of 5 s,
 * and single faults: 502 HTML pages, resets, slow answers past 15 s, malformed JSON, wrong types and
 * implausible prices.
 *
 * @example
 * ```ts
 * import { defaultFaultProfile, startFakeOilPrice } from '@bulwark/testkit/fake-oilprice';
 * assert.equal(defaultFaultProfile.outages?.[0]?.durationMs, 90_000);
 * const fake = await startFakeOilPrice({ profile: defaultFaultProfile, seed: 7 }); // the demo's bad day
 * await fake.close();
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export const defaultFaultProfile: FaultProfile = Object.freeze<FaultProfile>({
  latency: { kind: 'lognormal', medianMs: 120, sigma: 0.55, maxMs: 5_000 },
  outages: [{ startMs: 360_000, durationMs: 90_000, fault: { kind: 'connection-reset' } }],
  bursts: [
    { probability: 0.0008, durationMs: 8_000, fault: { kind: 'server-error', status: 503, retryAfterS: 2 } },
    { probability: 0.0006, durationMs: 5_000, fault: { kind: 'rate-limit' } },
  ],
  faults: [
    { probability: 0.02, fault: { kind: 'server-error', status: 500 } },
    { probability: 0.015, fault: { kind: 'bad-gateway-html' } },
    { probability: 0.01, fault: { kind: 'connection-reset' } },
    { probability: 0.01, fault: { kind: 'latency', ms: 25_000 } },
    { probability: 0.008, fault: { kind: 'malformed-json' } },
    { probability: 0.008, fault: { kind: 'wrong-types' } },
    { probability: 0.008, fault: { kind: 'implausible-price' } },
  ],
});

/**
 * A seeded random source (mulberry32): the same seed gives the same sequence.
 *
 * @example
 * ```ts
 * import { seededRandom } from '@bulwark/testkit/fake-oilprice';
 *
 * const a = seededRandom(42);
 * const b = seededRandom(42);
 * assert.equal(a.next(), b.next());
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    },
  };
}

/**
 * Draws one latency from `distribution`, in milliseconds.
 *
 * @example
 * ```ts
 * import { sampleLatency, seededRandom } from '@bulwark/testkit/fake-oilprice';
 * const random = seededRandom(1);
 * assert.equal(sampleLatency({ kind: 'constant', ms: 120 }, random), 120);
 * const ms = sampleLatency({ kind: 'uniform', minMs: 10, maxMs: 20 }, random);
 * assert.ok(ms >= 10 && ms <= 20);
 * assert.equal(sampleLatency(undefined, random), 0); // no distribution: no delay
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function sampleLatency(distribution: LatencyDistribution | undefined, random: Random): number {
  if (distribution === undefined) return 0;
  switch (distribution.kind) {
    case 'constant':
      return distribution.ms;
    case 'uniform':
      return distribution.minMs + random.next() * (distribution.maxMs - distribution.minMs);
    case 'lognormal': {
      // Box-Muller: a standard normal from two uniforms (1 - u keeps the log away from 0).
      const u = 1 - random.next();
      const v = random.next();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      const ms = distribution.medianMs * Math.exp(distribution.sigma * z);
      return distribution.maxMs === undefined ? ms : Math.min(ms, distribution.maxMs);
    }
  }
}

/**
 * What the planner decided for one request.
 *
 * @category testing
 * @since 0.1.0
 */
export interface Decision {
  /** The fault to inject, or `undefined` for a correct answer. */
  readonly fault: Fault | undefined;
  /** Why: `'scripted'`, `'outage'`, `'burst'`, `'random'` or `'none'`. */
  readonly source: 'scripted' | 'outage' | 'burst' | 'random' | 'none';
  /** The base latency to add before answering, in milliseconds. */
  readonly latencyMs: number;
}

/**
 * Decides, request by request, which fault each one meets: a scripted fault first (queued by a test),
 * then an outage in progress, then a running burst, then a new burst or a single fault at random.
 *
 * @example
 * ```ts
 * import { FaultPlanner, seededRandom } from '@bulwark/testkit/fake-oilprice';
 * const planner = new FaultPlanner(
 *   { outages: [{ startMs: 60_000, durationMs: 30_000, fault: { kind: 'connection-reset' } }] },
 *   seededRandom(1),
 * );
 * planner.script([{ kind: 'malformed-json' }]);
 * assert.equal(planner.decide(0).source, 'scripted'); // scripted faults first
 * assert.equal(planner.decide(1_000).source, 'none');
 * assert.equal(planner.decide(70_000).source, 'outage');
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export class FaultPlanner {
  private readonly queue: Fault[] = [];
  private burst: { readonly fault: Fault; readonly untilMs: number } | undefined = undefined;

  constructor(
    private profile: FaultProfile,
    private readonly random: Random,
  ) {}

  /** Queues faults for the next requests, one each, in order, before anything the profile decides. */
  script(faults: readonly Fault[]): void {
    this.queue.push(...faults);
  }

  /** How many scripted faults are still waiting. */
  get scripted(): number {
    return this.queue.length;
  }

  /** Replaces the profile; a running burst ends. */
  setProfile(profile: FaultProfile): void {
    this.profile = profile;
    this.burst = undefined;
  }

  /**
   * Decides for a request arriving `elapsedMs` after the fake started.
   * Draws from the random source in a fixed order so a replay with the same seed decides the same.
   */
  decide(elapsedMs: number): Decision {
    const latencyMs = sampleLatency(this.profile.latency, this.random);
    const scripted = this.queue.shift();
    if (scripted !== undefined) return { fault: scripted, source: 'scripted', latencyMs };
    for (const outage of this.profile.outages ?? []) {
      if (elapsedMs >= outage.startMs && elapsedMs < outage.startMs + outage.durationMs) {
        return {
          fault: remaining(outage.fault, outage.startMs + outage.durationMs - elapsedMs),
          source: 'outage',
          latencyMs,
        };
      }
    }
    if (this.burst !== undefined && elapsedMs < this.burst.untilMs) {
      return { fault: remaining(this.burst.fault, this.burst.untilMs - elapsedMs), source: 'burst', latencyMs };
    }
    this.burst = undefined;
    for (const burst of this.profile.bursts ?? []) {
      if (this.random.next() < burst.probability) {
        this.burst = { fault: burst.fault, untilMs: elapsedMs + burst.durationMs };
        return { fault: remaining(burst.fault, burst.durationMs), source: 'burst', latencyMs };
      }
    }
    for (const single of this.profile.faults ?? []) {
      if (this.random.next() < single.probability) return { fault: single.fault, source: 'random', latencyMs };
    }
    return { fault: undefined, source: 'none', latencyMs };
  }
}

/** A rate-limit fault during a burst or outage says, in `Retry-After`, how long is left (whole seconds, at least 1). */
function remaining(fault: Fault, leftMs: number): Fault {
  if (fault.kind === 'rate-limit' && fault.retryAfterS === undefined) {
    return { ...fault, retryAfterS: Math.max(1, Math.ceil(leftMs / 1000)) };
  }
  return fault;
}
