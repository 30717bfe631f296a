import { describe, expect, it } from '@jest/globals';
import { pipeline, type HealthSource, type Policy } from '@bulwark/core';
import { expectTypeOf } from 'expect-type';

import { cache, type CacheEvent, type CachePolicy } from '../src/index.js';

describe('types', () => {
  it('infers the key function from the arguments it names, and keyOf takes the same', () => {
    const prices = cache({ key: (code: string, days: number) => `${code}:${days}` });
    expectTypeOf(prices).toEqualTypeOf<CachePolicy<[code: string, days: number]>>();
    expectTypeOf(prices.keyOf).parameters.toEqualTypeOf<[code: string, days: number]>();
    // @ts-expect-error - keyOf refuses arguments the key function refuses
    void (() => prices.keyOf(1, 2));
    expect(prices.keyOf('WTI', 7)).toBe('WTI:7');
  });

  it('is a policy of cache events and a health source, and wrap keeps the function type', () => {
    const prices = cache();
    expectTypeOf(prices).toExtend<Policy<CacheEvent>>();
    expectTypeOf(prices).toExtend<HealthSource>();
    const fetchPrice = async (code: string): Promise<{ code: string; usd: number }> => ({ code, usd: 1 });
    expectTypeOf(pipeline(prices).wrap(fetchPrice)).toEqualTypeOf<typeof fetchPrice>();
    expectTypeOf(prices.forKey('WTI')).toEqualTypeOf<Policy<CacheEvent>>();
  });

  it('narrows events by type', () => {
    const prices = cache();
    prices.onEvent((event) => {
      if (event.type === 'stale') expectTypeOf(event.reason).toEqualTypeOf<'revalidate' | 'error'>();
      if (event.type === 'hit') expectTypeOf(event.source).toEqualTypeOf<'l1' | 'store'>();
    });
    expect(prices.kind).toBe('cache');
  });
});
