/**
 * The bulkhead's decision, as a pure function of its figures.
 *
 * Laws (see test/laws.test.ts): a call runs only while `running < capacity` and nobody waits, so
 * running never exceeds the capacity and no call overtakes a waiting one; it waits only while the
 * queue has room, so the queue never exceeds its size; otherwise it is rejected.
 *
 * @module
 */

/**
 * What a bulkhead does with a new call: run it now, queue it, or reject it.
 *
 * @category models
 * @since 0.1.0
 */
export type Admission = 'run' | 'queue' | 'reject';

/**
 * Decides what happens to a new call, given how many calls run and wait now.
 *
 * @param running - Calls holding a slot.
 * @param queued - Calls waiting for one.
 * @param capacity - Slots (calls that may run at once).
 * @param queueSize - Queue places (calls that may wait); `Infinity` for no bound.
 *
 * @example
 * ```ts
 * assert.equal(admission(1, 0, 2, 0), 'run');
 * assert.equal(admission(2, 0, 2, 1), 'queue');
 * assert.equal(admission(2, 1, 2, 1), 'reject');
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export function admission(running: number, queued: number, capacity: number, queueSize: number): Admission {
  // A waiting call means every slot is taken: a slot that frees goes to the head of the queue.
  if (running < capacity && queued === 0) return 'run';
  return queued < queueSize ? 'queue' : 'reject';
}
