/** Test helpers: an origin that follows a script on the virtual clock, and a Keyv adapter that can be made to fail. */

import type { Context } from '@bulwark/core';
import type { VirtualClock } from '@bulwark/testkit';
import type { KeyvStoreAdapter } from 'keyv';

import type { CacheEvent } from '../src/index.js';

/** What the origin resolves: which call it was, for which code, and when it answered. */
export interface Quote {
  readonly code: string;
  readonly call: number;
  readonly at: number;
}

/**
 * An origin `(ctx, code) => Promise<Quote>` for `wrapWithContext`: it waits `latencyMs` on the clock
 * (honouring its signal), then fails if `failing()` says so, else resolves a {@link Quote}.
 */
export function scriptedOrigin(clock: VirtualClock, latencyMs = 0) {
  const state = {
    calls: 0,
    failWith: undefined as unknown,
    contexts: [] as Context[],
    codes: [] as string[],
  };
  const fn = async (ctx: Context, code: string): Promise<Quote> => {
    const call = ++state.calls;
    state.contexts.push(ctx);
    state.codes.push(code);
    if (latencyMs > 0) await clock.sleep(latencyMs, ctx.signal);
    if (state.failWith !== undefined) throw state.failWith;
    return { code, call, at: clock.now() };
  };
  return { fn, state };
}

/** Collects a policy's events, by type. */
export function recorder(): {
  events: CacheEvent[];
  of: <T extends CacheEvent['type']>(type: T) => Extract<CacheEvent, { type: T }>[];
  listener: (event: CacheEvent) => void;
} {
  const events: CacheEvent[] = [];
  return {
    events,
    listener: (event) => events.push(event),
    of: <T extends CacheEvent['type']>(type: T) =>
      events.filter((event): event is Extract<CacheEvent, { type: T }> => event.type === type),
  };
}

/** How a {@link FlakyAdapter} operation behaves. */
export type Mode = 'ok' | 'throw' | 'hang';

/**
 * A Keyv storage adapter over a Map whose operations can be made to throw or to never answer: a stand-in
 * for a broken store in unit tests (the Redis tests break a real Redis).
 */
export class FlakyAdapter implements KeyvStoreAdapter {
  readonly data = new Map<string, unknown>();
  namespace?: string | undefined;
  opts: Record<string, unknown> = {};
  mode: { get: Mode; set: Mode; delete: Mode; clear: Mode } = { get: 'ok', set: 'ok', delete: 'ok', clear: 'ok' };
  private listeners: ((error: unknown) => void)[] = [];

  private run<T>(operation: keyof FlakyAdapter['mode'], value: () => T): Promise<T> {
    const mode = this.mode[operation];
    if (mode === 'throw') return Promise.reject(new Error(`${operation} failed`));
    if (mode === 'hang') return new Promise<T>(() => undefined);
    return Promise.resolve(value());
  }

  get<T>(key: string): Promise<T | undefined> {
    return this.run('get', () => this.data.get(key) as T | undefined);
  }
  set(key: string, value: unknown): Promise<boolean> {
    return this.run('set', () => {
      this.data.set(key, value);
      return true;
    });
  }
  delete(key: string): Promise<boolean> {
    return this.run('delete', () => this.data.delete(key));
  }
  clear(): Promise<void> {
    return this.run('clear', () => this.data.clear());
  }
  on(event: string, listener: (error: unknown) => void): this {
    if (event === 'error') this.listeners.push(listener);
    return this;
  }
  /** Reports an error the way `@keyv/redis` does: an event, while the operation answers "absent". */
  emitError(error: unknown): void {
    for (const listener of this.listeners) listener(error);
  }
}
