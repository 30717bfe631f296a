import { describe, expect, it } from '@jest/globals';
import { pipeline, type Context } from '@bulwark/core';
import { VirtualClock } from '@bulwark/testkit';
import { timeout } from '@bulwark/timeout';

import { fallback, type FallbackEvent } from '../src/index.js';

class ServiceDown extends Error {}
class BadRequest extends Error {}

const failWith = (error: unknown) => async (): Promise<number> => {
  throw error;
};

describe('fallback options', () => {
  it.each([
    [{ handle: 'ServiceDown' }, TypeError, /`handle`/],
    [{ handle: [] }, TypeError, /`handle` to be a predicate or a non-empty array of error classes/],
    [{ handleResult: true }, TypeError, /`handleResult` to be a function/],
    [{ name: 7 }, TypeError, /`name`/],
  ])('rejects %p at construction', (options, kind, message) => {
    expect(() => fallback(0, options as never)).toThrow(kind);
    expect(() => fallback(0, options as never)).toThrow(message);
  });
});

describe('fallback', () => {
  it('returns the task’s value when it succeeds, and builds nothing', async () => {
    let made = 0;
    const policy = fallback(() => ++made);
    expect(await policy.execute(async () => 42)).toBe(42);
    expect(made).toBe(0);
  });

  it('falls back to a value on any error by default', async () => {
    const policy = fallback(-1);
    expect(await policy.execute(failWith(new ServiceDown('503')))).toBe(-1);
    expect(await policy.execute(failWith('a string thrown'))).toBe(-1);
  });

  it('calls a fallback function with the error, the call’s context and the trigger', async () => {
    const seen: unknown[] = [];
    const down = new ServiceDown('503');
    const policy = fallback((reason: unknown, ctx: Context, trigger) => {
      seen.push(reason, ctx.attempt, trigger);
      return Promise.resolve(7);
    });
    expect(await policy.execute(failWith(down))).toBe(7);
    expect(seen).toEqual([down, 1, 'error']);
  });

  it('handles only the errors its filter selects, by class or predicate; others pass through unchanged', async () => {
    const byClass = fallback(0, { handle: [ServiceDown] });
    const byPredicate = fallback(0, { handle: (error) => error instanceof Error && error.message === '503' });
    const bad = new BadRequest('400');
    await expect(byClass.execute(failWith(bad))).rejects.toBe(bad);
    expect(await byClass.execute(failWith(new ServiceDown('x')))).toBe(0);
    expect(await byPredicate.execute(failWith(new Error('503')))).toBe(0);
    await expect(byPredicate.execute(failWith(bad))).rejects.toBe(bad);
  });

  it('falls back on a result that handleResult rejects, passing the result', async () => {
    const reasons: unknown[] = [];
    const policy = fallback(
      (reason: unknown, _ctx: Context, trigger) => {
        reasons.push(reason, trigger);
        return { status: 200, body: 'cached' };
      },
      { handleResult: (value) => (value as { status: number }).status === 503 },
    );
    const unavailable = { status: 503, body: '' };
    expect(await policy.execute(async () => unavailable)).toEqual({ status: 200, body: 'cached' });
    expect(reasons).toEqual([unavailable, 'result']);
    expect(await policy.execute(async () => ({ status: 201, body: 'ok' }))).toEqual({ status: 201, body: 'ok' });
  });

  it('accepts a `handleResult` typed for the caller’s results', async () => {
    const policy = fallback({ status: 200 }, { handleResult: (r: { status: number }) => r.status === 503 });
    expect(await policy.execute(async () => ({ status: 503 }))).toEqual({ status: 200 });
  });

  it('never handles a caller’s abort', async () => {
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const policy = fallback('fallback');
    const call = policy.execute(
      (ctx) =>
        new Promise<string>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      controller.signal,
    );
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
  });

  it('never handles a caller’s abort that the task turned into an error of its own', async () => {
    const controller = new AbortController();
    const policy = fallback('fallback');
    // As `node:timers/promises` and many clients do: an `AbortError` whose cause is the reason.
    const call = policy.execute(
      (ctx) =>
        new Promise<string>((_, reject) =>
          ctx.signal.addEventListener('abort', () =>
            reject(new DOMException('The operation was aborted', 'AbortError')),
          ),
        ),
      controller.signal,
    );
    controller.abort(new Error('caller gave up'));
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('never answers a refused result for a caller that has aborted', async () => {
    const controller = new AbortController();
    let made = 0;
    const policy = fallback(
      () => {
        made++;
        return { status: 200 };
      },
      { handleResult: (r: { status: number }) => r.status === 503 },
    );
    // A task that ignores its signal and comes back with a 503 after the caller left.
    const call = policy.execute(async () => {
      controller.abort(new Error('caller gave up'));
      return { status: 503 };
    }, controller.signal);
    expect(await call).toEqual({ status: 503 });
    expect(made).toBe(0);
  });

  it('handles a timeout inside it, but not one outside it', async () => {
    const clock = new VirtualClock();
    const slow = (ctx: Context): Promise<string> => clock.sleep(1_000, ctx.signal).then(() => 'slow');
    const inside = pipeline(fallback('fallback'), timeout({ timeoutMs: 10, clock }));
    const outside = pipeline(timeout({ timeoutMs: 10, clock }), fallback('fallback'));
    expect(await clock.run(inside.execute(slow))).toBe('fallback');
    await expect(clock.run(outside.execute(slow))).rejects.toMatchObject({ _tag: 'Timeout' });
  });

  it('turns a synchronous throw into a fallback', async () => {
    const policy = fallback(3);
    const value = await policy.execute(() => {
      throw new ServiceDown('sync');
    });
    expect(value).toBe(3);
  });

  it('rejects with the fallback function’s own error', async () => {
    const broken = new Error('no cache either');
    const policy = fallback(() => {
      throw broken;
    });
    await expect(policy.execute(failWith(new ServiceDown('503')))).rejects.toBe(broken);
  });

  it('emits a fallback event per fallback, with the error or the result', async () => {
    const policy = fallback(0, { name: 'price', handleResult: (value) => value === -1 });
    const events: FallbackEvent[] = [];
    policy.onEvent((event) => events.push(event));
    const down = new ServiceDown('503');
    await policy.execute(failWith(down));
    await policy.execute(async () => -1);
    await policy.execute(async () => 5);
    expect(events.map(({ type, policy: name, trigger }) => ({ type, name, trigger }))).toEqual([
      { type: 'fallback', name: 'price', trigger: 'error' },
      { type: 'fallback', name: 'price', trigger: 'result' },
    ]);
    expect(events[0]).toMatchObject({ error: down });
    expect(events[1]).toMatchObject({ result: -1 });
  });

  it('wraps a function keeping its type', async () => {
    const lookup = fallback('unknown').wrap(async (id: number): Promise<string> => {
      if (id < 0) throw new RangeError('negative id');
      return `user ${id}`;
    });
    expect(await lookup(1)).toBe('user 1');
    expect(await lookup(-1)).toBe('unknown');
  });
});
