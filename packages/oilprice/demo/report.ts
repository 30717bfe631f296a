/**
 * The demo's HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched)
 * with the side-by-side table and three charts drawn from the run's records: latency distribution of
 * both runs, outcomes over time, breaker state over time.
 */
import { type Outage } from '@bulwark/testkit/fake-oilprice';

import { ms, quantile, renderTable, type Summary } from './summary.js';
import { type RunResult } from './workload.js';

export interface ReportInput {
  readonly title: string;
  readonly subtitle: string;
  readonly settings: readonly [string, string][];
  readonly runs: readonly RunResult[];
  readonly summaries: readonly Summary[];
  readonly table: readonly (readonly string[])[];
  readonly header: readonly string[];
  readonly outages: readonly Outage[];
  readonly durationMs: number;
  /** Whether the pipeline run had a breaker (its package may not be in this build). */
  readonly hasBreaker: boolean;
}

const COLORS = { bare: '#c0392b', bulwark: '#2563eb' } as const;
const OUTCOME_COLORS = {
  origin: '#2e8b57',
  cache: '#60a5fa',
  stale: '#f59e0b',
  implausible: '#8e44ad',
  error: '#dc2626',
} as const;

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const colorOf = (index: number): string => (index === 0 ? COLORS.bare : COLORS.bulwark);

function latencyChart(runs: readonly RunResult[]): string {
  const width = 860;
  const height = 300;
  const left = 56;
  const right = 20;
  const top = 20;
  const bottom = 44;
  const all = runs.flatMap((r) => r.records.map((c) => c.latencyMs));
  const maxMs = Math.max(1000, ...all);
  const minLog = 0; // 1 ms
  const maxLog = Math.ceil(Math.log10(maxMs));
  const buckets = 60;
  const x = (logValue: number): number => left + ((logValue - minLog) / (maxLog - minLog)) * (width - left - right);
  const series = runs.map((run) => {
    const counts = new Array<number>(buckets).fill(0);
    for (const record of run.records) {
      const logValue = Math.log10(Math.max(1, record.latencyMs));
      const bucket = Math.min(buckets - 1, Math.floor(((logValue - minLog) / (maxLog - minLog)) * buckets));
      counts[bucket] = (counts[bucket] ?? 0) + 1;
    }
    return counts.map((c) => c / Math.max(1, run.records.length));
  });
  const peak = Math.max(0.01, ...series.flat());
  const y = (share: number): number => top + (1 - share / peak) * (height - top - bottom);
  let body = '';
  for (let decade = minLog; decade <= maxLog; decade++) {
    const label = decade < 3 ? `${10 ** decade} ms` : `${10 ** (decade - 3)} s`;
    body += `<line x1="${x(decade)}" x2="${x(decade)}" y1="${top}" y2="${height - bottom}" class="grid"/>`;
    body += `<text x="${x(decade)}" y="${height - bottom + 16}" text-anchor="middle">${label}</text>`;
  }
  for (let i = 0; i <= 4; i++) {
    const share = (peak * i) / 4;
    body += `<line x1="${left}" x2="${width - right}" y1="${y(share)}" y2="${y(share)}" class="grid"/>`;
    body += `<text x="${left - 6}" y="${y(share) + 4}" text-anchor="end">${(share * 100).toFixed(0)}%</text>`;
  }
  series.forEach((shares, index) => {
    const step = (maxLog - minLog) / buckets;
    let path = `M ${x(minLog)} ${y(0)}`;
    shares.forEach((share, bucket) => {
      path += ` L ${x(minLog + bucket * step)} ${y(share)} L ${x(minLog + (bucket + 1) * step)} ${y(share)}`;
    });
    path += ` L ${x(maxLog)} ${y(0)} Z`;
    const color = colorOf(index);
    body += `<path d="${path}" fill="${color}" fill-opacity="0.25" stroke="${color}" stroke-width="1.5"/>`;
    const sorted = runs[index]?.records.map((r) => r.latencyMs).sort((a, b) => a - b) ?? [];
    (
      [
        ['p50', 0.5],
        ['p95', 0.95],
        ['p99', 0.99],
      ] as const
    ).forEach(([label, q], k) => {
      const value = quantile(sorted, q);
      if (Number.isNaN(value)) return;
      const px = x(Math.log10(Math.max(1, value)));
      body += `<line x1="${px}" x2="${px}" y1="${top}" y2="${height - bottom}" stroke="${color}" stroke-dasharray="4 3"/>`;
      body += `<text x="${px + 3}" y="${top + 12 + k * 12 + index * 38}" fill="${color}">${label} ${ms(value)}</text>`;
    });
  });
  body += `<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle">latency (log scale)</text>`;
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="latency distribution">${body}</svg>`;
}

function outageShades(
  outages: readonly Outage[],
  x: (ms: number) => number,
  top: number,
  bottom: number,
  durationMs: number,
): string {
  return outages
    .filter((o) => o.startMs < durationMs)
    .map((o) => {
      const x1 = x(o.startMs);
      const x2 = x(Math.min(durationMs, o.startMs + o.durationMs));
      return `<rect x="${x1}" y="${top}" width="${x2 - x1}" height="${bottom - top}" fill="#6b7280" fill-opacity="0.15"/><text x="${x1 + 4}" y="${top + 12}" fill="#4b5563">outage (${o.fault.kind})</text>`;
    })
    .join('');
}

function outcomesChart(run: RunResult, index: number, outages: readonly Outage[], durationMs: number): string {
  const width = 860;
  const height = 190;
  const left = 56;
  const right = 20;
  const top = 24;
  const bottom = 36;
  const buckets = 60;
  const bucketMs = durationMs / buckets;
  const stacks = Array.from({ length: buckets }, () => ({ origin: 0, cache: 0, stale: 0, implausible: 0, error: 0 }));
  for (const record of run.records) {
    const stack = stacks[Math.min(buckets - 1, Math.max(0, Math.floor(record.startMs / bucketMs)))];
    if (stack === undefined) continue;
    if (record.outcome !== 'ok') stack.error++;
    else if (record.implausible) stack.implausible++;
    else stack[record.servedBy ?? 'origin']++;
  }
  const peak = Math.max(1, ...stacks.map((s) => s.origin + s.cache + s.stale + s.implausible + s.error));
  const x = (msValue: number): number => left + (msValue / durationMs) * (width - left - right);
  const barWidth = (width - left - right) / buckets;
  const y = (n: number): number => top + (1 - n / peak) * (height - top - bottom);
  let body = outageShades(outages, x, top, height - bottom, durationMs);
  stacks.forEach((stack, bucket) => {
    let base = 0;
    for (const key of ['origin', 'cache', 'stale', 'implausible', 'error'] as const) {
      const n = stack[key];
      if (n === 0) continue;
      body += `<rect x="${x(bucket * bucketMs) + 0.5}" y="${y(base + n)}" width="${barWidth - 1}" height="${y(base) - y(base + n)}" fill="${OUTCOME_COLORS[key]}"/>`;
      base += n;
    }
  });
  for (let i = 0; i <= 5; i++) {
    const t = (durationMs * i) / 5;
    body += `<text x="${x(t)}" y="${height - bottom + 16}" text-anchor="middle">${Math.round(t / 1000)} s</text>`;
  }
  body += `<text x="${left - 6}" y="${y(peak) + 4}" text-anchor="end">${peak}</text><text x="${left - 6}" y="${y(0) + 4}" text-anchor="end">0</text>`;
  body += `<text x="${left}" y="14" font-weight="600" fill="${colorOf(index)}">${escape(run.name)}: calls per ${ms(bucketMs)} by outcome</text>`;
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="outcomes over time, ${escape(run.name)}">${body}</svg>`;
}

function breakerChart(run: RunResult, outages: readonly Outage[], durationMs: number): string {
  const width = 860;
  const height = 90;
  const left = 56;
  const right = 20;
  const top = 24;
  const bottom = 30;
  const x = (msValue: number): number => left + (Math.min(msValue, durationMs) / durationMs) * (width - left - right);
  const colors: Record<string, string> = {
    closed: '#2e8b57',
    open: '#dc2626',
    'half-open': '#f59e0b',
    isolated: '#7f1d1d',
  };
  let body = outageShades(outages, x, top, height - bottom, durationMs);
  let state = 'closed';
  let since = 0;
  const segments: [number, number, string][] = [];
  for (const change of run.breakerChanges) {
    segments.push([since, change.atMs, state]);
    state = change.to;
    since = change.atMs;
  }
  segments.push([since, durationMs, state]);
  for (const [from, to, s] of segments) {
    if (to <= from) continue;
    body += `<rect x="${x(from)}" y="${top + 8}" width="${Math.max(1, x(to) - x(from))}" height="${height - top - bottom - 8}" fill="${colors[s] ?? '#9ca3af'}"><title>${escape(s)} ${ms(from)}–${ms(to)}</title></rect>`;
  }
  for (let i = 0; i <= 5; i++) {
    const t = (durationMs * i) / 5;
    body += `<text x="${x(t)}" y="${height - bottom + 16}" text-anchor="middle">${Math.round(t / 1000)} s</text>`;
  }
  const trips = run.breakerChanges.filter((c) => c.to === 'open').length;
  body += `<text x="${left}" y="14" font-weight="600" fill="${COLORS.bulwark}">${escape(run.name)}: breaker state (${trips} trip${trips === 1 ? '' : 's'}; green closed, red open, amber half-open)</text>`;
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="breaker state over time">${body}</svg>`;
}

export function renderReport(input: ReportInput): string {
  const legend = (
    [
      ['origin', 'answered by the API'],
      ['cache', 'answered from cache'],
      ['stale', 'stale answer served on error'],
      ['implausible', 'answered with an implausible price'],
      ['error', 'failed'],
    ] as const
  )
    .map(([key, label]) => `<span><i style="background:${OUTCOME_COLORS[key]}"></i>${label}</span>`)
    .join('');
  const runLegend = input.runs
    .map((run, i) => `<span><i style="background:${colorOf(i)}"></i>${escape(run.name)}</span>`)
    .join('');
  const table = `<table><thead><tr>${input.header.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${input.table
    .map((row) => `<tr>${row.map((cell) => `<td>${escape(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
  const settings = input.settings.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('');
  const withBreaker = input.runs.filter((run, i) => i > 0 || run.breakerChanges.length > 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(input.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;margin:24px auto;max-width:900px;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}p.sub{color:#4b5563;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #e5e7eb;text-align:right}
td:first-child,th:first-child{text-align:left}thead th{background:#f3f4f6}
table.settings th{text-align:left;font-weight:500;color:#374151}table.settings td{text-align:left}
svg{display:block;margin:6px 0}svg text{font-size:11px;fill:#374151}svg .grid{stroke:#e5e7eb}
.legend span{margin-right:16px;white-space:nowrap}.legend i{display:inline-block;width:10px;height:10px;margin-right:5px;vertical-align:-1px}
footer{color:#6b7280;font-size:12px;margin-top:24px}
</style></head><body>
<h1>${escape(input.title)}</h1><p class="sub">${escape(input.subtitle)}</p>
<h2>Side by side</h2>${table}
<h2>Latency distribution</h2><div class="legend">${runLegend}</div>${latencyChart(input.runs)}
<h2>Outcomes over time</h2><div class="legend">${legend}</div>
${input.runs.map((run, i) => outcomesChart(run, i, input.outages, input.durationMs)).join('\n')}
<h2>Breaker state over time</h2>
${input.hasBreaker ? withBreaker.map((run) => breakerChart(run, input.outages, input.durationMs)).join('\n') : '<p>No breaker in this pipeline: <code>@bulwark/breaker</code> is not in this build.</p>'}
<h2>Settings</h2><table class="settings">${settings}</table>
<footer>Every figure comes from this run's records. Times are simulated milliseconds (see the clock speed above).
Text version:<pre>${escape(renderTable(input.header, input.table))}</pre></footer>
</body></html>
`;
}
