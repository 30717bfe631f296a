import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { ageOf, fallback, servableAge, verdict, type Freshness } from '../src/freshness.js';

const duration = fc.oneof(fc.integer({ min: 0, max: 10_000_000 }), fc.constant(0));
const freshness: fc.Arbitrary<Freshness> = fc.record({
  ttlMs: duration,
  staleWhileRevalidateMs: duration,
  maxStaleAgeMs: duration,
});
const age = fc.integer({ min: 0, max: 30_000_000 });

describe('verdict', () => {
  it('serves as fresh only entries younger than ttlMs', () => {
    fc.assert(
      fc.property(age, freshness, (a, f) => {
        expect(verdict(a, f) === 'fresh').toBe(a < f.ttlMs);
      }),
    );
  });

  it('revalidates only entries past the TTL and within the stale-while-revalidate window', () => {
    fc.assert(
      fc.property(age, freshness, (a, f) => {
        expect(verdict(a, f) === 'revalidate').toBe(a >= f.ttlMs && a < f.ttlMs + f.staleWhileRevalidateMs);
      }),
    );
  });

  it('is monotonic in age: fresh, then revalidate, then expired', () => {
    const rank = { fresh: 0, revalidate: 1, expired: 2 } as const;
    fc.assert(
      fc.property(age, age, freshness, (a, b, f) => {
        const [young, old] = a <= b ? [a, b] : [b, a];
        expect(rank[verdict(young, f)]).toBeLessThanOrEqual(rank[verdict(old, f)]);
      }),
    );
  });
});

describe('fallback', () => {
  it('serves stale only when allowed and at most maxStaleAgeMs old; expires only beyond it', () => {
    fc.assert(
      fc.property(fc.option(age, { nil: undefined }), fc.boolean(), freshness, (a, allowed, f) => {
        const decided = fallback(a, allowed, f);
        if (a === undefined || !allowed) expect(decided).toBe('rethrow');
        else expect(decided).toBe(a <= f.maxStaleAgeMs ? 'serve-stale' : 'expired');
      }),
    );
  });
});

describe('ageOf', () => {
  it('is never negative, and is the difference otherwise', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (storedAt, now) => {
        const a = ageOf(storedAt, now);
        expect(a).toBeGreaterThanOrEqual(0);
        if (now >= storedAt) expect(a).toBe(now - storedAt);
      }),
    );
  });
});

describe('servableAge', () => {
  it('bounds every age at which an entry is served', () => {
    fc.assert(
      fc.property(age, freshness, fc.boolean(), (a, f, staleIfError) => {
        const servedFromCache = verdict(a, f) !== 'expired' || fallback(a, staleIfError, f) === 'serve-stale';
        if (servedFromCache) expect(a).toBeLessThanOrEqual(servableAge(f, staleIfError));
      }),
    );
  });
});
