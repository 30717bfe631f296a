/**
 * Time and randomness as dependencies.
 *
 * Every policy reads time and sets timers through a {@link Clock}, and draws random numbers from a
 * {@link Random}, both taken from its options with the real ones as defaults. Tests pass the test kit's
 * virtual clock and a seeded random instead, so no test waits on wall time.
 *
 * @module
 */

/** A timer created by {@link Clock.setTimer}; only meaningful to the clock that made it. */
export type TimerHandle = unknown;

/**
 * The source of time: the current time in milliseconds, cancellable timers and an abortable sleep.
 *
 * @category models
 * @since 0.1.0
 */
export interface Clock {
  /** The current time in milliseconds. Only differences between readings matter. */
  now(): number;
  /**
   * Calls `callback` once after `ms` milliseconds.
   *
   * A timer made with `keepAlive: false` does not keep the process running by itself: use it for
   * timers that guard other work (a timeout), not for timers that are the work (a backoff sleep).
   */
  setTimer(callback: () => void, ms: number, keepAlive?: boolean): TimerHandle;
  /** Cancels a timer; cancelling one that already ran or was cancelled does nothing. */
  clearTimer(handle: TimerHandle): void;
  /**
   * Resolves after `ms` milliseconds, or rejects with `signal.reason` as soon as `signal` aborts
   * (at once if it already has). Leaves no timer or listener behind either way.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * A source of uniformly distributed numbers in `[0, 1)`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Random {
  /** The next number in `[0, 1)`. */
  next(): number;
}

/**
 * The largest delay Node's timers accept; longer ones fire at once (with a warning), so every
 * delay is capped here before it reaches a timer.
 *
 * @example
 * ```ts
 * assert.equal(MAX_TIMER_DELAY_MS, 2 ** 31 - 1); // about 24.8 days
 * ```
 *
 * @since 0.1.0
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

const clampDelay = (ms: number): number => (ms > MAX_TIMER_DELAY_MS ? MAX_TIMER_DELAY_MS : ms < 0 ? 0 : ms);

/**
 * Sleeps on any clock's timers, rejecting with the signal's reason on abort. Shared by the system
 * clock and the test kit's virtual clock so both behave the same way.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const nap = sleepOn(systemClock, 60_000, controller.signal);
 * controller.abort(new Error('woken'));
 * await assert.rejects(nap, /woken/); // at once, and the timer is cleared
 * await sleepOn(systemClock, 1); // without a signal
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function sleepOn(
  clock: Pick<Clock, 'setTimer' | 'clearTimer'>,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    if (signal === undefined) {
      clock.setTimer(resolve, ms, true);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimer(handle);
      reject(signal.reason);
    };
    const handle = clock.setTimer(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      ms,
      true,
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The real clock: `Date.now()` and Node's timers. Delays are capped at {@link MAX_TIMER_DELAY_MS}.
 *
 * @example
 * ```ts
 * const before = systemClock.now();
 * await systemClock.sleep(1);
 * assert.ok(systemClock.now() >= before);
 * ```
 *
 * @category instances
 * @since 0.1.0
 */
export const systemClock: Clock = {
  now: Date.now,
  setTimer(callback, ms, keepAlive = true) {
    const handle = setTimeout(callback, clampDelay(ms));
    if (!keepAlive) handle.unref();
    return handle;
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
  sleep(ms, signal) {
    return sleepOn(systemClock, ms, signal);
  },
};

/**
 * The real random source, `Math.random`.
 *
 * @example
 * ```ts
 * import type { Random } from '@bulwark/core';
 * const x = systemRandom.next();
 * assert.ok(x >= 0 && x < 1);
 * // A seeded one for tests: anything with `next(): number` in [0, 1).
 * const fixed: Random = { next: () => 0.5 };
 * assert.equal(fixed.next(), 0.5);
 * ```
 *
 * @category instances
 * @since 0.1.0
 */
export const systemRandom: Random = { next: Math.random };
