/**
 * Typed events that cost nothing when nobody listens.
 *
 * Policies check {@link Emitter.active} before they build an event object, so a policy with no
 * listener allocates nothing for its events. A listener that throws does not fail the call that
 * emitted the event: its error is rethrown on a later tick, where it surfaces as any other bug would.
 *
 * @module
 */

import type { Context } from './context.js';

/**
 * What every policy event carries.
 *
 * @category models
 * @since 0.1.0
 */
export interface PolicyEvent {
  /** What happened, e.g. `'retry'` or `'state'`. */
  readonly type: string;
  /** The name of the policy that emitted it (its kind, unless it was given a name). */
  readonly policy: string;
  /** The call the event is about, when it is about one call. */
  readonly context?: Context;
}

/**
 * Stops a subscription. Calling it again does nothing.
 *
 * @category models
 * @since 0.1.0
 */
export type Disposer = () => void;

/**
 * A listener of events of type `E`.
 *
 * @category models
 * @since 0.1.0
 */
export type Listener<E> = (event: E) => void;

const NONE: readonly never[] = Object.freeze([]);

/**
 * A list of listeners for events of type `E`.
 *
 * @example
 * ```ts
 * const emitter = new Emitter<{ type: 'tick'; policy: 'clock'; n: number }>();
 * const seen: number[] = [];
 * const stop = emitter.on((event) => seen.push(event.n));
 * if (emitter.active) emitter.emit({ type: 'tick', policy: 'clock', n: 1 });
 * stop();
 * if (emitter.active) emitter.emit({ type: 'tick', policy: 'clock', n: 2 });
 * assert.deepEqual(seen, [1]);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export class Emitter<E> {
  // Replaced, never mutated, so emitting while a listener subscribes or leaves is safe.
  private listeners: readonly Listener<E>[] = NONE;

  /** Whether anyone listens: check it before building an event. */
  get active(): boolean {
    return this.listeners.length !== 0;
  }

  /** Adds a listener; the returned function removes it. */
  on(listener: Listener<E>): Disposer {
    this.listeners = [...this.listeners, listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners = this.listeners.filter((_, i) => i !== index);
    };
  }

  /** Calls every listener with `event`. */
  emit(event: E): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        (listeners[i] as Listener<E>)(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
