/**
 * The metrics table for people: one row per policy with its calls, outcomes, decisions and latency
 * percentiles, the failure types and breaker states under it, then the components' health.
 *
 * A pure function of a snapshot, so the same figures always render the same text.
 *
 * @module
 */

import type { Json } from '@bulwark/core';

import type { MetricsSnapshot } from './metrics.js';

/**
 * Formats a duration in milliseconds for people: `850µs`, `12.3ms`, `1.25s`, `2m05s`.
 *
 * @example
 * ```ts
 * assert.equal(formatDuration(0.85), '850µs');
 * assert.equal(formatDuration(12.34), '12.3ms');
 * assert.equal(formatDuration(1250), '1.25s');
 * ```
 *
 * @since 0.1.0
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0';
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 1000) return `${ms < 100 ? ms.toFixed(1) : Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes}m${String(seconds).padStart(2, '0')}s`;
}

const count = (n: number): string => n.toLocaleString('en-US');

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: ReadonlySet<number>,
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

const detail = (value: Json): string =>
  typeof value === 'string'
    ? value
    : typeof value === 'object' && value !== null
      ? JSON.stringify(value)
      : String(value);

/**
 * Renders a metrics snapshot as a plain-text table.
 *
 * @example
 * ```ts
 * const text = renderReport({ elapsedMs: 1000, policies: [], components: [] });
 * assert.ok(text.includes('no instrumented policy'));
 * ```
 *
 * @since 0.1.0
 */
export function renderReport(snapshot: MetricsSnapshot): string {
  const out: string[] = [`Bulwark metrics over ${formatDuration(snapshot.elapsedMs)}`, ''];
  if (snapshot.policies.length === 0) out.push('(no instrumented policy)');
  else {
    const header = [
      'policy',
      'calls',
      'ok',
      'failed',
      'retries',
      'rejected',
      'timeouts',
      'cache h/m/s',
      'p50',
      'p95',
      'p99',
      'max',
    ];
    const rows = snapshot.policies.map((p) => [
      p.policy,
      count(p.calls),
      count(p.successes),
      count(p.failures),
      count(p.retries),
      count(p.rejections),
      count(p.timeouts),
      `${count(p.cache.hits)}/${count(p.cache.misses)}/${count(p.cache.stale)}`,
      formatDuration(p.latency.p50Ms),
      formatDuration(p.latency.p95Ms),
      formatDuration(p.latency.p99Ms),
      formatDuration(p.latency.maxMs),
    ]);
    out.push(...table(header, rows, new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])));
    const notes: string[] = [];
    for (const p of snapshot.policies) {
      const failures = Object.entries(p.failuresByType).sort((a, b) => b[1] - a[1]);
      if (failures.length > 0) {
        notes.push(`${p.policy} failures: ${failures.map(([type, n]) => `${type} ${count(n)}`).join(', ')}`);
      }
      const breakers = Object.entries(p.breakers);
      if (breakers.length > 0) {
        notes.push(`${p.policy} breakers: ${breakers.map(([name, state]) => `${name} ${state}`).join(', ')}`);
      }
    }
    if (notes.length > 0) out.push('', ...notes);
  }
  if (snapshot.components.length > 0) {
    const rows = snapshot.components.map((c) => [
      c.name,
      c.kind,
      c.status,
      Object.entries(c.details)
        .map(([key, value]) => `${key}=${detail(value)}`)
        .join(' '),
    ]);
    out.push('', ...table(['component', 'kind', 'status', 'details'], rows, new Set()));
  }
  return out.join('\n');
}
