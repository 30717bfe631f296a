// fast-check arbitraries for fault schedules against the two fakes: one arbitrary per fault kind
// (typed `Record<FaultKind, …>`, so a kind added to a fake does not compile until it has one here),
// fault profiles and fake options for the OilPriceAPI, fault plans for PostHog, and the calls a
// schedule makes between its faults.
import {
  type ErrorBodyStyle,
  type Fault as OilFault,
  type FakeOilPriceOptions,
  type FaultKind as OilFaultKind,
  type FaultProfile,
  type LatencyDistribution,
  type QuotaWindow,
} from '@bulwark/testkit/fake-oilprice';
import { type FakeHost, type Fault as PostHogFault } from '@bulwark/testkit/fake-posthog';
import { type EntityKind } from '@bulwark/posthog';
import fc from 'fast-check';

type PostHogFaultKind = PostHogFault['kind'];
type ByKind<F extends { readonly kind: string }> = { readonly [K in F['kind']]: fc.Arbitrary<Extract<F, { kind: K }>> };

const seconds = (max: number): fc.Arbitrary<number> => fc.integer({ min: 0, max });
const bodyStyle = fc.constantFrom<ErrorBodyStyle>('canonical', 'fail-data', 'legacy', 'minimal');
const quotaWindow = fc.constantFrom<QuotaWindow>(
  'daily_counter',
  'monthly_counter',
  'trial_counter',
  'hourly_circuit_breaker',
);
/** Slow-loris pacing: every attempt ends at its timeout, so a slow pace means a handful of writes. */
const slowBody = { intervalMs: fc.integer({ min: 200, max: 3_000 }), bytes: fc.integer({ min: 1, max: 512 }) };

/** What a server may answer that no other kind covers: odd statuses, bodies and headers. */
const oddBody = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
  fc.constantFrom(
    '',
    'null',
    '{"__proto__":{"polluted":true}}',
    '{"status":"success","data":{"price":"72.5","code":"WTI_USD"}}',
    '{"status":"error","error":{"code":"X","retry":{"retryable":true,"retry_after":1}}}',
    '<html>oops</html>',
  ),
);
const oddHeaders = fc.record(
  {
    'Retry-After': fc.constantFrom('0', '1', '3', '61', 'soon', 'Wed, 21 Oct 2015 07:28:00 GMT', '-5'),
    'Content-Type': fc.constantFrom('application/json', 'text/html', 'text/plain'),
    'X-RateLimit-State': fc.constantFrom('exhausted', 'ok'),
    'X-RateLimit-Window': quotaWindow,
  },
  { requiredKeys: [] },
);

/** One arbitrary per fault kind of the fake OilPriceAPI, each field the fault has generated or left to its default. */
export const oilFaultByKind: ByKind<OilFault> = {
  latency: fc.record({ kind: fc.constant('latency'), ms: seconds(30_000) }),
  'server-error': fc.record(
    {
      kind: fc.constant('server-error'),
      status: fc.constantFrom(500, 503, 504),
      body: bodyStyle,
      retryAfterS: seconds(90),
    },
    { requiredKeys: ['kind'] },
  ),
  'bad-gateway-html': fc.constant({ kind: 'bad-gateway-html' }),
  'rate-limit': fc.record(
    { kind: fc.constant('rate-limit'), retryAfterS: seconds(120), body: bodyStyle },
    { requiredKeys: ['kind'] },
  ),
  'quota-exhausted': fc.record(
    {
      kind: fc.constant('quota-exhausted'),
      window: quotaWindow,
      status: fc.constantFrom(429, 402),
      retryAfterS: seconds(2_000),
    },
    { requiredKeys: ['kind'] },
  ),
  'connection-reset': fc.record(
    { kind: fc.constant('connection-reset'), phase: fc.constantFrom('before-headers', 'mid-body') },
    { requiredKeys: ['kind'] },
  ),
  hang: fc.record({ kind: fc.constant('hang'), ms: seconds(200_000) }, { requiredKeys: ['kind'] }),
  'slow-body': fc.record({ kind: fc.constant('slow-body'), ...slowBody }, { requiredKeys: ['kind'] }),
  'malformed-json': fc.constant({ kind: 'malformed-json' }),
  'wrong-types': fc.record(
    {
      kind: fc.constant('wrong-types'),
      variant: fc.constantFrom('price-string', 'price-boolean', 'code-number', 'prices-object'),
    },
    { requiredKeys: ['kind'] },
  ),
  'implausible-price': fc.record(
    { kind: fc.constant('implausible-price'), factor: fc.double({ min: -100, max: 100, noNaN: true }) },
    { requiredKeys: ['kind'] },
  ),
  respond: fc.record(
    { kind: fc.constant('respond'), status: fc.integer({ min: 200, max: 599 }), body: oddBody, headers: oddHeaders },
    { requiredKeys: ['kind', 'status', 'body'] },
  ),
};

/** One arbitrary per fault kind of the fake PostHog. */
export const postHogFaultByKind: ByKind<PostHogFault> = {
  status: fc.record(
    {
      kind: fc.constant('status'),
      status: fc.constantFrom(400, 401, 403, 404, 408, 413, 415, 429, 500, 502, 503, 504),
      body: fc.constantFrom('', 'error', '<html><body>502 Bad Gateway</body></html>', '{"detail":'),
      retryAfterS: seconds(120),
    },
    { requiredKeys: ['kind', 'status'] },
  ),
  reset: fc.constant({ kind: 'reset' }),
  'reset-after-receive': fc.constant({ kind: 'reset-after-receive' }),
  delay: fc.record({ kind: fc.constant('delay'), ms: seconds(30_000) }),
  'slow-body': fc.record({ kind: fc.constant('slow-body'), ...slowBody }, { requiredKeys: ['kind'] }),
};

export const OIL_FAULT_KINDS = Object.keys(oilFaultByKind) as OilFaultKind[];
export const POSTHOG_FAULT_KINDS = Object.keys(postHogFaultByKind) as PostHogFaultKind[];

export const oilFault: fc.Arbitrary<OilFault> = fc.oneof(...Object.values<fc.Arbitrary<OilFault>>(oilFaultByKind));
export const postHogFault: fc.Arbitrary<PostHogFault> = fc.oneof(
  ...Object.values<fc.Arbitrary<PostHogFault>>(postHogFaultByKind),
);

const probability = fc.double({ min: 0, max: 0.3, noNaN: true });

const latency: fc.Arbitrary<LatencyDistribution> = fc.oneof(
  fc.record({ kind: fc.constant('constant'), ms: seconds(3_000) }),
  fc
    .record({ kind: fc.constant('uniform'), minMs: seconds(500), spreadMs: seconds(5_000) })
    .map(({ minMs, spreadMs }) => ({ kind: 'uniform' as const, minMs, maxMs: minMs + spreadMs })),
  fc.record(
    {
      kind: fc.constant('lognormal'),
      medianMs: fc.integer({ min: 10, max: 500 }),
      sigma: fc.double({ min: 0, max: 1.5, noNaN: true }),
      maxMs: fc.integer({ min: 100, max: 40_000 }),
    },
    { requiredKeys: ['kind', 'medianMs', 'sigma'] },
  ),
);

/** A fault profile: latency, outages at fixed times, bursts and single faults at random. */
export const faultProfile: fc.Arbitrary<FaultProfile> = fc.record(
  {
    latency,
    outages: fc.array(fc.record({ startMs: seconds(600_000), durationMs: seconds(180_000), fault: oilFault }), {
      maxLength: 2,
    }),
    bursts: fc.array(fc.record({ probability, durationMs: seconds(30_000), fault: oilFault }), { maxLength: 2 }),
    faults: fc.array(fc.record({ probability, fault: oilFault }), { maxLength: 4 }),
  },
  { requiredKeys: [] },
);

/** The fake's own limits, beside its faults: a small per-window rate limit, a quota that runs out. */
const oilFakeOptions: fc.Arbitrary<Pick<FakeOilPriceOptions, 'profile' | 'rateLimit' | 'quota' | 'seed'>> = fc.record(
  {
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    profile: faultProfile,
    rateLimit: fc.record({ limit: fc.integer({ min: 1, max: 20 }), windowMs: fc.integer({ min: 1_000, max: 60_000 }) }),
    quota: fc.record(
      { limit: fc.integer({ min: 0, max: 20 }), window: quotaWindow, status: fc.constantFrom(429, 402) },
      { requiredKeys: ['limit'] },
    ),
  },
  { requiredKeys: ['seed', 'profile'] },
);

const oilCode = fc.constantFrom('WTI_USD', 'BRENT_CRUDE_USD', 'NATURAL_GAS_USD', 'COAL_USD', 'US_RIG_COUNT', 'NOPE_X');

/**
 * A call of the oil-price client, which its caller may abort after `abortAfterMs` (on the clock).
 * History reads at most 3 pages, so each call has a known bound.
 */
export type OilCall = (
  | { readonly op: 'latest'; readonly code: string }
  | {
      readonly op: 'history';
      readonly code: string;
      readonly range: 'day' | 'week';
      readonly interval: 'hourly' | 'daily';
      readonly perPage: number;
    }
  | { readonly op: 'commodities' }
  | { readonly op: 'commodity'; readonly code: string }
) &
  Aborting;

/** When the caller aborts the call, if it does. */
export interface Aborting {
  readonly abortAfterMs: number | null;
}

const abortAfter: fc.Arbitrary<number | null> = fc.option(seconds(60_000), { freq: 4 });

export const MAX_HISTORY_PAGES = 3;

const oilCall: fc.Arbitrary<OilCall> = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.record({ op: fc.constant('latest'), code: oilCode }) },
      fc.record({
        op: fc.constant('history'),
        code: oilCode,
        range: fc.constantFrom('day', 'week'),
        interval: fc.constantFrom('hourly', 'daily'),
        perPage: fc.constantFrom(5, 100),
      }),
      fc.constant({ op: 'commodities' }),
      fc.record({ op: fc.constant('commodity'), code: oilCode }),
    ),
    abortAfter,
  )
  .map(([call, abortAfterMs]) => ({ ...call, abortAfterMs }));

/** One step: faults queued for the next requests, calls started together, then time passing. */
export interface OilStep {
  readonly inject: readonly OilFault[];
  readonly calls: readonly OilCall[];
  /** Virtual time after the calls settle: past the cache's TTL, the breaker's pause, an outage. */
  readonly thenMs: number;
}

export interface OilSchedule {
  readonly fake: Pick<FakeOilPriceOptions, 'profile' | 'rateLimit' | 'quota' | 'seed'>;
  readonly steps: readonly OilStep[];
}

const oilStep = (inject: fc.Arbitrary<readonly OilFault[]>): fc.Arbitrary<OilStep> =>
  fc.record({
    inject,
    calls: fc.array(oilCall, { minLength: 1, maxLength: 3 }),
    thenMs: fc.oneof(seconds(10_000), seconds(400_000)),
  });

export const oilSchedule: fc.Arbitrary<OilSchedule> = fc.record({
  fake: oilFakeOptions,
  steps: fc.array(oilStep(fc.array(oilFault, { maxLength: 4 })), { minLength: 1, maxLength: 5 }),
});

/** A schedule that meets `fault` first, on a fake with no other fault: each kind is met at least once. */
export const oilScheduleMeeting = (fault: OilFault): fc.Arbitrary<OilSchedule> =>
  fc.record({
    fake: fc.record({ seed: fc.integer({ min: 1, max: 1000 }), profile: fc.constant({}) }),
    steps: fc.tuple(oilStep(fc.constant([fault])), oilStep(fc.constant([]))).map((steps) => steps),
  });

// ——— PostHog ———

const host = fc.constantFrom<FakeHost>('ingestion', 'api');

/** Faults the fake PostHog applies from the start: rules drawn at random per request. */
export interface PostHogRule {
  readonly host: FakeHost;
  readonly rate: number;
  readonly faults: readonly PostHogFault[];
}

/** A call of the private API, which its caller may abort. */
export type PostHogCall = (
  | { readonly op: 'list'; readonly kind: EntityKind }
  | { readonly op: 'fields'; readonly kind: 'events' | 'persons' | 'cohorts' }
  | { readonly op: 'query'; readonly hogql: string }
) &
  Aborting;

const postHogCall: fc.Arbitrary<PostHogCall> = fc
  .tuple(
    fc.oneof(
      fc.record({
        op: fc.constant('list'),
        kind: fc.constantFrom<EntityKind>('events', 'persons', 'cohorts', 'feature_flags', 'insights', 'annotations'),
      }),
      fc.record({ op: fc.constant('fields'), kind: fc.constantFrom('events', 'persons', 'cohorts') }),
      fc.record({
        op: fc.constant('query'),
        hogql: fc.constantFrom(
          'select event, count() from events group by event order by event',
          'select nope from events',
        ),
      }),
    ),
    abortAfter,
  )
  .map(([call, abortAfterMs]) => ({ ...call, abortAfterMs }));

export interface PostHogScripted {
  readonly host: FakeHost;
  readonly fault: PostHogFault;
  readonly times: number;
}

/** One step: faults for the next requests (and maybe an outage from now), captures, API calls, time passing. */
export interface PostHogStep {
  readonly script: readonly PostHogScripted[];
  readonly outage: { readonly host: FakeHost; readonly durationMs: number; readonly fault: PostHogFault } | null;
  readonly captures: number;
  readonly calls: readonly PostHogCall[];
  /** Whether to call `flush()` as well (it must resolve, never reject). */
  readonly flush: boolean;
  readonly thenMs: number;
}

export interface PostHogSchedule {
  readonly seed: number;
  readonly rules: readonly PostHogRule[];
  readonly steps: readonly PostHogStep[];
}

const scripted = fc.record({ host, fault: postHogFault, times: fc.integer({ min: 1, max: 3 }) });

const postHogStep = (script: fc.Arbitrary<readonly PostHogScripted[]>): fc.Arbitrary<PostHogStep> =>
  fc.record({
    script,
    outage: fc.option(fc.record({ host, durationMs: seconds(60_000), fault: postHogFault }), { freq: 4 }),
    captures: fc.integer({ min: 0, max: 40 }),
    calls: fc.array(postHogCall, { maxLength: 2 }),
    flush: fc.boolean(),
    thenMs: fc.oneof(seconds(6_000), seconds(90_000)),
  });

export const postHogSchedule: fc.Arbitrary<PostHogSchedule> = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  rules: fc.array(
    fc.record({
      host,
      rate: fc.double({ min: 0, max: 0.5, noNaN: true }),
      faults: fc.array(postHogFault, { minLength: 1, maxLength: 3 }),
    }),
    { maxLength: 2 },
  ),
  steps: fc.array(postHogStep(fc.array(scripted, { maxLength: 3 })), { minLength: 1, maxLength: 5 }),
});

/** A schedule whose first request on each host meets `fault`: each kind is met at least once on both. */
export const postHogScheduleMeeting = (fault: PostHogFault): fc.Arbitrary<PostHogSchedule> =>
  fc.record({
    seed: fc.integer({ min: 1, max: 1000 }),
    rules: fc.constant([]),
    steps: fc
      .tuple(
        postHogStep(
          fc.constant([
            { host: 'ingestion', fault, times: 1 },
            { host: 'api', fault, times: 1 },
          ]),
        ),
        postHogStep(fc.constant([])),
      )
      .map(([first, second]) => [
        {
          ...first,
          outage: null,
          captures: Math.max(1, first.captures),
          flush: true,
          calls: [{ op: 'list', kind: 'cohorts', abortAfterMs: null }],
        },
        second,
      ]),
  });
