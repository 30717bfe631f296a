/**
 * The latencies of the last `size` calls, kept both in arrival order (a ring, to know which one a new
 * sample replaces) and sorted (to read any percentile in O(1)).
 *
 * Recording a sample is two binary searches and two `copyWithin`s of the sorted array: O(log n)
 * comparisons and an O(n) memmove, a few hundred nanoseconds for a thousand samples. Quickselect
 * would make every read O(n) instead, with a larger constant; an HDR histogram cannot forget old
 * samples, so it would track every call since start rather than recent ones.
 *
 * Laws (test/latency-window.test.ts): `percentile(p)` is the nearest-rank p-th percentile of the last
 * `size` samples recorded, as sorting them would give.
 *
 * @module
 */

/** Index of the first element of `sorted[0..count)` that is >= `value` (or > it, with `after`). */
function search(sorted: Float64Array, count: number, value: number, after: boolean): number {
  let low = 0;
  let high = count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const at = sorted[mid] as number;
    if (at < value || (after && at === value)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** A sliding window of the last `size` latencies, in milliseconds. */
export class LatencyWindow {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  /** Where the next sample goes in `ring`. */
  private next = 0;
  /** How many samples the window holds (at most `size`). */
  count = 0;

  constructor(readonly size: number) {
    this.ring = new Float64Array(size);
    this.sorted = new Float64Array(size);
  }

  /** Adds a sample, forgetting the oldest once the window is full. */
  record(ms: number): void {
    const { ring, sorted, size } = this;
    if (this.count === size) {
      const oldest = ring[this.next] as number;
      const at = search(sorted, size, oldest, false);
      sorted.copyWithin(at, at + 1, size);
      this.count--;
    }
    ring[this.next] = ms;
    this.next = this.next + 1 === size ? 0 : this.next + 1;
    const at = search(sorted, this.count, ms, true);
    sorted.copyWithin(at + 1, at, this.count);
    sorted[at] = ms;
    this.count++;
  }

  /**
   * The nearest-rank `p`-th percentile of the samples (`p` in (0, 100]): the smallest sample that at
   * least `p`% of the samples do not exceed. `undefined` while the window is empty.
   */
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p * this.count) / 100));
    return this.sorted[rank - 1];
  }
}
