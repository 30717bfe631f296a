// The fake OilPriceAPI's own model: deterministic prices and fault decisions, latency draws in bounds.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import {
  defaultFaultProfile,
  fakeCatalogue,
  fakeCommodity,
  fakePriceAt,
  FaultPlanner,
  RAW_STEP_MS,
  sampleLatency,
  seededRandom,
  type FaultProfile,
} from '../src/fake-oilprice/index.js';

describe('price series', () => {
  it('is a pure function of code and time, constant within a 5-minute slot', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fakeCatalogue),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        (commodity, at) => {
          const slotStart = Math.floor(at / RAW_STEP_MS) * RAW_STEP_MS;
          expect(fakePriceAt(commodity, at)).toBe(fakePriceAt(commodity, slotStart));
          expect(fakePriceAt(commodity, at)).toBe(fakePriceAt(commodity, slotStart + RAW_STEP_MS - 1));
        },
      ),
    );
  });

  it('stays within 10 % of its level, and moves under 2 % between consecutive points', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fakeCatalogue),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        (commodity, at) => {
          const price = fakePriceAt(commodity, at);
          const next = fakePriceAt(commodity, at + RAW_STEP_MS);
          const unit = 10 ** -commodity.decimals;
          expect(Math.abs(price / commodity.base - 1)).toBeLessThanOrEqual(0.1);
          expect(Math.abs(next - price)).toBeLessThanOrEqual(Math.max(0.02 * commodity.base, unit));
        },
      ),
    );
  });

  it('knows the reference codes', () => {
    expect(fakeCommodity('BRENT_CRUDE_USD')?.unit).toBe('barrel');
    expect(fakeCommodity('US_REFINERY_UTILIZATION')?.currency).toBeNull();
    expect(fakeCommodity('NOPE')).toBeUndefined();
  });
});

describe('fault planner', () => {
  it('decides the same for the same seed and request times', () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 200 }), (seed, times) => {
        const sorted = [...times].sort((a, b) => a - b);
        const a = new FaultPlanner(defaultFaultProfile, seededRandom(seed));
        const b = new FaultPlanner(defaultFaultProfile, seededRandom(seed));
        expect(sorted.map((t) => a.decide(t))).toEqual(sorted.map((t) => b.decide(t)));
      }),
      { numRuns: 50 },
    );
  });

  it('scripted faults come first, in order, then the profile', () => {
    const planner = new FaultPlanner({}, seededRandom(1));
    planner.script([{ kind: 'bad-gateway-html' }, { kind: 'malformed-json' }]);
    expect(planner.decide(0)).toMatchObject({ source: 'scripted', fault: { kind: 'bad-gateway-html' } });
    expect(planner.decide(0)).toMatchObject({ source: 'scripted', fault: { kind: 'malformed-json' } });
    expect(planner.decide(0)).toMatchObject({ source: 'none', fault: undefined, latencyMs: 0 });
  });

  it('an outage hits every request inside its window and none outside', () => {
    const profile: FaultProfile = { outages: [{ startMs: 100, durationMs: 50, fault: { kind: 'hang' } }] };
    const planner = new FaultPlanner(profile, seededRandom(7));
    expect([99, 100, 149, 150].map((t) => planner.decide(t).source)).toEqual(['none', 'outage', 'outage', 'none']);
  });

  it('a burst lasts its duration, and a 429 burst counts its Retry-After down', () => {
    const profile: FaultProfile = { bursts: [{ probability: 1, durationMs: 3000, fault: { kind: 'rate-limit' } }] };
    const planner = new FaultPlanner(profile, seededRandom(7));
    expect(planner.decide(0).fault).toEqual({ kind: 'rate-limit', retryAfterS: 3 });
    expect(planner.decide(1001).fault).toEqual({ kind: 'rate-limit', retryAfterS: 2 });
    expect(planner.decide(2999)).toMatchObject({ source: 'burst', fault: { retryAfterS: 1 } });
  });

  it('random faults occur at about their probability', () => {
    const planner = new FaultPlanner(
      { faults: [{ probability: 0.1, fault: { kind: 'malformed-json' } }] },
      seededRandom(3),
    );
    let hits = 0;
    for (let i = 0; i < 20_000; i++) if (planner.decide(i).fault !== undefined) hits++;
    expect(hits / 20_000).toBeGreaterThan(0.09);
    expect(hits / 20_000).toBeLessThan(0.11);
  });

  it('latency draws stay in their bounds, and a lognormal’s median is its median', () => {
    const random = seededRandom(11);
    const draws = Array.from({ length: 10_001 }, () =>
      sampleLatency({ kind: 'lognormal', medianMs: 100, sigma: 0.5, maxMs: 400 }, random),
    ).sort((a, b) => a - b);
    expect(draws[0]).toBeGreaterThan(0);
    expect(draws[draws.length - 1]).toBeLessThanOrEqual(400);
    expect(draws[5000]).toBeGreaterThan(95);
    expect(draws[5000]).toBeLessThan(105);
    for (let i = 0; i < 100; i++) {
      const ms = sampleLatency({ kind: 'uniform', minMs: 10, maxMs: 20 }, random);
      expect(ms >= 10 && ms <= 20).toBe(true);
    }
  });
});
