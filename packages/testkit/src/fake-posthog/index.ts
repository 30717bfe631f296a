/**
 * A fake PostHog on loopback: the ingestion host and the private-API host, as real `node:http` servers
 * that answer like PostHog Cloud and inject faults on demand.
 *
 * Faithful to `reference/posthog-api.md`: plain-text ingestion errors, DRF error envelopes
 * `{type, code, detail, attr}`, throttle buckets (240/min and 1,200/hour analytics, 240/min and
 * 2,400/hour query, 480/min and 4,800/hour for the rest) answering `429` with `Retry-After`, `next`
 * pagination with absolute URLs, gzip bodies, `413` for oversize bodies and events. Time (throttles,
 * outages, delays) runs on the clock it is given, so a test on the virtual clock crosses an hour of
 * throttle windows in microseconds.
 *
 * @module
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { systemClock, type Clock } from '@bulwark/core';

import { apiHandler } from './api.js';
import { FaultPlan, mulberry32 } from './faults.js';
import type { Hold } from './http.js';
import { ingestionHandler } from './ingestion.js';
import { ReceivedEvents } from './received.js';
import { FakeData, type SeededKind } from './store.js';
import { POSTHOG_RATE_LIMITS, Throttle, type ThrottleBucket, type ThrottleRate } from './throttle.js';

export { FaultPlan } from './faults.js';
export type { FakeHost, Fault, FaultMatch } from './faults.js';
export { ReceivedEvents } from './received.js';
export type { IngestedEvent } from './received.js';
export { FakeData, seedEntity } from './store.js';
export type { FakeEntityKind } from './store.js';
export { POSTHOG_RATE_LIMITS, Throttle } from './throttle.js';
export type { ThrottleBucket, ThrottleDecision, ThrottleRate } from './throttle.js';

/**
 * Which throttle bucket each private-API resource falls in, as PostHog assigns them: ClickHouse-backed
 * reads (events, persons, session recordings, insights) are `analytics`, `query` is `query`, the rest
 * (Postgres CRUD) `crud`.
 *
 * This deliberately restates the driver's own `bucketOf` instead of importing it: a fake that borrowed
 * the client's table could never catch the client getting a bucket wrong.
 *
 * @example
 * ```ts
 * import { posthogBucketOf } from '@bulwark/testkit/fake-posthog';
 * assert.equal(posthogBucketOf('persons'), 'analytics');
 * assert.equal(posthogBucketOf('cohorts'), 'crud');
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function posthogBucketOf(resource: string): ThrottleBucket {
  switch (resource) {
    case 'events':
    case 'persons':
    case 'session_recordings':
    case 'insights':
      return 'analytics';
    case 'query':
      return 'query';
    default:
      return 'crud';
  }
}

/**
 * Options of {@link startFakePostHog}.
 *
 * @category testing
 * @since 0.1.0
 */
export interface FakePostHogOptions {
  /** The clock for throttle windows, outages and delays. @default systemClock */
  readonly clock?: Clock;
  /** Seed of the generator behind random faults. @default 1 */
  readonly seed?: number;
  /** The project id served under `/api/projects/:id/` (`@current` also works). @default 1 */
  readonly projectId?: number;
  /** Personal API keys that authenticate on the private API. @default ['phx_fake_personal_key'] */
  readonly personalApiKeys?: readonly string[];
  /**
   * Throttle rates per bucket; `false` turns throttling off.
   * @default POSTHOG_RATE_LIMITS (the published limits)
   */
  readonly throttle?: false | Partial<Readonly<Record<ThrottleBucket, readonly ThrottleRate[]>>>;
  /** Whether throttles count per personal key (as the server source does) or per project (as the docs say). @default 'key' */
  readonly throttleScope?: 'key' | 'project';
  /** Largest ingestion body in bytes, after gunzip too; beyond it, `413`. @default 20 MB */
  readonly maxBodyBytes?: number;
  /** Largest single event in bytes (serialised JSON); beyond it the request gets `413`. @default 1,000,000 */
  readonly maxEventBytes?: number;
  /** What an event without a name or `distinct_id` gets: `400` (current Rust source) or `200` and dropped (docs). @default 400 */
  readonly missingFieldStatus?: 200 | 400;
  /** Page size of the private API's lists when the request names no `limit`. @default 100 */
  readonly pageSize?: number;
  /** How many entities of each kind to seed (persons too). @default 3 of each */
  readonly entities?: Partial<Record<SeededKind | 'persons', number>>;
  /** The origin written into `next`/`previous` links. @default the API host's own URL */
  readonly linkOrigin?: string;
}

/**
 * A running fake PostHog.
 *
 * @category testing
 * @since 0.1.0
 */
export interface FakePostHog {
  /** The ingestion host's base URL (`http://127.0.0.1:PORT`). */
  readonly ingestionUrl: string;
  /** The private API host's base URL. */
  readonly apiUrl: string;
  readonly projectId: number;
  /** The personal API keys it accepts. */
  readonly personalApiKeys: readonly string[];
  /** The first of them, for the usual test with one key. */
  readonly personalApiKey: string;
  /** Events received, by UUID, duplicates counted apart. */
  readonly received: ReceivedEvents;
  /** Seeded entities, persons and definitions served by the private API. */
  readonly data: FakeData;
  /** Fault injection. */
  readonly faults: FaultPlan;
  /** The throttles (to reset them between phases of a test), or `undefined` when throttling is off. */
  readonly throttle: Throttle | undefined;
  /** Request counts. */
  readonly stats: {
    /** Requests per host and status (`'api:200'`, `'ingestion:503'`); resets and unanswered requests are not answers. */
    readonly answers: ReadonlyMap<string, number>;
    /** Private-API requests refused by a throttle (429 from a bucket, not injected). */
    readonly throttled: number;
    /** Events the ingestion host dropped with a 200 (only with `missingFieldStatus: 200`). */
    readonly droppedByServer: number;
    /** Requests being handled now, on both hosts. */
    readonly inFlight: number;
  };
  /**
   * How many requests wait on the fake's clock right now (a `delay`, a `slow-body`). With a virtual
   * clock, a test may move it once every request in flight waits: nothing else is then moving.
   */
  readonly sleeping: number;
  /** Stops both servers, ends every wait and destroys their connections. */
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

/**
 * Starts a fake PostHog (both hosts) on loopback ports of its own.
 *
 * @example
 * ```ts
 * import { startFakePostHog } from '@bulwark/testkit/fake-posthog';
 *
 * const fake = await startFakePostHog();
 * const res = await fetch(`${fake.ingestionUrl}/batch/`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ api_key: 'phc_test', batch: [{ event: 'signed up', distinct_id: 'u1', uuid: '0190b1a4-0000-7000-8000-000000000001' }] }),
 * });
 * assert.equal(res.status, 200);
 * assert.equal(fake.received.unique, 1);
 * await fake.close();
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export async function startFakePostHog(options: FakePostHogOptions = {}): Promise<FakePostHog> {
  const clock = options.clock ?? systemClock;
  const now = (): number => clock.now();
  const closing = new AbortController();
  let sleeping = 0;
  // Every wait on the clock is counted (a test on a virtual clock moves it once every request waits),
  // and ends when the fake closes or its client goes away (the request is then handled at once).
  const hold: Hold = async (ms, res) => {
    const gone = new AbortController();
    const leave = (): void => gone.abort();
    res?.once('close', leave);
    sleeping++;
    try {
      await clock.sleep(ms, AbortSignal.any([gone.signal, closing.signal]));
      return true;
    } catch {
      return false;
    } finally {
      sleeping--;
      res?.off('close', leave);
    }
  };
  const projectId = options.projectId ?? 1;
  const personalApiKeys = options.personalApiKeys ?? ['phx_fake_personal_key'];
  const faults = new FaultPlan(now, mulberry32(options.seed ?? 1));
  const received = new ReceivedEvents();
  const data = new FakeData(options.entities ?? {}, received);
  const throttle =
    options.throttle === false ? undefined : new Throttle({ ...POSTHOG_RATE_LIMITS, ...options.throttle });
  const answers = new Map<string, number>();
  const counters = { throttled: 0, dropped: 0, inFlight: 0 };

  let apiOrigin = '';
  const ingest = ingestionHandler(
    {
      maxBodyBytes: options.maxBodyBytes ?? 20 * 1024 * 1024,
      maxEventBytes: options.maxEventBytes ?? 1_000_000,
      missingFieldStatus: options.missingFieldStatus ?? 400,
      now,
    },
    faults,
    received,
    (event) => data.ingest(event),
    counters,
    hold,
  );
  const api = apiHandler(
    {
      projectId,
      personalApiKeys: new Set(personalApiKeys),
      pageSize: options.pageSize ?? 100,
      throttleScope: options.throttleScope ?? 'key',
      bucketOf: posthogBucketOf,
      now,
      origin: () => options.linkOrigin ?? apiOrigin,
    },
    faults,
    throttle,
    data,
    counters,
    hold,
  );

  const sockets = new Set<Socket>();
  const serve = (
    host: 'ingestion' | 'api',
    handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  ): Server => {
    const server = createServer((req, res) => {
      counters.inFlight += 1;
      res.on('finish', () => {
        const key = `${host}:${res.statusCode}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
      });
      res.on('close', () => {
        counters.inFlight -= 1;
      });
      handle(req, res).catch(() => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal server error');
        } else res.destroy();
      });
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    return server;
  };

  const ingestionServer = serve('ingestion', ingest);
  const apiServer = serve('api', api);
  const [ingestionUrl, apiUrl] = await Promise.all([listen(ingestionServer), listen(apiServer)]);
  apiOrigin = apiUrl;

  const close = (server: Server): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  return {
    ingestionUrl,
    apiUrl,
    projectId,
    personalApiKeys,
    personalApiKey: personalApiKeys[0] ?? '',
    received,
    data,
    faults,
    throttle,
    stats: {
      answers,
      get throttled() {
        return counters.throttled;
      },
      get droppedByServer() {
        return counters.dropped;
      },
      get inFlight() {
        return counters.inFlight;
      },
    },
    get sleeping() {
      return sleeping;
    },
    async close() {
      closing.abort();
      const closed = Promise.all([close(ingestionServer), close(apiServer)]);
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
