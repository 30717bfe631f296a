// The "done" run: 100,000 events captured through 5xx bursts, connection resets (before and
// after the server recorded the batch), 429s with Retry-After and a 30-second outage, all on the virtual
// clock. Every event must end up received by the fake (counted by UUID, duplicates apart) or reported
// in a `dropped` event: none lost silently.
import { afterAll, expect, it } from '@jest/globals';
import { VirtualClock } from '@bulwark/testkit';
import { startFakePostHog, type FakePostHog } from '@bulwark/testkit/fake-posthog';

import { posthog, type PostHog } from '../src/index.js';

let fake: FakePostHog | undefined;
afterAll(async () => fake?.close());

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Lets real I/O finish, then moves virtual time by `ms`: time never jumps while a request is on the wire. */
async function elapse(clock: VirtualClock, ph: PostHog, server: FakePostHog, ms: number): Promise<void> {
  const target = clock.now() + ms;
  while (clock.now() < target) {
    while (ph.stats.activeRequests > 0 || server.stats.inFlight > 0) await tick();
    const next = clock.nextAt;
    await clock.advance(next !== undefined && next < target ? next - clock.now() : target - clock.now());
  }
  while (ph.stats.activeRequests > 0 || server.stats.inFlight > 0) await tick();
}

it('captures 100,000 events through faults and loses none silently', async () => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  fake = await startFakePostHog({ clock, seed: 2026 });
  const ph = posthog({
    projectApiKey: 'phc_no_loss',
    host: fake.ingestionUrl,
    clock,
    flushAt: 200,
    maxBatchSize: 200,
    flushIntervalMs: 1000,
    // Room for the backlog of the outage and of the breaker's wait after it (about 90 s at 1,000/s).
    maxQueueSize: 100_000,
  });
  const dropped = new Set<string>();
  const failures: unknown[] = [];
  ph.onEvent((event) => {
    if (event.type === 'dropped') for (const e of event.events) dropped.add(e.uuid);
    if (event.type === 'flush-failed') failures.push(event.error);
  });

  // About one request in eight fails at random, on top of the scripted burst and the outage below.
  fake.faults.random('ingestion', 0.12, [
    { kind: 'status', status: 500 },
    { kind: 'status', status: 502 },
    { kind: 'status', status: 503 },
    { kind: 'status', status: 429, retryAfterS: 2 },
    { kind: 'reset' },
    { kind: 'reset-after-receive' },
  ]);

  const uuids: string[] = [];
  const total = 100_000;
  for (let second = 0; uuids.length < total; second++) {
    // A 5xx burst: every request fails for five seconds.
    if (second === 10) fake.faults.outage('ingestion', 5000, { kind: 'status', status: 503 });
    if (second === 30) fake.faults.outage('ingestion', 30_000);
    for (let i = 0; i < 1000 && uuids.length < total; i++) {
      uuids.push(
        ph.capture({ event: 'load test', distinctId: `user-${uuids.length % 977}`, properties: { n: uuids.length } }),
      );
    }
    await elapse(clock, ph, fake, 1000);
  }
  const shutdown = ph.shutdown(300_000);
  let result: Awaited<typeof shutdown> | undefined;
  void shutdown.then((r) => (result = r));
  while (result === undefined) await elapse(clock, ph, fake, 1000);

  const lost = uuids.filter((uuid) => !fake!.received.has(uuid) && !dropped.has(uuid));
  expect(lost).toEqual([]);
  expect(new Set(uuids).size).toBe(total);
  expect(fake.received.unique + dropped.size).toBeGreaterThanOrEqual(total);
  // The faults really happened, and retries really delivered duplicates that the UUIDs tell apart.
  expect(fake.faults.injectedOn('ingestion')).toBeGreaterThan(30);
  expect(fake.faults.injected.get('ingestion:status:503')).toBeGreaterThan(5);
  expect(fake.faults.injected.get('ingestion:reset')).toBeGreaterThan(0);
  expect(fake.faults.injected.get('ingestion:status:429')).toBeGreaterThan(0);
  expect(fake.received.duplicates).toBeGreaterThan(0);
  expect(failures.length).toBeGreaterThan(0);
  // Nothing needed dropping in this run: the queue held the outage's backlog.
  expect(dropped.size).toBe(0);
  expect(fake.received.unique).toBe(total);
  expect(result).toMatchObject({ drained: true, dropped: 0 });
  // The request timeout's shared alarm outlives the last request by at most its duration (it is not
  // re-armed per call, and never keeps a process alive); after that, no timer is left.
  await clock.advance(10_000);
  expect(clock.pending).toBe(0);
}, 120_000);
