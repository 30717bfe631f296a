/**
 * The oil-price client under concurrent load (the seed's concurrent-load table): 10, 50, 100 and 500
 * callers, each calling again as soon as its last call settles, against the fake OilPriceAPI on
 * loopback in a process of its own, answering at once and without faults. With no latency to hide
 * behind, what the client and its pipeline cost per request shows in full.
 *
 * Per level and case: p50, p95 and p99 latency of the calls that succeeded (HdrHistogram, µs
 * resolution), the success rate, the throughput, and this process's CPU time per call (the client's
 * cost alone: the server's is in its own process); each beside a bare `fetch` of the same URLs, the
 * baseline. The cases run in alternating rounds after an uncounted warm-up; latencies are pooled over
 * the rounds, throughput and CPU are the median round's. `summarize` prints them as one table.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { noop, type Policy } from '@bulwark/core';
import { defaultPipeline, OilPriceClient, type DefaultPipelineOptions, type OilPricePipeline } from '@bulwark/oilprice';
import * as hdr from 'hdr-histogram-js';
import { Agent, fetch, Pool } from 'undici';

import {
  collectGarbage,
  formatValue,
  median,
  relativeTo,
  type BenchContext,
  type Figure,
  type Measured,
  type Suite,
} from '../harness.js';

const LEVELS = [10, 50, 100, 500] as const;
/** Several codes, so that the cache holds several entries and validation judges several series. */
const CODES = ['BRENT_CRUDE_USD', 'WTI_USD', 'NATURAL_GAS_USD', 'DIESEL_USD'] as const;
type Metric = 'p50' | 'p95' | 'p99' | 'throughput' | 'cpu' | 'success';

const codeOf = (i: number): string => CODES[i % CODES.length] as string;

/** One way of getting a latest price; rejects unless it got one. */
interface LoadCase {
  readonly name: string;
  readonly call: (i: number) => Promise<unknown>;
}

/** What the calls of one case came to, over every round at one level. */
interface Tally {
  readonly latencyUs: hdr.Histogram;
  readonly rates: number[];
  /** This process's CPU time per request in each round, in µs: the client's cost, not the server's. */
  readonly cpuUs: number[];
  ok: number;
  failed: number;
  readonly errors: Map<string, number>;
}

const newTally = (): Tally => ({
  latencyUs: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, useWebAssembly: false }),
  rates: [],
  cpuUs: [],
  ok: 0,
  failed: 0,
  errors: new Map(),
});

/** `requests` calls by `callers` callers in a closed loop; returns the milliseconds they took. */
async function drive(callers: number, requests: number, call: LoadCase['call'], tally: Tally): Promise<number> {
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < requests) {
      const i = next++;
      const started = performance.now();
      try {
        await call(i);
        tally.latencyUs.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
        tally.ok++;
      } catch (error) {
        tally.failed++;
        const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        // A few kinds are enough to say what went wrong; messages holding request ids would not stop.
        if (tally.errors.size < 10 || tally.errors.has(what)) tally.errors.set(what, (tally.errors.get(what) ?? 0) + 1);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: callers }, caller));
  return performance.now() - started;
}

/** The fake OilPriceAPI in a child process (`fake-oilprice-process.ts`). */
async function startFakeProcess(): Promise<{ url: string; apiKey: string; close(): Promise<void> }> {
  const child: ChildProcess = fork(fileURLToPath(new URL('../fake-oilprice-process.ts', import.meta.url)));
  const exited = once(child, 'exit');
  const [ready] = (await Promise.race([
    once(child, 'message'),
    exited.then(() => Promise.reject(new Error('the fake OilPriceAPI process exited before it listened'))),
  ])) as [{ url: string; apiKey: string }];
  return {
    ...ready,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send('close');
      const timer = setTimeout(() => child.kill(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The group of a level's metric; a figure's name is the group, a colon, and the case. */
const groupOf = (callers: number, metric: Metric): string => `oilprice, ${callers} callers, ${metric}`;

/** The figures of one level, each case beside the first (bare fetch). */
function levelFigures(callers: number, cases: readonly LoadCase[], tallies: readonly Tally[]): Figure[] {
  const of = (value: (t: Tally) => number) =>
    cases.map((c, i): Measured => ({ name: c.name, value: value(tallies[i] as Tally) }));
  const group = (metric: Metric, values: Measured[], unit: string, better: Figure['better']): Figure[] =>
    relativeTo(groupOf(callers, metric), values[0] as Measured, values.slice(1), unit, better);
  const percentile = (p: number) => (t: Tally) => (t.ok > 0 ? t.latencyUs.getValueAtPercentile(p) / 1000 : NaN);
  return [
    ...group('p50', of(percentile(50)), 'ms', 'lower'),
    ...group('p95', of(percentile(95)), 'ms', 'lower'),
    ...group('p99', of(percentile(99)), 'ms', 'lower'),
    ...group(
      'throughput',
      of((t) => median(t.rates)),
      'req/s',
      'higher',
    ),
    ...group(
      'cpu',
      of((t) => median(t.cpuUs)),
      'cpu µs/req',
      'lower',
    ),
    ...group(
      'success',
      of((t) => (100 * t.ok) / (t.ok + t.failed)),
      '%',
      'higher',
    ),
  ];
}

/** Parts the pipeline holds, outermost first, for the cases' names. */
const partsOf = (p: OilPricePipeline): string =>
  [p.metrics !== undefined ? 'telemetry' : [], ...Object.keys(p.parts)].flat().join(' → ');

/**
 * The ways of getting a latest price, bare fetch first (the baseline). Whatever is opened is handed to
 * `onClose` as soon as it exists, so that a failure half-way still closes it.
 */
function loadCases(
  server: { readonly url: string; readonly apiKey: string },
  onClose: (close: () => Promise<void>) => void,
): LoadCase[] {
  const headers = { authorization: `Token ${server.apiKey}`, accept: 'application/json' };
  // undici's own fetch and Agent (what Node's global fetch is built on), so the agent can be closed.
  const agent = new Agent();
  onClose(() => agent.close());
  const pool = new Pool(server.url, { connections: 100 });
  onClose(() => pool.close());
  const pipeline = (options: DefaultPipelineOptions): OilPricePipeline => {
    const made = defaultPipeline({ namespace: `bench-${process.pid}`, ...options });
    onClose(async () => {
      made.metrics?.dispose();
      await made.close();
    });
    return made;
  };
  const uncached = pipeline({ cache: false });
  // In memory whatever REDIS_URL says: the row shows what a hit costs, not what Redis does.
  const cached = pipeline({ redisUrl: '' });
  const client = (policy: Policy, keepAlive?: number): OilPriceClient => {
    const made = new OilPriceClient({
      apiKey: server.apiKey,
      baseUrl: server.url,
      policy,
      ...(keepAlive !== undefined ? { keepAlive } : {}),
    });
    // Registered after its pipeline, so closed before it.
    onClose(() => made.close());
    return made;
  };
  const bare = client(noop);
  const keepingAll = client(noop, 100);
  const piped = client(uncached);
  const caching = client(cached);
  const gotPrice = (body: unknown): void => {
    if (typeof (body as { data?: { price?: unknown } }).data?.price !== 'number')
      throw new Error('no price in the body');
  };
  return [
    {
      name: 'bare fetch',
      call: async (i) => {
        const response = await fetch(`${server.url}/v1/prices/latest?by_code=${codeOf(i)}`, {
          headers,
          dispatcher: agent,
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        gotPrice(await response.json());
      },
    },
    {
      name: 'bare undici Pool(100).request',
      call: async (i) => {
        const response = await pool.request({
          path: `/v1/prices/latest?by_code=${codeOf(i)}`,
          method: 'GET',
          headers,
        });
        if (response.statusCode !== 200) {
          await response.body.dump();
          throw new Error(`HTTP ${response.statusCode}`);
        }
        gotPrice(await response.body.json());
      },
    },
    { name: 'client, no policy (noop)', call: (i) => bare.latest(codeOf(i)) },
    // The default keeps 20 connections alive: beyond 20 in flight, each request opens a connection.
    { name: 'client, no policy, keepAlive 100', call: (i) => keepingAll.latest(codeOf(i)) },
    { name: `client, default pipeline without cache (${partsOf(uncached)})`, call: (i) => piped.latest(codeOf(i)) },
    { name: `client, default pipeline, cache hits (${partsOf(cached)})`, call: (i) => caching.latest(codeOf(i)) },
  ];
}

/** Every level: warm-up, then alternating rounds of every case. */
async function measure(cases: readonly LoadCase[], ctx: BenchContext): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const callers of LEVELS) {
    const requests = ctx.quick ? Math.max(50, callers) : Math.max(2000, 6 * callers);
    const rounds = ctx.quick ? 1 : 3;
    // Warm-up, not kept: the JIT settles and each case opens its connections.
    if (!ctx.quick) for (const c of cases) await drive(callers, Math.max(500, callers * 2), c.call, newTally());
    const tallies = cases.map(newTally);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < cases.length; i++) {
        const tally = tallies[i] as Tally;
        collectGarbage();
        const cpu = process.cpuUsage();
        const ms = await drive(callers, requests, (cases[i] as LoadCase).call, tally);
        const used = process.cpuUsage(cpu);
        tally.rates.push((requests * 1000) / ms);
        tally.cpuUs.push((used.user + used.system) / requests);
      }
    }
    figures.push(...levelFigures(callers, cases, tallies));
    for (let i = 0; i < cases.length; i++) {
      const tally = tallies[i] as Tally;
      if (tally.failed > 0) {
        const kinds = [...tally.errors].map(([what, n]) => `${n} × ${what}`).join('; ');
        console.warn(
          `\noilprice, ${callers} callers, ${(cases[i] as LoadCase).name}: ${tally.failed} failed (${kinds})`,
        );
      }
      tally.latencyUs.destroy();
    }
  }
  return figures;
}

async function run(ctx: BenchContext): Promise<Figure[]> {
  const server = await startFakeProcess();
  const closers: (() => Promise<void>)[] = [() => server.close()];
  try {
    return await measure(
      loadCases(server, (close) => closers.push(close)),
      ctx,
    );
  } finally {
    // Last opened, first closed: clients before their pipelines and pools, the server last.
    for (const close of closers.reverse()) {
      await close().catch((error: unknown) => console.warn('oilprice: closing failed:', error));
    }
  }
}

const FIGURE = /^oilprice, (\d+) callers, (p50|p95|p99|throughput|cpu|success): (.*)$/;

/** The concurrent-load table: one row per level and case, every metric side by side. */
function summarize(figures: readonly Figure[]): string {
  const rows = new Map<string, Partial<Record<Metric, Figure>> & { callers: string; what: string }>();
  for (const f of figures) {
    const match = FIGURE.exec(f.name);
    if (match === null) continue;
    const [, callers = '', metric = '', what = ''] = match;
    const key = `${callers}\u0000${what}`;
    const row = rows.get(key) ?? { callers, what };
    row[metric as Metric] = f;
    rows.set(key, row);
  }
  const value = (f: Figure | undefined): string => (f === undefined ? '' : formatValue(f.value));
  const ratio = (f: Figure | undefined): string =>
    f === undefined || f.baseline === f.name ? '' : `${f.ratio.toFixed(2)}x`;
  const lines = [...rows.values()].map(
    (r) =>
      `| ${r.callers} | ${r.what} | ${value(r.p50)} | ${value(r.p95)} | ${value(r.p99)} | ${value(r.success)} % | ` +
      `${value(r.throughput)} | ${value(r.cpu)} | ${ratio(r.p50)} | ${ratio(r.throughput)} | ${ratio(r.cpu)} |`,
  );
  return [
    'oil-price client under load (latencies in ms; ratios to bare fetch at the same level):',
    '',
    '| callers | case | p50 | p95 | p99 | success | req/s | CPU µs/req | p50 ratio | req/s ratio | CPU ratio |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...lines,
  ].join('\n');
}

export const oilpriceSuite: Suite = { name: 'oilprice', run, summarize };
