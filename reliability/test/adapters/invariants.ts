// What every faulty run must leave behind: only typed errors, no unhandled rejection, and no timer or
// socket beyond those open before it. Jest's `detectOpenHandles` is a run-wide switch of the shared
// config (and slows every suite), so this file checks the process's own list of what keeps it alive.
import { untilIo } from '@bulwark/testkit';
import { isBulwarkError, type Clock } from '@bulwark/core';

/**
 * The error's tag when it is a Bulwark error (a `BulwarkError` subclass, judged by the core guard)
 * whose tag is one of `allowed`; otherwise a description of what it is, for the failure message.
 */
export function typedTag(
  error: unknown,
  allowed: ReadonlySet<string>,
): { ok: true; tag: string } | { ok: false; what: string } {
  if (isBulwarkError(error) && allowed.has(error._tag)) return { ok: true, tag: error._tag };
  const what = isBulwarkError(error)
    ? `a ${error._tag} error, not one the adapter documents`
    : error instanceof Error
      ? `an untyped ${error.name}: ${error.message}`
      : `a non-error: ${String(error)}`;
  return { ok: false, what };
}

/** Collects unhandled rejections while it listens. */
export function listenForUnhandled(): { readonly reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => void reasons.push(reason);
  process.on('unhandledRejection', listener);
  return { reasons, stop: () => void process.off('unhandledRejection', listener) };
}

/** The resources that keep a process alive and that a client, a driver or a fake could leak. */
const WATCHED = ['Timeout', 'TCPSocketWrap', 'TCPServerWrap'] as const;

export type Resources = Readonly<Record<(typeof WATCHED)[number], number>>;

/** How many of each watched resource keep the process alive now. */
export function activeResources(): Resources {
  const counts = { Timeout: 0, TCPSocketWrap: 0, TCPServerWrap: 0 };
  for (const type of process.getActiveResourcesInfo()) {
    if (type in counts) counts[type as keyof typeof counts]++;
  }
  return counts;
}

/** The watched resources open now beyond `before`, e.g. `['TCPSocketWrap +2']`; empty when none. */
export function extraResources(before: Resources): string[] {
  const now = activeResources();
  return WATCHED.filter((type) => now[type] > before[type]).map((type) => `${type} +${now[type] - before[type]}`);
}

/**
 * Waits on I/O for the sockets a closed server and client are tearing down to close, then returns
 * what is still open beyond `before` (empty when nothing leaked). Waiting ends at once when nothing
 * is left; its bound (untilIo's) only separates "closing" from "leaked".
 */
export async function leftOpen(before: Resources): Promise<string[]> {
  await untilIo(() => extraResources(before).length === 0).catch(() => undefined);
  return extraResources(before);
}

/** The reason a schedule's caller aborts a call with: a call so aborted must reject with it. */
export class CallerAbort extends Error {
  override readonly name = 'CallerAbort';
}

/**
 * A signal the caller aborts after `afterMs` on `clock` (none for `null`), and `release()` to clear
 * that timer once the call has settled, so none is left behind.
 */
export function callerSignal(
  clock: Clock,
  afterMs: number | null,
): { readonly signal: AbortSignal | undefined; readonly reason: CallerAbort; release(): void } {
  const reason = new CallerAbort(`aborted by its caller after ${afterMs} ms`);
  if (afterMs === null) return { signal: undefined, reason, release: () => undefined };
  const controller = new AbortController();
  const timer = clock.setTimer(() => controller.abort(reason), afterMs);
  return { signal: controller.signal, reason, release: () => clock.clearTimer(timer) };
}
