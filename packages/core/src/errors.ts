/**
 * The base of every error a Bulwark policy produces, and the guards that recognise them.
 *
 * A policy's own failures are values with a literal `_tag` (`name` equals it), structured fields and
 * a `cause`. Guards check the tag, not `instanceof`, so they keep working when two copies of a
 * package end up in one program. The task's own errors are never wrapped in these unless a policy
 * says so, and then the original is the `cause`.
 *
 * @module
 */

const BRAND = Symbol.for('@bulwark/error');

/**
 * The base class of every error a policy produces.
 *
 * Subclasses pass their literal tag to this constructor; `name` equals it. `retryable` says whether retrying the same call
 * can help (a timeout can; an open circuit cannot): `@bulwark/retry` reads it.
 *
 * @example
 * ```ts
 * class OverloadError extends BulwarkError<'Overload'> {
 *   readonly retryable = true;
 *   constructor() {
 *     super('Overload', 'the service is overloaded');
 *   }
 * }
 * const error = new OverloadError();
 * assert.equal(error.name, 'Overload');
 * assert.ok(isBulwarkError(error));
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export abstract class BulwarkError<Tag extends string = string> extends Error {
  /** The literal that identifies the error's kind; `name` equals it. */
  declare readonly _tag: Tag;
  /** Whether another attempt of the same call may succeed. */
  abstract readonly retryable: boolean;
  /** @internal */
  readonly [BRAND] = true;

  constructor(tag: Tag, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this._tag = tag;
    // Set before the stack is first read, so traces start with the tag.
    this.name = tag;
  }
}

/**
 * Whether `value` is an error produced by a Bulwark policy (of any package copy).
 *
 * @example
 * ```ts
 * class OverloadError extends BulwarkError<'Overload'> {
 *   readonly retryable = true;
 *   constructor() {
 *     super('Overload', 'the service is overloaded');
 *   }
 * }
 * assert.ok(isBulwarkError(new OverloadError()));
 * assert.ok(!isBulwarkError(new Error('Overload'))); // the task's own errors are not
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export function isBulwarkError(value: unknown): value is BulwarkError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Makes a guard that recognises errors by their `_tag`.
 *
 * @example
 * ```ts
 * class OverloadError extends BulwarkError<'Overload'> {
 *   readonly retryable = true;
 *   constructor() {
 *     super('Overload', 'the service is overloaded');
 *   }
 * }
 * const isOverloadError = tagGuard<OverloadError>('Overload');
 * assert.ok(isOverloadError(new OverloadError()));
 * assert.ok(!isOverloadError(new Error('Overload')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export function tagGuard<E extends BulwarkError>(tag: E['_tag']): (value: unknown) => value is E {
  return (value: unknown): value is E => isBulwarkError(value) && value._tag === tag;
}

/**
 * Whether `error` is the abort reason of `signal`, i.e. the call failed because it was cancelled.
 *
 * @example
 * ```ts
 * const caller = new AbortController();
 * const call = noop.execute((ctx) => systemClock.sleep(60_000, ctx.signal), caller.signal);
 * caller.abort(new Error('user left'));
 * const error = await call.catch((e: unknown) => e);
 * assert.ok(isAbortOf(caller.signal, error)); // a cancellation, not a failure
 * assert.ok(!isAbortOf(caller.signal, new Error('user left')));
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export function isAbortOf(signal: AbortSignal | undefined, error: unknown): boolean {
  return signal !== undefined && signal.aborted && signal.reason === error;
}
