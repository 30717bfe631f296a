// Redis failing under the three components that keep state in it (the cache, the shared breaker, the
// rate limiter in each of its modes), in the middle of a run: stopped and restarted, not answering,
// refusing writes, holding keys of the wrong type. Every call settles; calls made while Redis fails
// end as the component's README says (the origin's answer, local state, open or closed); the failure
// is an event; and once Redis is right again the component works through it again.
//
// Real Redis and real time: every wait polls for a condition and is bounded, and the bounds only catch
// hangs. No assertion depends on how long anything took.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { redisTestsEnabled, startPrivateRedis, type PrivateRedis } from '@bulwark/testkit';

import { FAULTS } from './redis/faults.js';
import { SUBJECTS, type Settled, type Subject } from './redis/subjects.js';
import { settleWithin } from './support/settle.js';

const describeRedis = redisTestsEnabled() ? describe : describe.skip;

/** Longer than any component's Redis timeout (200 ms here) and the 3 s pause: a call still pending is hung. */
const CALL_BOUND_MS = 5000;
/** How long a component may take to notice that Redis is back (reconnect, next sync). */
const RECOVERY_BOUND_MS = 15_000;

/** A call, settled (never rejecting), failing the test if it hangs. */
const settled = (call: Promise<unknown>): Promise<Settled> =>
  settleWithin(
    call.then(
      (value): Settled => ({ ok: true, value }),
      (error: unknown): Settled => ({ ok: false, error }),
    ),
    CALL_BOUND_MS,
  );

/** Polls `condition` until it holds; fails after `boundMs`. */
async function eventually(what: string, condition: () => Promise<boolean> | boolean, boundMs: number): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: still not so after ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether the component's last word on the store is a recovery, for those that announce one. */
function lastSaysRecovered(subject: Subject): boolean {
  if (!subject.announcesRecovery) return true;
  const last = subject.events.filter((e) => e.type === 'store-error' || e.type === 'store-recovered').at(-1);
  return last?.type === 'store-recovered';
}

describeRedis('Redis faults in the middle of a run', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  }, 15_000);
  afterAll(async () => {
    await redis.stop();
  });

  describe.each(SUBJECTS)('%s', (_, make) => {
    it.each(FAULTS.map((fault) => [fault.name, fault] as const))(
      'Redis %s: calls settle and degrade as documented, an event says so, and it recovers',
      async (_name, fault) => {
        if (!redis.running) await redis.start();
        const subject = await make(redis.url);
        const keys = subject.keys();
        try {
          // Healthy: it works through Redis, and says nothing about the store.
          await eventually('working through Redis at first', () => subject.works(), RECOVERY_BOUND_MS);
          expect(subject.events.filter(subject.storeError)).toEqual([]);

          // Calls in flight when the fault starts, and calls while it lasts (failing ones: a breaker
          // then has news for Redis, a trip vote, while Redis fails): all settle.
          const sinceFault = subject.events.length;
          const inFlight = Array.from({ length: 10 }, () => settled(subject.call(false)));
          const faultStartedAt = Date.now();
          await fault.start(redis, keys);
          const during: Settled[] = [];
          // Each waits at most a component's timeout (200 ms), so all fall within a pause of 3 s on any
          // sane machine; on a starved one, a call that ended after a pause was over is not judged.
          for (let i = 0; i < 3; i++) {
            const outcome = await settled(subject.call(true));
            if (i === 0 || Date.now() < faultStartedAt + (fault.lastsMs ?? Number.POSITIVE_INFINITY)) {
              during.push(outcome);
            }
          }
          const health = subject.health();
          const started = await Promise.all(inFlight);

          // Calls that began before the fault end either way; those made during it degrade as documented.
          for (const outcome of started) expect(subject.normal(outcome) || subject.degraded(outcome)).toBe(true);
          for (const outcome of during) expect(subject.degraded(outcome) ? 'degraded' : outcome).toBe('degraded');
          // The health report says so, and an event does (a breaker hears of a failed vote a moment later).
          expect(health).not.toBe('healthy');
          await eventually(
            'a store-error event',
            () => subject.events.slice(sinceFault).some(subject.storeError),
            CALL_BOUND_MS,
          );

          // Redis right again: the component works through it, and its last word on the store is a recovery.
          await fault.end(redis, keys);
          await eventually(
            'working through Redis again',
            async () => (await subject.works()) && lastSaysRecovered(subject),
            RECOVERY_BOUND_MS,
          );
          await eventually('healthy again', () => subject.health() === 'healthy', RECOVERY_BOUND_MS);
        } finally {
          await subject.close();
          if (redis.running) await fault.end(redis, keys).catch(() => undefined);
        }
      },
      60_000,
    );
  });
});
