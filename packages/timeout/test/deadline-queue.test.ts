import { describe, expect, it } from '@jest/globals';
import { Scope } from '@bulwark/core';
import { VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { timeout } from '../src/index.js';

import {
  DeadlineQueue,
  deadlineQueue,
  STAMP_EVERY_MS,
  type Entry,
  type ExpiryHandler,
} from '../src/internal/deadline-queue.js';

// A test below needs the collector on demand (Jest runs without `--expose-gc`).
setFlagsFromString('--expose-gc');

/** One step of a generated scenario. */
type Step =
  | { readonly kind: 'join' }
  | { readonly kind: 'leave'; readonly pick: number }
  | { readonly kind: 'wait'; readonly ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'join' as const }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('leave' as const), pick: fc.nat() }), weight: 2 },
  // Quarter milliseconds too, so that calls join between two stamping ticks.
  {
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      ms: fc.integer({ min: 0, max: 160 }).map((q) => q / 4),
    }),
    weight: 3,
  },
);

/** Makes a timeout of `timeoutMs`, makes one call through it, and drops it. */
async function callOnce(clock: VirtualClock, timeoutMs: number): Promise<WeakRef<DeadlineQueue>> {
  await timeout({ timeoutMs, clock }).execute(async () => 'in time');
  return new WeakRef(deadlineQueue(clock, timeoutMs));
}

describe('deadline queue (against a model, over generated scenarios)', () => {
  it('expires each entry timeoutMs after it joined (at most 1 ms late), never one that left, with at most two timers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 50 }), fc.array(step, { maxLength: 80 }), async (timeoutMs, steps) => {
        const clock = new VirtualClock();
        const queue = new DeadlineQueue(clock, timeoutMs);
        const joinedAt = new Map<Entry, number>();
        const expiredAt = new Map<Entry, number>();
        const left = new Set<Entry>();
        const pending: Entry[] = [];
        const owner: ExpiryHandler = {
          expire: (entry) => {
            expiredAt.set(entry, clock.now());
            pending.splice(pending.indexOf(entry), 1);
          },
        };
        const root = Scope.root(async () => undefined);
        const checkTimers = (): void => {
          if (queue.timers > 2 || clock.pending !== queue.timers) {
            throw new Error(`${queue.timers} timers armed, ${clock.pending} pending on the clock`);
          }
        };
        for (const s of steps) {
          if (s.kind === 'join') {
            const entry = queue.push(root.child(true), owner);
            joinedAt.set(entry, clock.now());
            pending.push(entry);
          } else if (s.kind === 'leave') {
            if (pending.length === 0) continue;
            const entry = pending.splice(s.pick % pending.length, 1)[0] as Entry;
            queue.remove(entry);
            left.add(entry);
          } else {
            await clock.advance(s.ms);
          }
          checkTimers();
          if (queue.size !== pending.length) throw new Error(`size ${queue.size}, model ${pending.length}`);
        }
        await clock.advance(timeoutMs + STAMP_EVERY_MS);
        if (pending.length !== 0) throw new Error(`${pending.length} entries never expired`);
        for (const [entry, at] of expiredAt) {
          const joined = joinedAt.get(entry) as number;
          if (left.has(entry)) throw new Error('an entry that left expired');
          if (at < joined + timeoutMs) throw new Error(`expired early: joined ${joined}, expired ${at}`);
          if (at > joined + timeoutMs + STAMP_EVERY_MS)
            throw new Error(`expired late: joined ${joined}, expired ${at}`);
        }
        // Nothing pending: the tick has nothing to stamp and the alarm, if any, fires once and stops.
        await clock.advance(timeoutMs);
        checkTimers();
        expect(clock.pending).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('expires entries in the order they joined', async () => {
    const clock = new VirtualClock();
    const queue = new DeadlineQueue(clock, 10);
    const order: number[] = [];
    const root = Scope.root(async () => undefined);
    const entries: Entry[] = [];
    for (let i = 0; i < 5; i++) {
      const id = i;
      entries.push(queue.push(root.child(true), { expire: () => order.push(id) }));
    }
    await clock.advance(11);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(entries.every((entry) => entry.prev === undefined && entry.next === undefined)).toBe(true);
  });

  it('reuses the entries of calls that left', () => {
    const clock = new VirtualClock();
    const queue = new DeadlineQueue(clock, 10);
    const owner: ExpiryHandler = { expire: () => undefined };
    const root = Scope.root(async () => undefined);
    const first = queue.push(root.child(true), owner);
    queue.remove(first);
    queue.release(first);
    expect(first.scope).toBeUndefined();
    expect(queue.push(root.child(true), owner)).toBe(first);
  });

  it('is shared per clock and duration', () => {
    const a = new VirtualClock();
    const b = new VirtualClock();
    expect(deadlineQueue(a, 100)).toBe(deadlineQueue(a, 100));
    expect(deadlineQueue(a, 100)).not.toBe(deadlineQueue(a, 200));
    expect(deadlineQueue(a, 100)).not.toBe(deadlineQueue(b, 100));
  });

  it('is not kept alive by the sharing: a timeout per request, each with its own duration, leaves no queue behind', async () => {
    const collect = runInNewContext('gc') as () => void;
    const clock = new VirtualClock();
    const made: WeakRef<DeadlineQueue>[] = [];
    for (let i = 1; i <= 50; i++) made.push(await callOnce(clock, 1000 + i));
    // Their alarms fire and find nothing due; then nothing but the module's map could hold them.
    await clock.advance(2000);
    expect(clock.pending).toBe(0);
    // Collected in a job of its own: a target `deref()` returned stays alive until the job ends.
    const live = (): number[] => made.flatMap((ref, i) => (ref.deref() !== undefined ? [i] : []));
    for (let round = 0; round < 10; round++) {
      await new Promise((resolve) => setImmediate(resolve));
      collect();
      await new Promise((resolve) => setImmediate(resolve));
      if (live().length === 0) break;
    }
    // Before queues were held weakly, all 50 stayed.
    expect(live()).toEqual([]);
  });
});
