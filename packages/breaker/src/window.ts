/**
 * Windows: what a closed breaker remembers of recent calls, as immutable values with pure updates.
 *
 * - Consecutive: the number of counted failures in a row.
 * - Count window: the last `size` calls. Only the bad ones (failed or slow) are stored, by sequence
 *   number, so a window of healthy calls is a few numbers, whatever its size.
 * - Time window: per-bucket counts for the last `windowMs`.
 *
 * Laws: `record` never changes the window it is given (old values stay valid and equal to what they
 * were); a healthy call recorded into a full window of healthy calls returns the same object (so the
 * breaker's success path allocates nothing); a count window agrees with the naive list of the last
 * `size` outcomes, a time window with the naive list of timed outcomes (`test/laws.test.ts`).
 *
 * Bad calls are kept in an append-only buffer seen through `[head, end)`: appending past a window's
 * `end` leaves that window's view unchanged, so the next window can reuse the buffer instead of
 * copying it (the buffer is copied only when two windows branch from one, or to compact it).
 *
 * @module
 */

import type { CountWindow, Strategy, TimeWindow } from './strategy.js';

/** @category models */
export interface ConsecutiveState {
  readonly kind: 'consecutive';
  /** Counted failures in a row. */
  readonly failures: number;
}

/** @category models */
export interface CountWindowState {
  readonly kind: 'count-window';
  /** Calls in the window, at most the strategy's `size`. */
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
  /** The sequence number of the newest call. */
  readonly seq: number;
  /** Bad calls, oldest first, each `seq * 4 + flags` (1: failed, 2: slow), in `buf[head..end)`. */
  readonly buf: number[];
  readonly head: number;
  readonly end: number;
}

/** @category models */
export interface TimeWindowState {
  readonly kind: 'time-window';
  /** The index of the current bucket: `floor(now / bucketMs)`. */
  readonly bucket: number;
  /** Counts of the current bucket. */
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
  /** Totals of the earlier buckets still in the window. */
  readonly pastCalls: number;
  readonly pastFailures: number;
  readonly pastSlow: number;
  /** Earlier buckets, oldest first, as `index, calls, failures, slow` in `buf[head..end)`. */
  readonly buf: number[];
  readonly head: number;
  readonly end: number;
}

/**
 * What a closed breaker remembers of recent calls.
 *
 * @category models
 * @since 0.1.0
 */
export type WindowState = ConsecutiveState | CountWindowState | TimeWindowState;

/**
 * Counts over a window.
 *
 * @category models
 * @since 0.1.0
 */
export interface WindowStats {
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
}

const FAILED = 1;
const SLOW = 2;

/** The empty window of a strategy. */
export function emptyWindow(strategy: Strategy): WindowState {
  switch (strategy.kind) {
    case 'consecutive':
      return { kind: 'consecutive', failures: 0 };
    case 'count-window':
      return { kind: 'count-window', calls: 0, failures: 0, slow: 0, seq: 0, buf: [], head: 0, end: 0 };
    case 'time-window':
      return {
        kind: 'time-window',
        bucket: Number.NEGATIVE_INFINITY,
        calls: 0,
        failures: 0,
        slow: 0,
        pastCalls: 0,
        pastFailures: 0,
        pastSlow: 0,
        buf: [],
        head: 0,
        end: 0,
      };
  }
}

/**
 * Appends `values` to the view `buf[head..end)`; returns the buffer now holding the view followed by
 * them (the same one when nothing was appended past `end` yet), the view starting at index 0 of a new one.
 */
function append(buf: number[], head: number, end: number, a: number, b?: number, c?: number, d?: number): number[] {
  // Someone appended past this view already (a branch), or most of the buffer is dead: copy.
  if (buf.length !== end || (head > 64 && head * 2 > end)) buf = buf.slice(head, end);
  buf.push(a);
  if (b !== undefined) buf.push(b, c as number, d as number);
  return buf;
}

/**
 * Records one call. `now` is read only by a time window: for the other kinds any number will do.
 */
export function record(
  window: WindowState,
  failed: boolean,
  slow: boolean,
  now: number,
  strategy: Strategy,
): WindowState {
  switch (window.kind) {
    case 'consecutive':
      if (failed || slow) return { kind: 'consecutive', failures: window.failures + 1 };
      return window.failures === 0 ? window : { kind: 'consecutive', failures: 0 };
    case 'count-window':
      return recordCount(window, failed, slow, (strategy as CountWindow).size);
    case 'time-window':
      return recordTime(window, failed, slow, now, strategy as TimeWindow);
  }
}

function recordCount(w: CountWindowState, failed: boolean, slow: boolean, size: number): CountWindowState {
  const bad = failed || slow;
  // The steady state of a healthy service: nothing to remember, nothing to allocate.
  if (!bad && w.head === w.end && w.calls === size) return w;
  const seq = w.seq + 1;
  let { failures, slow: slowCalls, buf, head, end } = w;
  if (w.calls === size && head < end) {
    // The window is full: call `seq - size` leaves it.
    const oldest = buf[head] as number;
    if (Math.floor(oldest / 4) === seq - size) {
      const flags = oldest % 4;
      if ((flags & FAILED) !== 0) failures--;
      if ((flags & SLOW) !== 0) slowCalls--;
      head++;
    }
  }
  if (bad) {
    buf = append(buf, head, end, seq * 4 + (failed ? FAILED : 0) + (slow ? SLOW : 0));
    if (buf !== w.buf) {
      end -= head;
      head = 0;
    }
    end++;
    if (failed) failures++;
    if (slow) slowCalls++;
  }
  return {
    kind: 'count-window',
    calls: w.calls < size ? w.calls + 1 : size,
    failures,
    slow: slowCalls,
    seq,
    buf,
    head,
    end,
  };
}

function recordTime(
  w: TimeWindowState,
  failed: boolean,
  slow: boolean,
  now: number,
  strategy: TimeWindow,
): TimeWindowState {
  const bucketMs = strategy.windowMs / strategy.buckets;
  let bucket = Math.floor(now / bucketMs);
  // A clock that went back (wall clocks do) keeps counting into the current bucket.
  if (!(bucket >= w.bucket)) bucket = w.bucket;
  let { calls, failures, slow: slowCalls, pastCalls, pastFailures, pastSlow, buf, head, end } = w;
  if (bucket !== w.bucket) {
    if (calls > 0) {
      buf = append(buf, head, end, w.bucket, calls, failures, slowCalls);
      if (buf !== w.buf) {
        end -= head;
        head = 0;
      }
      end += 4;
      pastCalls += calls;
      pastFailures += failures;
      pastSlow += slowCalls;
    }
    calls = failures = slowCalls = 0;
    const oldestKept = bucket - strategy.buckets + 1;
    while (head < end && (buf[head] as number) < oldestKept) {
      pastCalls -= buf[head + 1] as number;
      pastFailures -= buf[head + 2] as number;
      pastSlow -= buf[head + 3] as number;
      head += 4;
    }
  }
  return {
    kind: 'time-window',
    bucket,
    calls: calls + 1,
    failures: failed ? failures + 1 : failures,
    slow: slow ? slowCalls + 1 : slowCalls,
    pastCalls,
    pastFailures,
    pastSlow,
    buf,
    head,
    end,
  };
}

/** Whether the window, just recorded into, says the breaker must trip. */
export function shouldTrip(window: WindowState, strategy: Strategy): boolean {
  if (window.kind === 'consecutive') return window.failures >= (strategy as { failures: number }).failures;
  const s = strategy as CountWindow | TimeWindow;
  const calls = window.kind === 'count-window' ? window.calls : window.calls + window.pastCalls;
  if (calls < s.minimumCalls) return false;
  const failures = window.kind === 'count-window' ? window.failures : window.failures + window.pastFailures;
  const slow = window.kind === 'count-window' ? window.slow : window.slow + window.pastSlow;
  return failures >= s.failureRate * calls || slow >= s.slowCallRate * calls;
}

/**
 * The window's counts at `now` (a time window leaves out buckets that have aged out by then).
 * A consecutive window reports its failures in a row as both `calls` and `failures`.
 */
export function windowStats(window: WindowState, now: number, strategy: Strategy): WindowStats {
  switch (window.kind) {
    case 'consecutive':
      return { calls: window.failures, failures: window.failures, slowCalls: 0 };
    case 'count-window':
      return { calls: window.calls, failures: window.failures, slowCalls: window.slow };
    case 'time-window': {
      const { windowMs, buckets } = strategy as TimeWindow;
      const oldestKept = Math.floor(now / (windowMs / buckets)) - buckets + 1;
      let calls = 0;
      let failures = 0;
      let slowCalls = 0;
      if (window.bucket >= oldestKept) {
        calls = window.calls;
        failures = window.failures;
        slowCalls = window.slow;
      }
      for (let i = window.head; i < window.end; i += 4) {
        if ((window.buf[i] as number) < oldestKept) continue;
        calls += window.buf[i + 1] as number;
        failures += window.buf[i + 2] as number;
        slowCalls += window.buf[i + 3] as number;
      }
      return { calls, failures, slowCalls };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// snapshots
// ---------------------------------------------------------------------------------------------

/**
 * A window as JSON: canonical (two windows that judge every future call alike have equal snapshots,
 * except a time window's bucket indexes, which are absolute times).
 *
 * @category models
 * @since 0.1.0
 */
export type WindowSnapshot =
  | { readonly kind: 'consecutive'; readonly failures: number }
  | {
      readonly kind: 'count-window';
      readonly size: number;
      readonly calls: number;
      /** Bad calls, newest first: `[age, flags]`, age 0 being the newest call, flags 1 failed, 2 slow. */
      readonly bad: readonly (readonly [number, number])[];
    }
  | {
      readonly kind: 'time-window';
      readonly windowMs: number;
      readonly buckets: number;
      /** Buckets with calls, oldest first: `[index, calls, failures, slow]`, index = floor(time / bucket ms). */
      readonly counts: readonly (readonly [number, number, number, number])[];
    };

/** The JSON form of a window. */
export function windowToSnapshot(window: WindowState, strategy: Strategy): WindowSnapshot {
  switch (window.kind) {
    case 'consecutive':
      return { kind: 'consecutive', failures: window.failures };
    case 'count-window': {
      const bad: [number, number][] = [];
      for (let i = window.end - 1; i >= window.head; i--) {
        const mark = window.buf[i] as number;
        bad.push([window.seq - Math.floor(mark / 4), mark % 4]);
      }
      return { kind: 'count-window', size: (strategy as CountWindow).size, calls: window.calls, bad };
    }
    case 'time-window': {
      const { windowMs, buckets } = strategy as TimeWindow;
      const counts: [number, number, number, number][] = [];
      for (let i = window.head; i < window.end; i += 4) {
        const b = window.buf;
        counts.push([b[i] as number, b[i + 1] as number, b[i + 2] as number, b[i + 3] as number]);
      }
      if (window.calls > 0) counts.push([window.bucket, window.calls, window.failures, window.slow]);
      return { kind: 'time-window', windowMs, buckets, counts };
    }
  }
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isIndex = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

/**
 * Rebuilds a window from its JSON form. A snapshot taken under another strategy (another kind, size
 * or window) gives the strategy's empty window; a malformed one gives `undefined`.
 */
export function windowFromSnapshot(snapshot: unknown, strategy: Strategy): WindowState | undefined {
  if (typeof snapshot !== 'object' || snapshot === null) return undefined;
  const s = snapshot as Record<string, unknown>;
  switch (s['kind']) {
    case 'consecutive': {
      if (!isCount(s['failures'])) return undefined;
      if (strategy.kind !== 'consecutive') return emptyWindow(strategy);
      return { kind: 'consecutive', failures: s['failures'] };
    }
    case 'count-window': {
      const { size, calls, bad } = s;
      if (!isCount(size) || size < 1 || !isCount(calls) || calls > size || !Array.isArray(bad)) return undefined;
      const marks: number[] = [];
      let failures = 0;
      let slow = 0;
      let lastAge = -1;
      for (const entry of bad as unknown[]) {
        if (!Array.isArray(entry) || entry.length !== 2) return undefined;
        const [age, flags] = entry as unknown[];
        if (!isCount(age) || age <= lastAge || age >= calls || !isCount(flags) || flags < 1 || flags > 3) {
          return undefined;
        }
        lastAge = age;
        if ((flags & FAILED) !== 0) failures++;
        if ((flags & SLOW) !== 0) slow++;
        // Sequence numbers count from `calls` (the newest call) down.
        marks.unshift((calls - age) * 4 + flags);
      }
      if (strategy.kind !== 'count-window' || strategy.size !== size) return emptyWindow(strategy);
      return { kind: 'count-window', calls, failures, slow, seq: calls, buf: marks, head: 0, end: marks.length };
    }
    case 'time-window': {
      const { windowMs, buckets, counts } = s;
      if (!isCount(windowMs) || !isCount(buckets) || buckets < 1 || !Array.isArray(counts)) return undefined;
      const rows: [number, number, number, number][] = [];
      let lastIndex = Number.NEGATIVE_INFINITY;
      for (const entry of counts as unknown[]) {
        if (!Array.isArray(entry) || entry.length !== 4) return undefined;
        const [index, calls, failures, slow] = entry as unknown[];
        if (!isIndex(index) || index <= lastIndex || !isCount(calls) || calls < 1) return undefined;
        if (!isCount(failures) || failures > calls || !isCount(slow) || slow > calls) return undefined;
        lastIndex = index;
        rows.push([index, calls, failures, slow]);
      }
      if (strategy.kind !== 'time-window' || strategy.windowMs !== windowMs || strategy.buckets !== buckets) {
        return emptyWindow(strategy);
      }
      const current = rows.pop();
      if (current === undefined) return emptyWindow(strategy);
      // Buckets that had aged out when the snapshot was taken are dropped, as recording would have.
      const kept = rows.filter(([index]) => index > current[0] - buckets);
      const buf = kept.flat();
      let pastCalls = 0;
      let pastFailures = 0;
      let pastSlow = 0;
      for (const [, calls, failures, slow] of kept) {
        pastCalls += calls;
        pastFailures += failures;
        pastSlow += slow;
      }
      return {
        kind: 'time-window',
        bucket: current[0],
        calls: current[1],
        failures: current[2],
        slow: current[3],
        pastCalls,
        pastFailures,
        pastSlow,
        buf,
        head: 0,
        end: buf.length,
      };
    }
    default:
      return undefined;
  }
}
