// One fault schedule through the default PostHog driver, against the fake PostHog's two hosts on
// loopback, on one virtual clock: captures events, calls the private API and flushes through the
// faults, shuts down, and reports what happened to every event and call. The test asserts.
import { type Clock } from '@bulwark/core';
import { runWithIo, VirtualClock } from '@bulwark/testkit';
import { seededRandom } from '@bulwark/testkit/fake-oilprice';
import { startFakePostHog } from '@bulwark/testkit/fake-posthog';
import { posthog, type FlushResult, type PostHog, type ShutdownResult } from '@bulwark/posthog';

import { callerSignal } from './invariants.js';
import { type PostHogCall, type PostHogSchedule } from './schedules.js';

/** What the driver may end an API call, or report a failed batch, with. */
export const POSTHOG_TAGS: ReadonlySet<string> = new Set([
  'PostHogHttp',
  'PostHogNetwork',
  'PostHogDecode',
  'PostHogClosed',
  'Timeout',
  'BrokenCircuit',
  'RateLimited',
  'BulkheadRejected',
]);

/**
 * The longest an API call may take on the clock, by the driver's own bounds: per request, 3 attempts
 * of at most 10 s (the request timeout), each after a pause of at most 120 s (the longest Retry-After
 * the fake sends here, which the driver honours before the bucket's next request), and 2 backoff waits
 * of at most 60 s (the longest Retry-After the retry honours) plus 30 % jitter. A call reads at most
 * 3 pages (the fake's lists hold at most a few hundred rows at 100 a page).
 */
export const POSTHOG_CALL_DEADLINE_MS = 3 * (3 * (10_000 + 120_000) + 2 * 60_000 * 1.3);

/** How long `shutdown()` is given: what is still queued then is reported dropped. */
export const SHUTDOWN_MS = 30_000;

export interface PostHogCallOutcome {
  readonly call: PostHogCall;
  readonly ok: boolean;
  readonly error: unknown;
  /** Whether it rejected with its caller's abort reason. */
  readonly aborted: boolean;
  readonly tookMs: number;
  /** Its bound: the driver's, or its caller's abort if sooner. */
  readonly deadlineMs: number;
}

export interface PostHogRun {
  readonly calls: readonly PostHogCallOutcome[];
  /** Every `flush()` called resolved (never rejected) with these. */
  readonly flushes: readonly FlushResult[];
  /** Events captured, by UUID, including one captured after shutdown. */
  readonly captured: readonly string[];
  /** UUIDs the fake received (at least once). */
  readonly received: ReadonlySet<string>;
  /** UUIDs reported in `dropped` events, with the reasons given. */
  readonly dropped: ReadonlyMap<string, string>;
  /** The errors `flush-failed` and `dropped` events carried. */
  readonly reportedErrors: readonly unknown[];
  readonly shutdown: ShutdownResult;
  readonly shutdownTookMs: number;
  /** The fault kinds injected, per host (`'ingestion:reset'`, `'api:status'`). */
  readonly met: ReadonlySet<string>;
  readonly timersLeft: number;
}

const START = Date.UTC(2026, 0, 1);

function start(ph: PostHog, call: PostHogCall, signal: AbortSignal | undefined): Promise<unknown> {
  const options = signal === undefined ? {} : { signal };
  switch (call.op) {
    case 'list':
      return ph.listObjects(call.kind, options);
    case 'fields':
      return ph.getFields(call.kind, options);
    case 'query':
      return ph.query(call.hogql, options);
  }
}

/** Makes one call and watches it on the clock. Never rejects. */
function observe(clock: Clock, ph: PostHog, call: PostHogCall): Promise<PostHogCallOutcome> {
  const started = clock.now();
  const caller = callerSignal(clock, call.abortAfterMs);
  const deadlineMs = Math.min(POSTHOG_CALL_DEADLINE_MS, call.abortAfterMs ?? Infinity);
  const end = (ok: boolean, error: unknown): PostHogCallOutcome => {
    caller.release();
    return { call, ok, error, aborted: !ok && error === caller.reason, tookMs: clock.now() - started, deadlineMs };
  };
  return start(ph, call, caller.signal).then(
    () => end(true, undefined),
    (error: unknown) => end(false, error),
  );
}

export async function runPostHogSchedule(schedule: PostHogSchedule): Promise<PostHogRun> {
  const clock = new VirtualClock(START);
  const fake = await startFakePostHog({ clock, seed: schedule.seed });
  for (const rule of schedule.rules) fake.faults.random(rule.host, rule.rate, rule.faults);
  // The default driver: only the keys, the hosts and the test's clock (and its jitter's seed) given.
  const ph = posthog({
    projectApiKey: 'phc_faults_project_key',
    personalApiKey: fake.personalApiKey,
    host: fake.ingestionUrl,
    apiHost: fake.apiUrl,
    clock,
    random: seededRandom(schedule.seed),
  });
  const dropped = new Map<string, string>();
  const reportedErrors: unknown[] = [];
  ph.onEvent((event) => {
    if (event.type === 'dropped') {
      for (const e of event.events) dropped.set(e.uuid, event.reason);
      if (event.error !== undefined) reportedErrors.push(event.error);
    }
    if (event.type === 'flush-failed') reportedErrors.push(event.error);
  });
  // Time moves once every request in flight waits on the fake's clock.
  const parked = (): boolean => ph.stats.activeRequests === fake.sleeping;
  const captured: string[] = [];
  const calls: PostHogCallOutcome[] = [];
  const flushes: FlushResult[] = [];
  let shutdown: ShutdownResult | undefined;
  let shutdownTookMs = 0;
  try {
    for (const [i, step] of schedule.steps.entries()) {
      for (const s of step.script) fake.faults.next(s.host, s.fault, { times: s.times });
      if (step.outage !== null) fake.faults.outage(step.outage.host, step.outage.durationMs, step.outage.fault);
      for (let n = 0; n < step.captures; n++) {
        captured.push(ph.capture({ event: 'fault run', distinctId: `user-${n % 7}`, properties: { step: i, n } }));
      }
      const running = step.calls.map((call) => observe(clock, ph, call));
      const flushing = step.flush ? ph.flush().then((result) => void flushes.push(result)) : Promise.resolve();
      calls.push(...(await runWithIo(Promise.all(running), clock, parked)));
      await runWithIo(flushing, clock, parked);
      await runWithIo(clock.sleep(step.thenMs), clock, parked);
    }
    const started = clock.now();
    shutdown = await runWithIo(ph.shutdown(SHUTDOWN_MS), clock, parked);
    shutdownTookMs = clock.now() - started;
    // After shutdown an event is refused, and said to be.
    captured.push(ph.capture({ event: 'too late', distinctId: 'user-late' }));
    await runWithIo(Promise.resolve(), clock, parked);
  } finally {
    await ph.shutdown(0);
    await fake.close();
  }
  // The request timeouts' shared alarms may outlive the last request by their duration; nothing else may be left.
  await clock.advance(10_000);
  if (shutdown === undefined) throw new Error('unreachable: shutdown settled');
  const met = new Set<string>();
  for (const key of fake.faults.injected.keys()) met.add(key.split(':').slice(0, 2).join(':'));
  const received = new Set(captured.filter((uuid) => fake.received.has(uuid)));
  return {
    calls,
    flushes,
    captured,
    received,
    dropped,
    reportedErrors,
    shutdown,
    shutdownTookMs,
    met,
    timersLeft: clock.pending,
  };
}
