import { describe, expect, it } from '@jest/globals';
import { Scope } from '@bulwark/core';

import { WaitQueue, Watched } from '../src/internal/waiters.js';

const scope = (): Scope => Scope.root(async () => undefined);
const noop = (): void => undefined;

/** Takes every waiter out, returning the order they were queued in (their `queuedAt`). */
function drain(queue: WaitQueue): number[] {
  const order: number[] = [];
  while (queue.shift() !== undefined) order.push(queue.shiftedAt);
  return order;
}

describe('WaitQueue (the ring buffer behind the bulkhead queue)', () => {
  it('allocates nothing until the first waiter', () => {
    expect(new WaitQueue().capacity).toBe(0);
  });

  it('does not grow for waiters that left: holes are compacted away when the ring is full', () => {
    const queue = new WaitQueue();
    queue.push(noop, scope(), 0);
    // 10,000 waiters join behind one that stays, and abort: each leaves a hole.
    for (let i = 1; i <= 10_000; i++) {
      const watched = new Watched(scope());
      queue.push(noop, watched, i);
      queue.remove(watched);
      expect(watched.slot).toBe(-1);
    }
    expect(queue.size).toBe(1);
    expect(queue.capacity).toBe(16);
    queue.push(noop, scope(), 10_001);
    expect(drain(queue)).toEqual([0, 10_001]);
  });

  it('keeps FIFO order and the slots of abortable waiters through growth and shrinking', () => {
    const queue = new WaitQueue();
    const watched: Watched[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) {
        const w = new Watched(scope());
        watched.push(w);
        queue.push(noop, w, i);
      } else queue.push(noop, scope(), i);
    }
    expect(queue.capacity).toBe(1024);
    // Remove every fourth waiter through its (moved) slot: the right one leaves.
    for (const w of watched.filter((_, k) => k % 2 === 0)) queue.remove(w);
    const expected = Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 4 !== 0);
    expect(queue.size).toBe(expected.length);
    const order: number[] = [];
    for (let k = 0; k < 650; k++) {
      expect(queue.shift()).toBe(noop);
      order.push(queue.shiftedAt);
    }
    // Most waiters gone: the ring shrank, and what is left keeps its order and its slots.
    expect(queue.capacity).toBeLessThan(1024);
    const rest = watched.filter((w) => w.slot >= 0);
    for (const w of rest) queue.remove(w);
    order.push(...drain(queue));
    const removedLate = new Set(expected.slice(650).filter((i) => i % 2 === 0));
    expect(order).toEqual(expected.filter((i) => !removedLate.has(i)));
    expect(queue.size).toBe(0);
  });
});
