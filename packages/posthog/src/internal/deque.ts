/**
 * A bounded double-ended queue on a ring buffer: O(1) at both ends, no shifting, no growth past its
 * capacity. The event queue takes from the front, puts failed batches back at the front (in their
 * order) and drops the oldest from the front when full.
 *
 * @module
 */

export class Deque<T> {
  private readonly slots: (T | undefined)[];
  private head = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.length;
  }

  /** Adds at the back; the caller checks there is room. */
  pushBack(item: T): void {
    if (this.length === this.capacity) throw new RangeError('Deque is full');
    this.slots[(this.head + this.length) % this.capacity] = item;
    this.length++;
  }

  /** Puts `items` back at the front, keeping their order; the caller checks there is room. */
  pushFrontAll(items: readonly T[]): void {
    if (this.length + items.length > this.capacity) throw new RangeError('Deque is full');
    for (let i = items.length - 1; i >= 0; i--) {
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.slots[this.head] = items[i];
      this.length++;
    }
  }

  popFront(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.length--;
    return item;
  }

  /** The item `i` places from the front. */
  at(i: number): T | undefined {
    return i < this.length ? this.slots[(this.head + i) % this.capacity] : undefined;
  }

  /** Removes and returns everything, front first. */
  drain(): T[] {
    const all: T[] = [];
    for (let item = this.popFront(); item !== undefined; item = this.popFront()) all.push(item);
    return all;
  }
}
