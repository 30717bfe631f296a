/**
 * The errors a breaker produces when it refuses a call. Neither is worth retrying at once
 * (`retryable: false`); both say when a probe may go (`retryAfterMs`).
 *
 * @module
 */

import { BulwarkError, tagGuard } from '@bulwark/core';

/**
 * The breaker is open (or half-open with every probe slot taken) and refused the call.
 *
 * @example
 * ```ts
 * const error = new BrokenCircuitError('database', 'open', 41_000);
 * assert.equal(error._tag, 'BrokenCircuit');
 * assert.equal(error.retryable, false);
 * assert.ok(isBrokenCircuitError(error));
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class BrokenCircuitError extends BulwarkError<'BrokenCircuit'> {
  readonly retryable = false;

  /**
   * @param breaker - The breaker's name.
   * @param state - The state it refused the call in.
   * @param retryAfterMs - Milliseconds until a probe may go: 0 when half-open (a slot frees as soon
   *   as a probe settles).
   */
  constructor(
    readonly breaker: string,
    readonly state: 'open' | 'half-open',
    readonly retryAfterMs: number,
  ) {
    super(
      'BrokenCircuit',
      state === 'open'
        ? `breaker "${breaker}" is open; a probe may go in ${Math.ceil(retryAfterMs)} ms`
        : `breaker "${breaker}" is half-open and all its probe slots are taken`,
    );
  }
}

/**
 * The breaker was isolated by hand (`isolate()`) and refuses every call until released.
 *
 * @example
 * ```ts
 * const error = new IsolatedError('llm');
 * assert.equal(error._tag, 'Isolated');
 * assert.equal(error.retryAfterMs, Infinity);
 * assert.ok(isIsolatedError(error));
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class IsolatedError extends BulwarkError<'Isolated'> {
  readonly retryable = false;
  /** Always `Infinity`: no probe goes until the isolation is released. */
  readonly retryAfterMs = Number.POSITIVE_INFINITY;

  /** @param breaker - The breaker's name. */
  constructor(readonly breaker: string) {
    super('Isolated', `breaker "${breaker}" is isolated and refuses every call until released`);
  }
}

/**
 * Whether `value` is a {@link BrokenCircuitError} (of any copy of this package).
 *
 * @example
 * ```ts
 * const db = breaker({ strategy: consecutiveFailures(1) });
 * await db.execute(async () => Promise.reject(new Error('down'))).catch(() => undefined);
 * const refused = await db.execute(async () => 'row').catch((e: unknown) => e);
 * assert.ok(isBrokenCircuitError(refused) && refused.state === 'open');
 * assert.ok(!isBrokenCircuitError(new IsolatedError('db'))); // isolation is its own error
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isBrokenCircuitError = tagGuard<BrokenCircuitError>('BrokenCircuit');

/**
 * Whether `value` is an {@link IsolatedError} (of any copy of this package).
 *
 * @example
 * ```ts
 * const llm = breaker({ name: 'llm' });
 * const release = llm.isolate();
 * const refused = await llm.execute(async () => 'answer').catch((e: unknown) => e);
 * assert.ok(isIsolatedError(refused) && refused.breaker === 'llm');
 * release();
 * assert.equal(await llm.execute(async () => 'answer'), 'answer');
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isIsolatedError = tagGuard<IsolatedError>('Isolated');

/**
 * Whether `value` is a breaker's refusal of either kind.
 *
 * @example
 * ```ts
 * assert.ok(isBreakerRejection(new IsolatedError('llm')));
 * assert.ok(!isBreakerRejection(new Error('boom')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export function isBreakerRejection(value: unknown): value is BrokenCircuitError | IsolatedError {
  return isBrokenCircuitError(value) || isIsolatedError(value);
}
