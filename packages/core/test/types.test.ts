import { describe, expect, it } from '@jest/globals';
import { Emitter, definePolicy, noop, pipeline, type Context, type Policy, type PolicyEvent } from '@bulwark/core';
import { expectTypeOf } from 'expect-type';

type RetryEvent = PolicyEvent & { readonly type: 'retry'; readonly delayMs: number };
type StateEvent = PolicyEvent & { readonly type: 'state'; readonly state: 'open' | 'closed' };

describe('types', () => {
  it('wrap keeps the exact parameters and result, including optional and rest parameters', () => {
    const fn = async (
      id: string,
      opts?: { limit: number },
      ...tags: string[]
    ): Promise<{ id: string; tags: string[] }> => ({
      id: `${id}${opts?.limit ?? ''}`,
      tags,
    });
    const wrapped = noop.wrap(fn);
    expectTypeOf(wrapped).toEqualTypeOf<typeof fn>();
    // @ts-expect-error - a wrapped function refuses arguments the original refuses
    void (() => wrapped(42));
    expect(typeof wrapped).toBe('function');
  });

  it('wrap keeps a generic function generic', () => {
    const identity = async <T>(value: T): Promise<T> => value;
    const wrapped = noop.wrap(identity);
    expectTypeOf(wrapped<number>).toEqualTypeOf<(value: number) => Promise<number>>();
  });

  it('wrapWithContext drops the context from the parameters', () => {
    const wrapped = noop.wrapWithContext(async (ctx: Context, n: number) => ctx.attempt + n);
    expectTypeOf(wrapped).toEqualTypeOf<(n: number) => Promise<number>>();
  });

  it('wrapWithContext takes its parameters from the function, not from a picker that ignores them', () => {
    const batch = new AbortController();
    const wrapped = noop.wrapWithContext(async (_ctx: Context, i: number) => i * 2, { signal: () => batch.signal });
    expectTypeOf(wrapped).toEqualTypeOf<(i: number) => Promise<number>>();
  });

  it('execute infers the task’s result', () => {
    expectTypeOf(noop.execute(async () => 'x' as const)).toEqualTypeOf<Promise<'x'>>();
  });

  it('pipeline unites the events of its parts', () => {
    const retrying = definePolicy<RetryEvent>('retry', [], new Emitter<RetryEvent>());
    const breaking = definePolicy<StateEvent>('breaker', [], new Emitter<StateEvent>());
    const both = pipeline(retrying, noop, breaking);
    expectTypeOf(both).toEqualTypeOf<Policy<RetryEvent | StateEvent>>();
    expectTypeOf(pipeline()).toEqualTypeOf<Policy<never>>();
  });
});
