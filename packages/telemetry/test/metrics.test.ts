import { afterEach, describe, expect, it } from '@jest/globals';
import { noop, pipeline } from '@bulwark/core';
import { VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';

import { instrument, metrics, type MetricsSink } from '../src/index.js';
import { after, breaking, caching, retrying, timing, TimeoutError } from './fixtures.js';

const sinks: MetricsSink[] = [];
const make = (...args: Parameters<typeof metrics>): MetricsSink => {
  const sink = metrics(...args);
  sinks.push(sink);
  return sink;
};
afterEach(() => {
  for (const sink of sinks.splice(0)) sink.dispose();
});

describe('metrics', () => {
  it('counts outcomes, failures by tag, and the decisions the policies made', async () => {
    const clock = new VirtualClock();
    const stats = make({ clock });
    const breaker = breaking(3);
    const policy = instrument(pipeline(retrying(1, 50, clock), caching(), breaker, timing(100, clock)), [stats], {
      name: 'oilprice',
      clock,
    });
    // 1: ok at 10 ms. 2: times out twice (retried once) -> Timeout. 3: a TypeError opens the breaker,
    // which rejects the retry -> BrokenCircuit. 4: rejected twice -> BrokenCircuit. 5: a cache hit.
    await clock.run(policy.execute(after(clock, 10, { value: 1 }), { correlationId: 'a' }));
    await clock.run(policy.execute(after(clock, 150, { value: 2 }), { correlationId: 'b' })).catch(() => undefined);
    await clock
      .run(policy.execute(after(clock, 5, { error: new TypeError('bad') }), { correlationId: 'c' }))
      .catch(() => undefined);
    await clock.run(policy.execute(after(clock, 5, { value: 4 }), { correlationId: 'd' })).catch(() => undefined);
    await clock.run(policy.execute(after(clock, 5, { value: 5 }), { correlationId: 'a' }));

    const [row] = stats.snapshot().policies;
    expect(row).toMatchObject({
      policy: 'oilprice',
      calls: 5,
      successes: 2,
      failures: 3,
      failuresByType: { Timeout: 1, BrokenCircuit: 2 },
      retries: 3,
      rejections: 3,
      timeouts: 2,
      cache: { hits: 1, misses: 7, stale: 0 },
      breakers: { breaker: 'open' },
    });
    expect(row?.events['retry']).toEqual({ retry: 3, success: 2, 'give-up': 3 });
    expect(row?.events['breaker']).toEqual({ 'state-change': 1, rejected: 3 });
    expect(row?.events['cache']).toEqual({ miss: 7, hit: 1 });
    expect(row?.latency.count).toBe(5);
    expect(row?.latency.maxMs).toBe(350);
  });

  it('reports p50/p95/p99/max within the histogram precision of the exact percentiles', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5_000_000 }), { minLength: 1, maxLength: 300 }),
        async (us) => {
          const clock = new VirtualClock();
          const stats = metrics({ clock });
          try {
            const policy = instrument(noop, [stats], { clock });
            for (const d of us) {
              const start = clock.now();
              await clock.run(policy.execute(async () => clock.sleep(d / 1000)));
              expect(clock.now() - start).toBeCloseTo(d / 1000, 6);
            }
            const sorted = [...us].sort((a, b) => a - b);
            const exact = (p: number): number =>
              (sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number) / 1000;
            const { latency } = stats.snapshot().policies[0] ?? { latency: undefined };
            for (const [got, want] of [
              [latency?.p50Ms, exact(50)],
              [latency?.p95Ms, exact(95)],
              [latency?.p99Ms, exact(99)],
              [latency?.maxMs, exact(100)],
            ] as const) {
              // 3 significant digits: within 0.1% (plus the rounding to whole microseconds and to 3 decimals).
              expect(Math.abs((got ?? NaN) - want)).toBeLessThanOrEqual(want * 0.001 + 0.002);
            }
            // Never a percentile above the largest value recorded.
            for (const p of [latency?.p50Ms, latency?.p95Ms, latency?.p99Ms]) {
              expect(p).toBeLessThanOrEqual(latency?.maxMs ?? NaN);
            }
          } finally {
            stats.dispose();
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('renders a report a person can read: a row per policy, failures, breakers and components', async () => {
    const clock = new VirtualClock();
    const breaker = breaking(1, 'database');
    const stats = make({ clock, sources: [breaker] });
    const db = instrument(breaker, [stats], { name: 'db', clock });
    const llm = instrument(noop, [stats], { name: 'llm', clock });
    for (let i = 0; i < 3; i++) await clock.run(llm.execute(after(clock, 1200, { value: i })));
    await clock.run(db.execute(after(clock, 2, { error: new TimeoutError(2) }))).catch(() => undefined);
    await clock.advance(1000);
    const text = stats.report();
    expect(text).toContain('Bulwark metrics over 4.60s');
    const lines = text.split('\n');
    expect(lines[2]).toMatch(
      /^policy\s+calls\s+ok\s+failed\s+retries\s+rejected\s+timeouts\s+cache h\/m\/s\s+p50\s+p95\s+p99\s+max$/,
    );
    expect(lines.find((l) => l.startsWith('llm'))).toMatch(
      /^llm\s+3\s+3\s+0\s+0\s+0\s+0\s+0\/0\/0\s+1\.20s\s+1\.20s\s+1\.20s\s+1\.20s$/,
    );
    expect(lines.find((l) => l.startsWith('db '))).toMatch(/^db\s+1\s+0\s+1\s+/);
    expect(text).toContain('db failures: Timeout 1');
    expect(text).toContain('db breakers: database open');
    expect(lines.find((l) => l.startsWith('database'))).toMatch(
      /^database\s+breaker\s+unhealthy\s+state=open failures=1$/,
    );
  });

  it('zeroes on reset and stops on dispose', async () => {
    const stats = metrics();
    const policy = instrument(noop, [stats]);
    await policy.execute(async () => 1);
    stats.reset();
    expect(stats.snapshot().policies[0]).toMatchObject({ calls: 0, latency: { count: 0, p99Ms: 0 } });
    stats.dispose();
    await policy.execute(async () => 1);
    expect(stats.snapshot().policies).toEqual([]);
    expect(() => instrument(noop, [stats])).toThrow(/disposed/);
  });

  it('may be disposed before or after the policies it instruments, each as often as you like', async () => {
    for (const sinkFirst of [true, false]) {
      const stats = metrics();
      const policy = instrument(noop, [stats], { name: 'a' });
      await policy.execute(async () => 1);
      const binding = stats.bind('b');
      if (sinkFirst) stats.dispose();
      // The binding's dispose frees the same WebAssembly histogram the sink's does: freed twice, it threw.
      expect(() => binding.dispose?.()).not.toThrow();
      expect(() => binding.dispose?.()).not.toThrow();
      expect(() => stats.dispose()).not.toThrow();
      expect(() => stats.dispose()).not.toThrow();
      // And a call that ends after touches no freed memory (recording into a freed histogram throws).
      expect(() => binding.end({} as never, 1, { ok: true, value: 1 }, undefined)).not.toThrow();
    }
    // Sinks made afterwards record into histograms of their own.
    const clock = new VirtualClock();
    const later = make({ clock });
    await clock.run(instrument(noop, [later], { clock }).execute(async () => clock.sleep(30)));
    expect(later.snapshot().policies[0]?.latency).toMatchObject({ count: 1, maxMs: 30 });
  });

  it('bounds the failure types it keeps', async () => {
    const stats = make({ maxErrorTypes: 2 });
    const policy = instrument(noop, [stats]);
    for (const name of ['A', 'B', 'C', 'D', 'A']) {
      const error = new Error(name);
      error.name = name;
      await policy.execute(async () => Promise.reject(error)).catch(() => undefined);
    }
    expect(stats.snapshot().policies[0]?.failuresByType).toEqual({ A: 2, B: 1, other: 2 });
  });

  it('records the same figures with the JavaScript histogram', async () => {
    const clock = new VirtualClock();
    const stats = make({ clock, webAssembly: false });
    const policy = instrument(noop, [stats], { clock });
    for (const ms of [1, 2, 3, 4, 100]) await clock.run(policy.execute(async () => clock.sleep(ms)));
    const latency = stats.snapshot().policies[0]?.latency;
    expect(latency?.count).toBe(5);
    // Within the 3 significant digits: HDR reports the highest value equivalent to the one recorded.
    expect(Math.abs((latency?.p50Ms ?? NaN) - 3)).toBeLessThanOrEqual(0.003);
    expect(Math.abs((latency?.maxMs ?? NaN) - 100)).toBeLessThanOrEqual(0.1);
  });

  it('rejects bad options, naming them', () => {
    expect(() => metrics({ significantDigits: 9 as never })).toThrow(/`significantDigits`/);
    expect(() => metrics({ maxErrorTypes: 0 })).toThrow(/`maxErrorTypes`/);
    expect(() => metrics({ sources: [{}] as never })).toThrow(/`sources`/);
    const source = { name: 'a', kind: 'x', health: () => ({ status: 'healthy' as const, details: {} }) };
    expect(() => metrics({ sources: [source, source] })).toThrow(/unique names/);
  });
});
