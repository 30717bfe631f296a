import { describe, expect, it } from '@jest/globals';
import { VirtualClock } from '@bulwark/testkit';

import {
  isRateLimitedError,
  memoryStore,
  rateLimit,
  RateLimitedError,
  slidingWindow,
  tokenBucket,
  type RateLimitEvent,
} from '../src/index.js';

const flaskLimits = [
  slidingWindow({ limit: 10, windowMs: 60_000 }),
  slidingWindow({ limit: 100, windowMs: 3_600_000 }),
];

describe('options', () => {
  it.each([
    [{}, /`limits`/],
    [{ limits: [] }, /`limits`/],
    [{ limits: [{ kind: 'nope' }] }, /`limits\[0\]`/],
    [{ limits: [slidingWindow({ limit: 1, windowMs: 1 })], mode: 'queue' }, /`mode`/],
    [{ limits: [slidingWindow({ limit: 1, windowMs: 1 })], mode: 'wait', maxWaitMs: -1 }, /`maxWaitMs`/],
    [{ limits: [slidingWindow({ limit: 1, windowMs: 1 })], maxWaitMs: 10 }, /`maxWaitMs` to be absent unless/],
    [{ limits: [slidingWindow({ limit: 1, windowMs: 1 })], key: 'k' }, /`key`/],
    [{ limits: [slidingWindow({ limit: 1, windowMs: 1 })], store: {} }, /`store.open` to be a function, got undefined/],
    [{ limits: [slidingWindow({ limit: 1, windowMs: 1 })], clock: {} }, /`clock.now`/],
    // Waiting sleeps on the clock: a clock without `sleep` fails here, not on the first wait.
    [{ limits: [slidingWindow({ limit: 1, windowMs: 1 })], mode: 'wait', clock: { now: () => 0 } }, /`clock.sleep`/],
  ])('rejects %j at construction, naming the option', (options, message) => {
    expect(() => rateLimit(options as never)).toThrow(message);
  });

  it.each([
    [() => slidingWindow({ limit: 0, windowMs: 1000 }), /`limit`/],
    [() => slidingWindow({ limit: 1.5, windowMs: 1000 }), /`limit`/],
    [() => slidingWindow({ limit: 1, windowMs: 0 }), /`windowMs`/],
    [() => slidingWindow({ limit: 1 } as never), /`windowMs`/],
    [() => tokenBucket({ rate: 0 }), /`rate`/],
    [() => tokenBucket({ rate: 1, burst: 0 }), /`burst`/],
    [() => tokenBucket({ rate: 1, intervalMs: Number.NaN }), /`intervalMs`/],
    [() => memoryStore({ maxKeys: 0 }), /`maxKeys`/],
    // The time per token, intervalMs / rate, must be a finite positive number: Infinity made the
    // bucket's tolerance NaN (it never refused), 0 would let every call through.
    [() => tokenBucket({ rate: 5e-324 }), /`rate` to be large enough that `intervalMs \/ rate`.*got 5e-324/],
    [() => tokenBucket({ rate: 1e308, intervalMs: 5e-324 }), /`rate` to be small enough/],
    [() => tokenBucket({ rate: 1, intervalMs: 1e308, burst: 1e10 }), /`burst`/],
  ])('limit constructors check their options (%#)', (make, message) => {
    expect(make).toThrow(message);
  });

  it('defaults the burst of a huge rate to a safe integer, not to an error about `burst`', () => {
    expect(tokenBucket({ rate: 2 ** 60 }).burst).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('reject mode', () => {
  it('enforces 10 per minute and 100 per hour together, per key, with exact retryAfterMs', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimit({ limits: flaskLimits, clock });
    const client = limiter.forKey('client-1');
    let admitted = 0;
    const refusals: RateLimitedError[] = [];
    // One call per second for two hours.
    for (let t = 0; t < 7_200; t++) {
      await client
        .execute(async () => admitted++)
        .catch((error: unknown) => {
          if (!isRateLimitedError(error)) throw error;
          refusals.push(error);
        });
      await clock.advance(1000);
    }
    // 10 per minute would allow 1,200 in 2 hours; 100 per hour caps it at 200.
    expect(admitted).toBe(200);
    expect(refusals[0]).toMatchObject({ _tag: 'RateLimited', key: 'client-1', reason: 'limit', retryable: true });
    // The 11th call, at t = 10 s, must wait until the first call leaves the minute: 50 s.
    expect(refusals[0]?.retryAfterMs).toBe(50_000);
    // Another key has its own budget.
    await expect(limiter.forKey('client-2').execute(async () => 'ok')).resolves.toBe('ok');
  });

  it('a token bucket allows a burst, then the rate', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimit({ limits: [tokenBucket({ rate: 2, intervalMs: 1000, burst: 5 })], clock });
    const results = await Promise.allSettled(Array.from({ length: 7 }, () => limiter.execute(async () => 'ok')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ retryAfterMs: 500 });
    await clock.advance(499);
    await expect(limiter.execute(async () => 'early')).rejects.toThrow(RateLimitedError);
    await clock.advance(1);
    await expect(limiter.execute(async () => 'on time')).resolves.toBe('on time');
  });

  it('takes the key from the context with the `key` option, and acquire takes a slot directly', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimit({
      limits: [slidingWindow({ limit: 1, windowMs: 1000 })],
      key: (ctx) => ctx.correlationId,
      clock,
    });
    await limiter.execute(async () => 1, { correlationId: 'a' });
    await limiter.execute(async () => 1, { correlationId: 'b' });
    await expect(limiter.execute(async () => 1, { correlationId: 'a' })).rejects.toThrow(RateLimitedError);
    await expect(limiter.acquire('c')).resolves.toBeUndefined();
    await expect(limiter.acquire('c')).rejects.toMatchObject({ key: 'c', retryAfterMs: 1000 });
  });

  it('fails a call whose `key` function returns no string, naming the option', async () => {
    const limiter = rateLimit({ limits: [slidingWindow({ limit: 1, windowMs: 1000 })], key: () => undefined as never });
    await expect(limiter.execute(async () => 1)).rejects.toThrow(
      new TypeError('@bulwark/ratelimit: expected `key` to return a string, got undefined'),
    );
  });

  it('emits rejected events, and reports its health', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimit({ limits: [slidingWindow({ limit: 1, windowMs: 1000 })], clock, name: 'api' });
    const events: RateLimitEvent[] = [];
    limiter.onEvent((e) => events.push(e));
    await limiter.execute(async () => 1);
    await expect(limiter.execute(async () => 1)).rejects.toThrow(RateLimitedError);
    expect(events).toMatchObject([
      { type: 'rejected', policy: 'api', key: 'default', retryAfterMs: 1000, reason: 'limit' },
    ]);
    expect(limiter).toMatchObject({ name: 'api', kind: 'rate-limiter', mode: 'reject' });
    expect(limiter.health()).toEqual({
      status: 'healthy',
      details: { mode: 'reject', keys: 1, limits: [{ kind: 'sliding-window', limit: 1, windowMs: 1000 }] },
    });
  });

  it('keeps at most maxKeys keys, forgetting the least recently used', async () => {
    const limiter = rateLimit({
      limits: [slidingWindow({ limit: 1, windowMs: 60_000 })],
      store: memoryStore({ maxKeys: 2 }),
      clock: new VirtualClock(),
    });
    await limiter.acquire('a');
    await limiter.acquire('b');
    await expect(limiter.acquire('a')).rejects.toThrow(RateLimitedError); // a is now the most recent
    await limiter.acquire('c'); // evicts b
    expect(limiter.health().details['keys']).toBe(2);
    await expect(limiter.acquire('a')).rejects.toThrow(RateLimitedError);
    await expect(limiter.acquire('b')).resolves.toBeUndefined(); // b was forgotten
  });

  it.each([
    // The third call waits for the first to leave the window, or for the next token.
    ['a sliding window', slidingWindow({ limit: 2, windowMs: 60_000 }), 60_000],
    ['a token bucket', tokenBucket({ rate: 2, intervalMs: 60_000, burst: 2 }), 30_000],
  ])(
    'keeps %s to its limit when the wall clock steps back, without refusing a key under it',
    async (_, limit, retryAfterMs) => {
      // A wall clock, as `systemClock`'s `Date.now()` is, that an NTP correction sets back 5 minutes.
      let now = 1_700_000_000_000;
      const limiter = rateLimit({ limits: [limit], clock: { now: () => now } as never });
      await limiter.acquire('k');
      now -= 5 * 60_000;
      // The key has used 1 of its 2: the step must not push its next call to where the clock was.
      await expect(limiter.acquire('k')).resolves.toBeUndefined();
      // Counted from where the store's time stood, not from 5 minutes ahead of the clock.
      await expect(limiter.acquire('k')).rejects.toEqual(expect.objectContaining({ retryAfterMs }));
      now += retryAfterMs; // that long later, on the clock as it now reads
      await expect(limiter.acquire('k')).resolves.toBeUndefined();
    },
  );
});

describe('wait mode', () => {
  it('under callers who give up after 500 ms, with maxWaitMs below that, keeps serving at the rate and recovers at once', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimit({
      limits: [slidingWindow({ limit: 5, windowMs: 1000 })],
      mode: 'wait',
      maxWaitMs: 400,
      clock,
    });
    // 20 calls a second for 3 s, each given up by its caller after 500 ms (as a timeout around it would).
    const ran: number[] = [];
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const caller = new AbortController();
      clock.setTimer(() => caller.abort(new Error('timed out')), 500);
      calls.push(limiter.execute(async () => void ran.push(clock.now()), caller.signal).catch(() => undefined));
      await clock.advance(50);
    }
    await clock.run(Promise.all(calls));
    // 5 a second (plus the first window's burst): slots given to callers who left would starve the rest.
    expect(ran.length).toBeGreaterThanOrEqual(15);
    await clock.advance(2000);
    const quietAt = clock.now();
    await clock.run(limiter.execute(async () => undefined));
    expect(clock.now()).toBe(quietAt); // admitted at once after the load
  });

  it('queues calls FIFO until their slots, at the rate (the PostHog seed: 240 per minute)', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimit({
      limits: [slidingWindow({ limit: 240, windowMs: 60_000 })],
      mode: 'wait',
      maxWaitMs: 120_000,
      clock,
    });
    const started: number[] = [];
    const calls = Array.from({ length: 500 }, (_, i) =>
      limiter.execute(async () => {
        started.push(i);
        return clock.now();
      }),
    );
    const times = await clock.run(Promise.all(calls));
    expect(started).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(times.filter((t) => t === 0)).toHaveLength(240);
    expect(times.filter((t) => t === 60_000)).toHaveLength(240);
    expect(times.filter((t) => t === 120_000)).toHaveLength(20);
  });

  it('never starts a waiting call before its slot, though its timer fires early by the clock', async () => {
    let now = 0;
    const sleeps: number[] = [];
    // Node's timers run on whole milliseconds of loop time: one may fire a little before its time as
    // `Date.now()` reads it. This clock's first sleep ends 0.6 ms early.
    const clock = {
      now: () => now,
      sleep: (ms: number): Promise<void> => {
        sleeps.push(ms);
        now += sleeps.length === 1 ? ms - 0.6 : ms;
        return Promise.resolve();
      },
    };
    const limiter = rateLimit({
      limits: [slidingWindow({ limit: 1, windowMs: 1_000 })],
      mode: 'wait',
      clock: clock as never,
    });
    await limiter.acquire('k');
    let startedAt = -1;
    await limiter.forKey('k').execute(async () => {
      startedAt = now;
    });
    expect(startedAt).toBeGreaterThanOrEqual(1_000);
    expect(sleeps).toEqual([1_000, expect.closeTo(0.6, 6)]);
  });

  it('rejects at once a call whose slot is further than maxWaitMs, with the wait as retryAfterMs', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimit({
      limits: [slidingWindow({ limit: 1, windowMs: 1000 })],
      mode: 'wait',
      maxWaitMs: 1500,
      clock,
    });
    const events: RateLimitEvent[] = [];
    limiter.onEvent((e) => events.push(e));
    const first = limiter.execute(async () => clock.now());
    const second = limiter.execute(async () => clock.now());
    await expect(limiter.execute(async () => clock.now())).rejects.toMatchObject({
      reason: 'max-wait',
      retryAfterMs: 2000,
    });
    await expect(clock.run(Promise.all([first, second]))).resolves.toEqual([0, 1000]);
    expect(events.map((e) => e.type)).toEqual(['rejected', 'waited']);
    expect(events[1]).toMatchObject({ waitedMs: 1000 });
  });

  it('a waiting call whose caller aborts rejects at once with the reason and never runs', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimit({ limits: [slidingWindow({ limit: 1, windowMs: 1000 })], mode: 'wait', clock });
    await limiter.execute(async () => 'first');
    const controller = new AbortController();
    let ran = false;
    const waiting = limiter.execute(async () => (ran = true), controller.signal);
    controller.abort('gave up');
    await expect(waiting).rejects.toBe('gave up');
    await clock.runAll();
    expect(ran).toBe(false);
    expect(clock.pending).toBe(0);
  });
});

describe('a call whose caller has already aborted', () => {
  it.each(['reject', 'wait'] as const)('acquire rejects with the reason and takes no slot (%s mode)', async (mode) => {
    const clock = new VirtualClock();
    const limiter = rateLimit({ limits: [slidingWindow({ limit: 1, windowMs: 1000 })], mode, clock });
    const aborted = AbortSignal.abort('gave up');
    await expect(limiter.acquire('k', aborted)).rejects.toBe('gave up');
    await expect(limiter.acquire('k', aborted)).rejects.toBe('gave up');
    // The slot is still there for a caller that has not given up.
    await expect(limiter.acquire('k')).resolves.toBeUndefined();
    expect(clock.now()).toBe(0);
  });

  it('execute rejects with the reason, never runs the task and takes no slot', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimit({ limits: [slidingWindow({ limit: 1, windowMs: 1000 })], clock });
    let ran = false;
    await expect(limiter.execute(async () => (ran = true), AbortSignal.abort('gave up'))).rejects.toBe('gave up');
    expect(ran).toBe(false);
    await expect(limiter.execute(async () => 'live')).resolves.toBe('live');
  });
});
