import { describe, expect, it } from '@jest/globals';
import { BulwarkError, isBulwarkError, tagGuard } from '@bulwark/core';

class OverloadError extends BulwarkError<'Overload'> {
  readonly retryable = true;
  constructor(
    readonly load: number,
    cause?: unknown,
  ) {
    super('Overload', `load ${load} is too high`, { cause });
  }
}
const isOverloadError = tagGuard<OverloadError>('Overload');

describe('BulwarkError', () => {
  it('carries its tag as name, its fields and its cause', () => {
    const cause = new Error('origin');
    const error = new OverloadError(3, cause);
    expect(error._tag).toBe('Overload');
    expect(error.name).toBe('Overload');
    expect(error.stack?.startsWith('Overload: load 3 is too high')).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error.load).toBe(3);
    expect(error).toBeInstanceOf(Error);
  });

  it('is recognised by its tag even from another copy of the package', () => {
    // What a second copy of @bulwark/core would make: same tag and brand, a different class.
    const foreign = Object.assign(new Error('x'), { _tag: 'Overload', [Symbol.for('@bulwark/error')]: true });
    expect(isOverloadError(foreign)).toBe(true);
    expect(isBulwarkError(foreign)).toBe(true);
    expect(isOverloadError(Object.assign(new Error('x'), { _tag: 'Overload' }))).toBe(false);
    expect(isOverloadError(undefined)).toBe(false);
    expect(isOverloadError(new OverloadError(1))).toBe(true);
  });
});
