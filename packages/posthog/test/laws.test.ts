import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { VirtualClock } from '@bulwark/testkit';
import { startFakePostHog, type Fault, type FakePostHog } from '@bulwark/testkit/fake-posthog';
import fc from 'fast-check';

import { Deque } from '../src/internal/deque.js';
import { uuidv7 } from '../src/internal/uuid.js';
import { posthog } from '../src/index.js';

describe('Deque', () => {
  it('behaves as an array model under any sequence of operations', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), value: fc.integer() }),
      fc.record({ kind: fc.constant('pop' as const) }),
      fc.record({ kind: fc.constant('front' as const), values: fc.array(fc.integer(), { maxLength: 4 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const deque = new Deque<number>(capacity);
        const model: number[] = [];
        for (const o of ops) {
          if (o.kind === 'push' && model.length < capacity) {
            deque.pushBack(o.value);
            model.push(o.value);
          } else if (o.kind === 'pop') {
            expect(deque.popFront()).toBe(model.shift());
          } else if (o.kind === 'front' && model.length + o.values.length <= capacity) {
            deque.pushFrontAll(o.values);
            model.unshift(...o.values);
          }
          expect(deque.size).toBe(model.length);
          expect(deque.at(0)).toBe(model[0]);
        }
        expect(deque.drain()).toEqual(model);
      }),
    );
  });
});

describe('uuidv7', () => {
  it('is a version 7, variant 1 UUID whose first 48 bits are the time, unique across draws', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (ms) => {
        const uuid = uuidv7(ms);
        expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(parseInt(uuid.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
      }),
    );
    const many = new Set(Array.from({ length: 20_000 }, () => uuidv7(0)));
    expect(many.size).toBe(20_000);
  });
});

describe('capture law: every event is delivered or reported dropped', () => {
  let fake: FakePostHog;
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  beforeAll(async () => {
    fake = await startFakePostHog({ clock, maxEventBytes: 600 });
  });
  afterAll(async () => fake.close());

  const fault: fc.Arbitrary<Fault | undefined> = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    fc.constantFrom<Fault>(
      { kind: 'status', status: 503 },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 429, retryAfterS: 3 },
      { kind: 'status', status: 400 },
      { kind: 'status', status: 401 },
      { kind: 'status', status: 413 },
      { kind: 'reset' },
      { kind: 'reset-after-receive' },
    ),
  );

  it('holds under generated fault schedules, queue sizes, overflow modes and oversize events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fault, { maxLength: 30 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 5, max: 60 }),
        fc.constantFrom('drop-oldest' as const, 'drop-newest' as const),
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 0, max: 20_000 }),
        async (faults, count, maxQueueSize, overflow, maxBatchSize, shutdownMs) => {
          fake.faults.clear();
          for (const f of faults) {
            if (f === undefined) fake.faults.next('ingestion', { kind: 'delay', ms: 0 });
            else fake.faults.next('ingestion', f);
          }
          const ph = posthog({
            projectApiKey: 'phc_law',
            host: fake.ingestionUrl,
            clock,
            flushAt: Math.min(maxQueueSize, 10),
            maxBatchSize,
            maxQueueSize,
            overflow,
            flushIntervalMs: 1000,
          });
          const dropped = new Map<string, string>();
          ph.onEvent((event) => {
            if (event.type === 'dropped') for (const e of event.events) dropped.set(e.uuid, event.reason);
          });
          const uuids: string[] = [];
          for (let i = 0; i < count; i++) {
            uuids.push(
              ph.capture({ event: 'law', distinctId: 'u', properties: { pad: i % 17 === 3 ? 'x'.repeat(800) : 'ok' } }),
            );
          }
          const done = ph.shutdown(shutdownMs);
          let finished = false;
          void done.then(() => (finished = true));
          while (!finished) {
            while (ph.stats.activeRequests > 0 || fake.stats.inFlight > 0) await new Promise((r) => setImmediate(r));
            if (!(await clock.next())) await new Promise((r) => setImmediate(r));
          }
          await Promise.resolve();
          for (const uuid of uuids) {
            if (!fake.received.has(uuid) && !dropped.has(uuid)) throw new Error(`event ${uuid} was lost silently`);
          }
          // Events dropped for a reason other than the deadline were never delivered.
          for (const [uuid, reason] of dropped) {
            if (reason !== 'shutdown' && reason !== 'rejected') expect(fake.received.has(uuid)).toBe(false);
          }
          expect(ph.stats.queued + ph.stats.inFlight).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
