// One fault schedule through the oil-price client under its default pipeline, against the fake
// OilPriceAPI on loopback, on one virtual clock: runs every step and reports how each call ended and
// what the run left behind. The invariants are asserted by the test; this only observes.
import { type Clock } from '@bulwark/core';
import { runWithIo, VirtualClock } from '@bulwark/testkit';
import { seededRandom, startFakeOilPrice, type FaultKind } from '@bulwark/testkit/fake-oilprice';
import { defaultPipeline, OilPriceClient } from '@bulwark/oilprice';

import { callerSignal } from './invariants.js';
import { MAX_HISTORY_PAGES, type OilCall, type OilSchedule } from './schedules.js';

/**
 * What the default pipeline may end a call with: the client's errors (an error answer, no answer, an
 * unusable body) and the policies' (an attempt's timeout, an open breaker, an implausible price, a
 * stale answer too old, a full bulkhead).
 */
export const OIL_TAGS: ReadonlySet<string> = new Set([
  'OilPriceApi',
  'OilPriceNetwork',
  'OilPriceResponse',
  'Timeout',
  'BrokenCircuit',
  'DataQuality',
  'CacheExpired',
  'BulkheadRejected',
]);

/**
 * The longest a call may take on the clock, by the default pipeline's own bounds: per request, 3
 * attempts of at most 15 s (the timeout) and 2 waits of at most 60 s (the longest Retry-After it
 * honours) plus 30 % jitter; a history call makes at most `MAX_HISTORY_PAGES` requests.
 */
export const OIL_REQUEST_DEADLINE_MS = 3 * 15_000 + 2 * 60_000 * 1.3;

export interface OilCallOutcome {
  readonly call: OilCall;
  readonly ok: boolean;
  readonly error: unknown;
  /** Whether it rejected with its caller's abort reason. */
  readonly aborted: boolean;
  /** Virtual milliseconds from the call to its end. */
  readonly tookMs: number;
  /** Its bound: the pipeline's, or its caller's abort if sooner. */
  readonly deadlineMs: number;
}

export interface OilRun {
  readonly outcomes: readonly OilCallOutcome[];
  /** The kinds of the faults requests met (scripted or from the profile). */
  readonly met: ReadonlySet<FaultKind>;
  /** Timers still pending on the clock once everything is closed and the last deadline has passed. */
  readonly timersLeft: number;
}

const START = Date.UTC(2026, 0, 15, 12);

function start(client: OilPriceClient, call: OilCall, signal: AbortSignal | undefined): Promise<unknown> {
  const options = signal === undefined ? {} : { signal };
  switch (call.op) {
    case 'latest':
      return client.latest(call.code, options);
    case 'history':
      return client.history(call.code, call.range, {
        interval: call.interval,
        perPage: call.perPage,
        maxPages: MAX_HISTORY_PAGES,
        ...options,
      });
    case 'commodities':
      return client.commodities(options);
    case 'commodity':
      return client.commodity(call.code, options);
  }
}

/** Makes one call and watches it on the clock: how long it took, how it ended. Never rejects. */
function observe(clock: Clock, client: OilPriceClient, call: OilCall): Promise<OilCallOutcome> {
  const started = clock.now();
  const caller = callerSignal(clock, call.abortAfterMs);
  const deadlineMs = Math.min(
    (call.op === 'history' ? MAX_HISTORY_PAGES : 1) * OIL_REQUEST_DEADLINE_MS,
    call.abortAfterMs ?? Infinity,
  );
  const end = (ok: boolean, error: unknown): OilCallOutcome => {
    caller.release();
    return { call, ok, error, aborted: !ok && error === caller.reason, tookMs: clock.now() - started, deadlineMs };
  };
  return start(client, call, caller.signal).then(
    () => end(true, undefined),
    (error: unknown) => end(false, error),
  );
}

export async function runOilSchedule(schedule: OilSchedule): Promise<OilRun> {
  const clock = new VirtualClock(START);
  const fake = await startFakeOilPrice({ clock, ...schedule.fake });
  // The default pipeline, as `new OilPriceClient({ apiKey })` makes it, on the test's clock and in
  // memory (whatever REDIS_URL says: Redis answers on I/O the virtual clock cannot see).
  const policy = defaultPipeline({ clock, random: seededRandom(schedule.fake.seed ?? 1), redisUrl: '' });
  const client = new OilPriceClient({ apiKey: fake.apiKey, baseUrl: fake.url, policy, clock });
  // Time moves once every request in flight waits on the fake's clock.
  const parked = (): boolean => client.inFlight === fake.sleeping;
  const outcomes: OilCallOutcome[] = [];
  try {
    for (const step of schedule.steps) {
      fake.inject(...step.inject);
      const calls = step.calls.map((call) => observe(clock, client, call));
      outcomes.push(...(await runWithIo(Promise.all(calls), clock, parked)));
      await runWithIo(clock.sleep(step.thenMs), clock, parked);
    }
    // Every call has settled: the pool closes at once, with nothing in flight to wait for.
    await runWithIo(client.close(), clock, parked);
  } finally {
    // After a failure the fake goes first, ending whatever the client still waits for; close() is
    // idempotent, so after success the second one returns the first's.
    await fake.close();
    await client.close();
    await policy.close();
  }
  // The timeout's shared alarm may outlive the last attempt by its duration; nothing else may be left.
  await clock.advance(15_000);
  const met = new Set<FaultKind>();
  for (const request of fake.requests) if (request.fault !== undefined) met.add(request.fault);
  return { outcomes, met, timersLeft: clock.pending };
}
