/** Figures of one run, computed from its records, and the side-by-side table printed at the end. */
import { type CallRecord, type Outcome, type RunResult } from './workload.js';

export interface Summary {
  readonly name: string;
  readonly calls: number;
  readonly ok: number;
  /** Successful answers whose prices are believable. */
  readonly correct: number;
  readonly implausibleServed: number;
  readonly errors: ReadonlyMap<Outcome, number>;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly originRequests: number;
  readonly fromCache: number;
  readonly staleServed: number;
  readonly retries: number;
  readonly breakerTrips: number;
}

/** The value at quantile `q` of sorted `values` (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarise(run: RunResult): Summary {
  const latencies = run.records.map((r) => r.latencyMs).sort((a, b) => a - b);
  const errors = new Map<Outcome, number>();
  let ok = 0;
  let implausibleServed = 0;
  let fromCache = 0;
  let staleServed = 0;
  for (const record of run.records as CallRecord[]) {
    if (record.outcome === 'ok') {
      ok++;
      if (record.implausible) implausibleServed++;
      if (record.servedBy === 'cache') fromCache++;
      if (record.servedBy === 'stale') staleServed++;
    } else errors.set(record.outcome, (errors.get(record.outcome) ?? 0) + 1);
  }
  return {
    name: run.name,
    calls: run.records.length,
    ok,
    correct: ok - implausibleServed,
    implausibleServed,
    errors,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    originRequests: run.originRequests,
    fromCache,
    staleServed,
    retries: run.retries,
    breakerTrips: run.breakerChanges.filter((c) => c.to === 'open').length,
  };
}

const pct = (n: number, of: number): string => (of === 0 ? '-' : `${((100 * n) / of).toFixed(1)} %`);
export const ms = (value: number): string =>
  Number.isNaN(value) ? '-' : value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;

export const OUTCOME_LABELS: Readonly<Record<Outcome, string>> = {
  ok: 'ok',
  network: 'network (reset, refused)',
  'server-5xx': 'server 5xx (incl. 502 HTML)',
  'rate-limited': 'rate limited 429',
  'quota-exhausted': 'quota exhausted',
  'client-4xx': 'client 4xx (bad code)',
  'bad-response': 'unusable body (cut-off JSON, wrong types)',
  timeout: 'timed out (15 s)',
  'breaker-open': 'failed fast: breaker open',
  'bulkhead-full': 'failed fast: bulkhead full',
  'cache-expired': 'stale entry too old',
  'implausible-rejected': 'implausible price rejected',
  other: 'other',
};

/** The rows of the side-by-side table: label and one cell per run. */
export function tableRows(summaries: readonly Summary[]): [string, ...string[]][] {
  const rows: [string, ...string[]][] = [];
  const row = (label: string, cell: (s: Summary) => string): void => {
    rows.push([label, ...summaries.map(cell)]);
  };
  row('calls', (s) => String(s.calls));
  row('answered', (s) => `${s.ok} (${pct(s.ok, s.calls)})`);
  row('answered with believable prices', (s) => `${s.correct} (${pct(s.correct, s.calls)})`);
  row('answered with implausible prices', (s) => String(s.implausibleServed));
  const kinds = new Set<Outcome>();
  for (const s of summaries) for (const kind of s.errors.keys()) kinds.add(kind);
  for (const kind of [...kinds].sort()) row(`error: ${OUTCOME_LABELS[kind]}`, (s) => String(s.errors.get(kind) ?? 0));
  row('latency p50', (s) => ms(s.p50));
  row('latency p95', (s) => ms(s.p95));
  row('latency p99', (s) => ms(s.p99));
  row('latency max', (s) => ms(s.max));
  row('requests sent to the API', (s) => String(s.originRequests));
  row('origin calls saved by cache', (s) => String(s.fromCache));
  row('stale answers served', (s) => String(s.staleServed));
  row('retries', (s) => String(s.retries));
  row('breaker trips', (s) => String(s.breakerTrips));
  return rows;
}

/** The table as text, columns padded. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('   ');
  const rule = widths.map((w) => '─'.repeat(w)).join('───');
  return [line(header), rule, ...rows.map(line)].join('\n');
}
