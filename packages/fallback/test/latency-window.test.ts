import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { LatencyWindow } from '../src/internal/latency-window.js';

/** The nearest-rank percentile, by sorting. */
function nearestRank(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1];
}

describe('latency window', () => {
  it('gives the nearest-rank percentile of the last `size` samples, as sorting them would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        // Small integers, so that equal samples (the binary searches' hard case) are common.
        fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 100 }),
        (size, samples, p) => {
          const window = new LatencyWindow(size);
          samples.forEach((sample, i) => {
            window.record(sample);
            const recent = samples.slice(Math.max(0, i + 1 - size), i + 1);
            if (window.count !== recent.length) throw new Error(`count ${window.count}, expected ${recent.length}`);
            const got = window.percentile(p);
            const expected = nearestRank(recent, p);
            if (got !== expected) throw new Error(`p${p} after ${i + 1}: ${got} !== ${expected}`);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is empty until the first sample', () => {
    const window = new LatencyWindow(3);
    expect(window.percentile(50)).toBeUndefined();
    window.record(12.5);
    expect(window.percentile(1)).toBe(12.5);
    expect(window.percentile(100)).toBe(12.5);
  });

  it('forgets the oldest sample once full', () => {
    const window = new LatencyWindow(3);
    for (const ms of [100, 1, 2, 3]) window.record(ms);
    expect(window.percentile(100)).toBe(3);
  });
});
