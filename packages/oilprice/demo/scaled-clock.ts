/**
 * A clock that runs `speed` times faster than the wall: the demo gives the same one to the fake
 * servers and to every policy, so ten simulated minutes (a cache TTL of 5 min, a breaker's 60 s
 * recovery, a 90 s outage) play out in one wall minute, with every ratio between them kept.
 *
 * Durations read on it are simulated milliseconds. What it cannot scale is the machine's own work
 * (a loopback round trip, JSON parsing), which it multiplies by `speed`: at 10x, 1 ms of wall time
 * reads as 10 ms.
 */
import { sleepOn, type Clock } from '@bulwark/core';
import { performance } from 'node:perf_hooks';

export function scaledClock(speed: number): Clock & { readonly speed: number } {
  const originEpoch = Date.now();
  const originPerf = performance.now();
  const clock: Clock & { readonly speed: number } = {
    speed,
    now: () => originEpoch + (performance.now() - originPerf) * speed,
    setTimer(callback, ms, keepAlive = true) {
      const handle = setTimeout(callback, Math.max(0, ms) / speed);
      if (!keepAlive) handle.unref();
      return handle;
    },
    clearTimer(handle) {
      clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
    sleep(ms, signal) {
      return sleepOn(clock, ms, signal);
    },
  };
  return clock;
}
