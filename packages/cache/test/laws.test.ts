import { describe, expect, it } from '@jest/globals';
import { BulwarkError, definePolicy, pipeline, type Context, type Task } from '@bulwark/core';
import { policyLaws, VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';

import { cache, decodeEntry, isCacheExpiredError, type CacheEvent } from '../src/index.js';

// The laws every policy keeps. Hits come from the L1 here, which returns the very object the task
// produced (the store returns equal copies, which the identity check of these laws would not accept).
const lawful = (clock: VirtualClock) =>
  cache({
    clock,
    ttlMs: 500,
    staleWhileRevalidateMs: 500,
    maxStaleAgeMs: 3000,
    l1: { ttlMs: Infinity },
  }).forKey('k');
policyLaws(it, 'cache', ({ clock }) => lawful(clock));
policyLaws(it, 'cache (concurrent calls)', ({ clock }) => lawful(clock), { concurrent: true });

class ValidationError extends BulwarkError<'Validation'> {
  readonly retryable = false;
  constructor() {
    super('Validation', 'invalid');
  }
}

interface Produced {
  readonly key: string;
  readonly at: number;
  readonly n: number;
}

const keyName = fc.constantFrom('a', 'b', 'c');
const step = fc.record({
  calls: fc.array(keyName, { minLength: 1, maxLength: 4 }),
  outcomes: fc.array(
    fc.record({
      ok: fc.boolean(),
      valid: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
      latencyMs: fc.integer({ min: 0, max: 300 }),
    }),
    { maxLength: 4 },
  ),
  thenAdvanceMs: fc.integer({ min: 0, max: 3000 }),
});
const config = fc.record({
  ttlMs: fc.integer({ min: 0, max: 2000 }),
  staleWhileRevalidateMs: fc.integer({ min: 0, max: 2000 }),
  maxStaleAgeMs: fc.integer({ min: 1, max: 6000 }),
  l1: fc.boolean(),
});

describe('cache laws (fast-check, virtual clock)', () => {
  it('a hit is younger than the TTL, a stale entry within its window or the maximum stale age, a result only stored after success and validation, and never shared across keys', async () => {
    await fc.assert(
      fc.asyncProperty(config, fc.array(step, { minLength: 1, maxLength: 8 }), async (cfg, steps) => {
        const clock = new VirtualClock();
        const store = new Map<unknown, unknown>();
        const policy = cache<[string, string]>({
          clock,
          store,
          namespace: 'law',
          key: (key) => key,
          ttlMs: cfg.ttlMs,
          staleWhileRevalidateMs: cfg.staleWhileRevalidateMs,
          maxStaleAgeMs: cfg.maxStaleAgeMs,
          l1: cfg.l1 ? { ttlMs: 100 } : false,
        });
        const events = new Map<string, CacheEvent[]>();
        policy.onEvent((event) => {
          const id = event.context?.correlationId;
          if (id !== undefined) events.set(id, [...(events.get(id) ?? []), event]);
        });
        // The validation runs inside the cache, as `pipeline(cache, validate, …)` would have it.
        const validate = definePolicy('validate', [
          {
            decorate:
              <A>(next: Task<A>): Task<A> =>
              async (ctx) => {
                const value = await next(ctx);
                if ((value as { invalid?: boolean }).invalid === true) throw new ValidationError();
                return value;
              },
          },
        ]);
        const produced: Produced[] = [];
        let plan: { ok: boolean; valid: boolean; latencyMs: number }[] = [];
        let n = 0;
        const origin = async (ctx: Context, key: string, _id: string): Promise<Produced | { invalid: true }> => {
          const planned = plan.shift() ?? { ok: true, valid: true, latencyMs: 0 };
          if (planned.latencyMs > 0) await clock.sleep(planned.latencyMs, ctx.signal);
          if (!planned.ok) throw new Error(`origin failed for ${key}`);
          if (!planned.valid) return { invalid: true };
          const value = { key, at: clock.now(), n: n++ };
          produced.push(value);
          return value;
        };
        const call = pipeline(policy, validate).wrapWithContext(origin, { correlationId: (_key, id) => id });

        let ids = 0;
        for (const s of steps) {
          plan = [...s.outcomes];
          const pending = s.calls.map((key) => {
            const id = `call-${ids++}`;
            return call(key, id).then(
              (value) => ({ id, key, ok: true as const, value, at: clock.now() }),
              (error: unknown) => ({ id, key, ok: false as const, error, at: clock.now() }),
            );
          });
          for (const result of await clock.run(Promise.all(pending))) {
            // The call's own answer: one of hit, stale or miss (a refresh it started may have ended too).
            const seen = (events.get(result.id) ?? []).filter(
              (e) => e.type === 'hit' || e.type === 'stale' || e.type === 'miss',
            );
            if (result.ok) {
              const value = result.value as Produced;
              // Never another key's result, and only something the origin produced and validation passed.
              expect(value.key).toBe(result.key);
              expect(produced).toContainEqual(value);
              const age = result.at - value.at;
              expect(seen).toHaveLength(1);
              const event = seen[0] as CacheEvent;
              if (event.type === 'hit') {
                expect(event.ageMs).toBe(age);
                expect(age).toBeLessThan(cfg.ttlMs);
              } else if (event.type === 'stale') {
                expect(event.ageMs).toBe(age);
                if (event.reason === 'revalidate') {
                  expect(age).toBeGreaterThanOrEqual(cfg.ttlMs);
                  expect(age).toBeLessThan(cfg.ttlMs + cfg.staleWhileRevalidateMs);
                } else {
                  expect(age).toBeLessThanOrEqual(cfg.maxStaleAgeMs);
                }
              } else {
                expect(event.type).toBe('miss');
              }
            } else if (isCacheExpiredError(result.error)) {
              expect(result.error.ageMs).toBeGreaterThan(cfg.maxStaleAgeMs);
              expect(result.error.key).toBe(result.key);
            } else if (result.error instanceof ValidationError) {
              // A validation failure is never hidden behind an older answer.
            } else {
              expect((result.error as Error).message).toBe(`origin failed for ${result.key}`);
            }
          }
          // Whatever the store holds is a validated result the origin produced for that very key.
          for (const [storeKey, raw] of store) {
            const entry = decodeEntry((JSON.parse(raw as string) as { value: unknown }).value);
            if (typeof entry === 'string') throw new Error(entry);
            expect(`law:${(entry.v as Produced).key}`).toBe(storeKey);
            expect(produced).toContainEqual(entry.v);
          }
          await clock.advance(s.thenAdvanceMs);
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('concurrent misses make exactly one origin call per distinct key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(keyName, { minLength: 1, maxLength: 60 }), async (keys) => {
        const clock = new VirtualClock();
        const policy = cache({ clock, key: (key: string) => key });
        const calls = new Map<string, number>();
        const fetch = policy.wrap(async (key: string) => {
          calls.set(key, (calls.get(key) ?? 0) + 1);
          await clock.sleep(10);
          return key;
        });
        const answers = await clock.run(Promise.all(keys.map((key) => fetch(key))));
        expect(answers).toEqual(keys);
        expect([...calls.keys()].sort()).toEqual([...new Set(keys)].sort());
        expect([...calls.values()].every((count) => count === 1)).toBe(true);
      }),
    );
  }, 60_000);
});
