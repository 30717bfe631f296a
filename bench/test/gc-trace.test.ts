import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { describe, expect, it } from '@jest/globals';

import { allocatedPerCall } from '../src/gc-trace.js';

const MB = 1024 * 1024;
const line = (kind: string, before: number, after: number, reason: string): string =>
  `[1:0x1]  12 ms: ${kind} ${before} (5.2) -> ${after} (5.2) MB, 0.03 / 0.00 ms  (average mu = 1.000, current mu = 1.000) ${reason}; `;

describe('allocatedPerCall', () => {
  it('sums what each collection after the first forced one found beyond what the previous one left', () => {
    const trace = [
      line('Scavenge', 9.0, 1.0, 'allocation failure'), // before the measured calls: not counted
      line('Mark-Compact', 3.6, 2.7, 'testing'),
      line('Scavenge', 4.0, 3.0, 'allocation failure'),
      'an unrelated line the program printed',
      line('Minor Mark-Compact', 4.5, 3.5, 'allocation failure'),
      line('Mark-Compact', 3.9, 2.7, 'testing'),
      line('Scavenge', 8.0, 1.0, 'allocation failure'), // after: not counted
    ].join('\n');
    // (4.0 - 2.7) + (4.5 - 3.0) + (3.9 - 3.5) = 3.2 MB
    expect(allocatedPerCall(trace, 1000)).toBeCloseTo((3.2 * MB) / 1000, 6);
  });

  it('reads the last two forced collections when there are more', () => {
    const trace = [
      line('Mark-Compact', 3.0, 2.0, 'testing'),
      line('Scavenge', 50.0, 2.0, 'allocation failure'),
      line('Mark-Compact', 3.0, 2.0, 'testing'),
      line('Scavenge', 3.0, 2.0, 'allocation failure'),
      line('Mark-Compact', 3.0, 2.0, 'testing'),
    ].join('\n');
    expect(allocatedPerCall(trace, 1)).toBeCloseTo(2 * MB, 6);
  });

  it('refuses a trace without two forced collections instead of printing a wrong figure', () => {
    expect(() => allocatedPerCall(line('Mark-Compact', 3.0, 2.0, 'testing'), 1)).toThrow(/no two forced collections/);
    expect(() => allocatedPerCall('', 1)).toThrow(/no two forced collections/);
  });

  it('counts what a real Node allocates: 1,000 more array elements a call read as 8,000 more bytes', async () => {
    // Each call keeps a fresh array of `length` small integers (8 bytes an element on 64-bit Node as
    // released, built without pointer compression; a build with it stores 4, and this test says so),
    // between two forced collections, as bench:instructions' child does.
    const program = `
      const length = Number(process.argv[1]);
      let kept;
      for (let i = 0; i < 2000; i++) kept = new Array(length).fill(i);
      gc();
      for (let i = 0; i < 20000; i++) kept = new Array(length).fill(i);
      gc();
    `;
    const bytes = async (length: number): Promise<number> => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--expose-gc', '--trace-gc', '--single-threaded', '-e', program, String(length)],
        { maxBuffer: 16 * MB },
      );
      return allocatedPerCall(stdout, 20_000);
    };
    const [small, large] = await Promise.all([bytes(100), bytes(1100)]);
    expect(small).toBeGreaterThan(800);
    expect(large - small).toBeGreaterThan(8000 * 0.95);
    expect(large - small).toBeLessThan(8000 * 1.05);
  });
});
