/**
 * The Bulwark demo: the same OilPriceAPI workload twice, through a bare client and through the
 * default pipeline, against the fake OilPriceAPI with its default fault profile (or against the real
 * API when OILPRICEAPI_KEY is set), then a side-by-side table and an HTML report with charts.
 *
 *   npx -y pnpm@10 demo [--duration 600] [--rate 5] [--speed 10] [--seed 1] [--out report.html]
 *
 * Durations and rates are in simulated time: against the fake, one clock runs `speed` times faster
 * than the wall for the fakes and every policy alike, so ten minutes with a 5-minute cache TTL, a
 * 60-second breaker and a 90-second outage take one minute.
 */
import { noop, systemClock, type Clock } from '@bulwark/core';
import {
  defaultFaultProfile,
  startFakeOilPrice,
  type FakeOilPrice,
  type FaultProfile,
} from '@bulwark/testkit/fake-oilprice';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { defaultPipeline, OilPriceClient, PIPELINE_PARTS, type DefaultPipelineOptions } from '../src/index.js';
import { renderReport } from './report.js';
import { scaledClock } from './scaled-clock.js';
import { renderTable, summarise, tableRows } from './summary.js';
import { makeWorkload, runWorkload, type LiveCounts, type RunResult } from './workload.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    rate: { type: 'string' },
    speed: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    quick: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});

if (values.help === true) {
  console.log(`Usage: npx -y pnpm@10 demo [options]

  --duration S   simulated seconds of workload (default 600; 60 against the real API)
  --rate N       calls per simulated second (default 5; 0.5 against the real API)
  --speed X      how much faster than the wall the simulated clock runs (default 10; 1 against the real API)
  --seed N       seed of the workload and of the fake's faults (default 1)
  --out FILE     where to write the HTML report (default ./bulwark-demo-report.html)
  --quick        a 3-minute simulated run (18 s of wall time)

Set OILPRICEAPI_KEY to run against the real API (uses about 2 x duration x rate requests of your quota),
and REDIS_URL to cache in Redis.`);
  process.exit(0);
}

const realKey = process.env['OILPRICEAPI_KEY'];
const real = realKey !== undefined && realKey !== '';
const number = (text: string | undefined, fallback: number, name: string): number => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} must be a positive number, got ${text}`);
    process.exit(2);
  }
  return value;
};
const durationMs = number(values.duration, values.quick === true ? 180 : real ? 60 : 600, 'duration') * 1000;
const ratePerS = number(values.rate, real ? 0.5 : 5, 'rate');
const speed = real ? 1 : number(values.speed, 10, 'speed');
const seed = Math.floor(number(values.seed, 1, 'seed'));
const out = resolve(values.out ?? 'bulwark-demo-report.html');

// Against the fake, the default profile's outage must fall inside the run: move it to 60 % of a
// shorter run, so that cached entries have had time to go stale when it starts.
const profile: FaultProfile =
  durationMs >= 600_000
    ? defaultFaultProfile
    : {
        ...defaultFaultProfile,
        outages: (defaultFaultProfile.outages ?? []).map((o) => ({
          ...o,
          startMs: Math.round(durationMs * 0.6),
          durationMs: Math.min(o.durationMs, Math.round(durationMs * 0.15)),
        })),
      };

const clock: Clock = real ? systemClock : scaledClock(speed);
const redisUrl = process.env['REDIS_URL'];
// The cache goes to Redis only when REDIS_URL is set, under a namespace of this run's own.
const pipelineOptions: DefaultPipelineOptions = {
  clock,
  redisUrl: redisUrl ?? '',
  namespace: `bulwark-demo:${process.pid}:${Date.now()}`,
};

async function main(): Promise<void> {
  const fakes: FakeOilPrice[] = real
    ? []
    : await Promise.all([startFakeOilPrice({ clock, profile, seed }), startFakeOilPrice({ clock, profile, seed })]);
  const apiKey = real ? realKey : (fakes[0] as FakeOilPrice).apiKey;
  const baseUrl = (i: number): string => (real ? 'https://api.oilpriceapi.com' : (fakes[i] as FakeOilPrice).url);
  const pipelinePolicy = defaultPipeline(pipelineOptions);
  const clients = [
    new OilPriceClient({ apiKey, baseUrl: baseUrl(0), policy: noop, clock }),
    new OilPriceClient({ apiKey, baseUrl: baseUrl(1), policy: pipelinePolicy, clock }),
  ] as const;
  const names = ['bare client', 'Bulwark default pipeline'] as const;
  const calls = makeWorkload({ seed, durationMs, ratePerS, nowMs: clock.now() });

  console.log(`Bulwark demo: ${calls.length} OilPriceAPI calls per run, twice, side by side`);
  console.log(
    real
      ? '  against the real API (OILPRICEAPI_KEY is set), in real time'
      : `  against two fake OilPriceAPIs on loopback with the default fault profile (seed ${seed}),\n  on a clock running ${speed}x: ${durationMs / 1000} simulated seconds take about ${Math.round(durationMs / 1000 / speed)} s`,
  );
  const composition = ['telemetry', ...PIPELINE_PARTS.filter((part) => pipelinePolicy.parts[part] !== undefined)].join(
    ' → ',
  );
  const missing = pipelinePolicy.unavailable;
  console.log(`  pipeline: ${composition}`);
  if (missing.length > 0) console.log(`  (not in this build yet: ${missing.join(', ')})`);
  console.log('');

  const live: [LiveCounts, LiveCounts] = [
    { started: 0, done: 0, ok: 0, breaker: 'closed' },
    { started: 0, done: 0, ok: 0, breaker: 'closed' },
  ];
  const startAt = clock.now() + 50 * speed;
  const tty = process.stdout.isTTY === true;
  let lastDecile = -1;
  const progress = (): void => {
    const elapsed = Math.max(0, Math.min(durationMs, clock.now() - startAt));
    const share = elapsed / durationMs;
    const cell = (i: 0 | 1): string => {
      const l = live[i];
      const okShare = l.done === 0 ? '  -  ' : `${((100 * l.ok) / l.done).toFixed(1).padStart(5)}%`;
      const pending = l.started - l.done;
      return `${names[i]}: ${String(l.done).padStart(5)} done, ${okShare} ok, ${String(pending).padStart(3)} in flight${i === 1 ? `, breaker ${l.breaker}` : ''}`;
    };
    const line = `[${String(Math.round(share * 100)).padStart(3)}%] t=${String(Math.round(elapsed / 1000)).padStart(4)} s | ${cell(0)} | ${cell(1)}`;
    if (tty) process.stdout.write(`\r${line}`);
    else if (Math.floor(share * 10) > lastDecile) {
      lastDecile = Math.floor(share * 10);
      console.log(line);
    }
  };
  const timer = setInterval(progress, 250);
  // Scaled time multiplies the machine's own stalls too: measure them, so the report can say how much.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let runs: RunResult[];
  try {
    runs = await Promise.all([
      runWorkload(names[0], clients[0], calls, clock, startAt, live[0]),
      runWorkload(names[1], clients[1], calls, clock, startAt, live[1]),
    ]);
  } finally {
    clearInterval(timer);
    loopDelay.disable();
  }
  const stallP99Ms = loopDelay.percentile(99) / 1e6;
  const stallMaxMs = loopDelay.max / 1e6;
  progress();
  if (tty) process.stdout.write('\n');

  const summaries = runs.map(summarise);
  const header = ['', ...names];
  const rows = tableRows(summaries);
  console.log('');
  console.log(renderTable(header, rows));
  const fakeNote = fakes.map((fake, i) => `${names[i]}: ${fake.requests.length}`).join(', ');
  if (!real) console.log(`\nRequests the fakes received: ${fakeNote}.`);
  const inflatedMs = stallP99Ms * speed;
  console.log(
    `Event-loop stalls during the run (wall): p99 ${stallP99Ms.toFixed(1)} ms, max ${stallMaxMs.toFixed(0)} ms.` +
      (!real && inflatedMs > 100
        ? `\nWarning: at ${speed}x they add up to ${Math.round(inflatedMs)} ms to simulated latencies: this machine is busy.` +
          ` Latency figures are inflated for both runs alike; --speed ${Math.max(1, Math.floor(speed / 4))} gives truer ones.`
        : ''),
  );

  const settings: [string, string][] = [
    ['target', real ? 'the real OilPriceAPI' : 'two fake OilPriceAPIs on loopback, same seed and fault profile'],
    [
      'workload',
      `${calls.length} calls: ${ratePerS}/s for ${durationMs / 1000} s (latest 59 %, history 36 %, catalogue 5 %)`,
    ],
    ['clock', real ? 'real time' : `simulated, ${speed}x the wall clock (machine work reads ${speed}x longer)`],
    [
      'event-loop stalls (wall)',
      `p99 ${stallP99Ms.toFixed(1)} ms, max ${stallMaxMs.toFixed(0)} ms${real ? '' : `: read as up to ${Math.round(stallMaxMs * speed)} ms of simulated latency`}`,
    ],
    ['seed', String(seed)],
    ['pipeline', composition],
    ['not in this build', missing.length === 0 ? 'none' : missing.join(', ')],
    ['cache store', redisUrl !== undefined && redisUrl !== '' ? 'Redis (REDIS_URL)' : 'in memory'],
  ];
  if (!real) {
    settings.push(['latency', JSON.stringify(profile.latency)]);
    for (const outage of profile.outages ?? []) {
      settings.push([
        'outage',
        `${outage.fault.kind} from ${outage.startMs / 1000} s for ${outage.durationMs / 1000} s`,
      ]);
    }
    for (const burst of profile.bursts ?? []) {
      settings.push([
        'burst',
        `${burst.fault.kind} for ${burst.durationMs / 1000} s, starting with p=${burst.probability}`,
      ]);
    }
    for (const fault of profile.faults ?? []) {
      settings.push(['fault', `${JSON.stringify(fault.fault)} with p=${fault.probability}`]);
    }
  }
  const html = renderReport({
    title: 'Bulwark demo: OilPriceAPI through faults, bare and with the default pipeline',
    subtitle: `${calls.length} calls per run; ${real ? 'real API' : `fake API, default fault profile, seed ${seed}`}; run finished ${new Date().toISOString()}`,
    settings,
    runs,
    summaries,
    header,
    table: rows,
    outages: real ? [] : (profile.outages ?? []),
    durationMs,
    hasBreaker: pipelinePolicy.parts.breaker !== undefined,
  });
  writeFileSync(out, html);
  console.log(`\nHTML report: ${out}`);
  if (pipelinePolicy.metrics !== undefined) {
    console.log(`\nThe pipeline's own telemetry (@bulwark/telemetry metrics, simulated ms):\n`);
    console.log(pipelinePolicy.metrics.report());
  }

  await Promise.all([...clients.map((c) => c.close()), ...fakes.map((f) => f.close()), pipelinePolicy.close()]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
