/**
 * The bulkhead against p-limit, p-queue and cockatiel: draining a queue of 100,000 and 400,000 tasks
 * (every task queued at once behind 10 slots, then awaited), and the per-call cost of a call that
 * finds a free slot.
 */

import { bulkhead } from '@bulwark/bulkhead';
import { bulkhead as cockatielBulkhead } from 'cockatiel';
import pLimit from 'p-limit';
import PQueue from 'p-queue';

import {
  collectGarbage,
  compare,
  compareRuns,
  median,
  relativeTo,
  type BenchContext,
  type Figure,
  type Run,
  type Suite,
} from '../harness.js';

const SLOTS = 10;
const task = async (): Promise<number> => 1;

function drains(n: number, withCockatiel: boolean): { baseline: Run; cases: Run[] } {
  const each = <A>(call: () => Promise<A>): Promise<A[]> => Promise.all(Array.from({ length: n }, call));
  const baseline: Run = {
    name: 'p-limit 7',
    run: () => {
      const limit = pLimit(SLOTS);
      return each(() => limit(task));
    },
  };
  const cases: Run[] = [
    {
      name: 'bulwark bulkhead',
      run: () => {
        const pool = bulkhead({ capacity: SLOTS, queueSize: Number.POSITIVE_INFINITY });
        return each(() => pool.execute(task));
      },
    },
    {
      name: 'bulwark bulkhead, every call with a signal',
      run: () => {
        const pool = bulkhead({ capacity: SLOTS, queueSize: Number.POSITIVE_INFINITY });
        const { signal } = new AbortController();
        return each(() => pool.execute(task, signal));
      },
    },
    {
      name: 'p-queue 9',
      run: () => {
        const queue = new PQueue({ concurrency: SLOTS });
        return each(() => queue.add(task));
      },
    },
  ];
  if (withCockatiel) {
    cases.push({
      name: 'cockatiel 3 bulkhead',
      run: () => {
        const pool = cockatielBulkhead(SLOTS, Number.POSITIVE_INFINITY);
        return each(() => pool.execute(task));
      },
    });
  }
  return { baseline, cases };
}

export const bulkheadSuite: Suite = {
  name: 'bulkhead',
  async run(ctx: BenchContext) {
    const figures: Figure[] = [];
    const sizes = ctx.quick ? [10_000] : [100_000, 400_000];
    for (const n of sizes) {
      // cockatiel 3's queue is an array it shifts from, so its drain is quadratic: 41 s for 100,000
      // tasks and 287 s for 400,000 (against p-limit's 2 and 7 s), which made this suite take 22
      // minutes. 100,000 shows it; 400,000 runs without it.
      const { baseline, cases } = drains(n, n <= 100_000);
      const rounds = ctx.quick ? 1 : n > 100_000 ? 3 : 5;
      figures.push(
        ...(await compareRuns(`bulkhead: drain ${n.toLocaleString('en-US')} tasks`, baseline, cases, rounds)),
      );
    }
    figures.push(...(await heldPerQueuedCall(ctx)));
    figures.push(...(await perCall(ctx)));
    return figures;
  },
};

/**
 * The heap a queued call holds: growth of the heap once every call is queued, before any has run.
 * A long drain is mostly garbage collection, which copies what the queue holds, so this is what its
 * time follows. (The array of the callers' promises is counted in every case alike.)
 */
async function heldPerQueuedCall(ctx: BenchContext): Promise<Figure[]> {
  const n = ctx.quick ? 10_000 : 100_000;
  const rounds = ctx.quick ? 1 : 3;
  const queueAll = (call: () => Promise<unknown>): Promise<unknown>[] => Array.from({ length: n }, call);
  const cases: [string, () => Promise<unknown>[]][] = [
    [
      'p-limit 7',
      () => {
        const limit = pLimit(SLOTS);
        return queueAll(() => limit(task));
      },
    ],
    [
      'bulwark bulkhead',
      () => {
        const pool = bulkhead({ capacity: SLOTS, queueSize: Number.POSITIVE_INFINITY });
        return queueAll(() => pool.execute(task));
      },
    ],
    [
      'bulwark bulkhead, every call with a signal',
      () => {
        const pool = bulkhead({ capacity: SLOTS, queueSize: Number.POSITIVE_INFINITY });
        const { signal } = new AbortController();
        return queueAll(() => pool.execute(task, signal));
      },
    ],
    [
      'p-queue 9',
      () => {
        const queue = new PQueue({ concurrency: SLOTS });
        return queueAll(() => queue.add(task));
      },
    ],
  ];
  const samples = cases.map((): number[] => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, [, queue]] of cases.entries()) {
      collectGarbage();
      const before = process.memoryUsage().heapUsed;
      const calls = queue();
      (samples[i] as number[]).push((process.memoryUsage().heapUsed - before) / n);
      await Promise.all(calls);
    }
  }
  const measured = cases.map(([name], i) => ({ name, value: median(samples[i] as number[]) }));
  return relativeTo(
    `bulkhead: heap held per queued call (${n.toLocaleString('en-US')} queued)`,
    measured[0] as { name: string; value: number },
    measured.slice(1),
    'bytes/call',
  );
}

/** A call that finds a free slot: the cost of the bookkeeping alone. */
function perCall(ctx: BenchContext): Promise<Figure[]> {
  const pool = bulkhead({ capacity: 1_000_000 });
  const limit = pLimit(1_000_000);
  const cockatiel = cockatielBulkhead(1_000_000);
  const queue = new PQueue({ concurrency: 1_000_000 });
  return compare(
    'bulkhead: one call, free slot',
    { name: 'bare async call', run: task },
    [
      { name: 'bulwark bulkhead', run: () => pool.execute(task) },
      { name: 'p-limit 7', run: () => limit(task) },
      { name: 'p-queue 9', run: () => queue.add(task) },
      { name: 'cockatiel 3 bulkhead', run: () => cockatiel.execute(task) },
    ],
    ctx,
  );
}
