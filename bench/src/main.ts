/**
 * Runs the benchmarks: `pnpm bench [--quick] [--json FILE] [--only NAME]`.
 *
 * Prints a Markdown table of every figure and its ratio to the baseline it was measured beside;
 * `--json` also writes the figures to FILE (relative to the directory the command was typed in: pnpm
 * runs this script from `bench/`). `--only` takes a suite's name and may be repeated.
 */

import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { table, type Figure, type Suite } from './harness.js';

// Every module in suites/ exports one or more `Suite`s; adding a file adds its figures.
const suitesDir = new URL('./suites/', import.meta.url);
const suites: Suite[] = [];
for (const file of readdirSync(suitesDir).sort()) {
  if (!file.endsWith('.ts')) continue;
  const module = (await import(new URL(file, suitesDir).href)) as Record<string, unknown>;
  for (const value of Object.values(module)) {
    if (typeof value === 'object' && value !== null && 'run' in value && 'name' in value) suites.push(value as Suite);
  }
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    only: { type: 'string', multiple: true },
  },
});

const quick = values.quick === true;
const unknown = (values.only ?? []).filter((name) => !suites.some((s) => s.name === name));
if (unknown.length > 0) {
  throw new RangeError(`unknown suite ${unknown.join(', ')}; the suites are ${suites.map((s) => s.name).join(', ')}`);
}
const chosen = values.only === undefined ? suites : suites.filter((s) => values.only?.includes(s.name));
const machine = `${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, Node ${process.version}`;
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
const loadBefore = load();
console.log(`Bulwark benchmarks${quick ? ' (quick)' : ''} on ${machine}, load average ${loadBefore}\n`);
const figures: Figure[] = [];
const summaries: string[] = [];
for (const suite of chosen) {
  const started = performance.now();
  process.stdout.write(`running ${suite.name}…`);
  const own = await suite.run({ quick });
  process.stdout.write(` ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  figures.push(...own);
  const summary = suite.summarize?.(own);
  if (summary !== undefined) summaries.push(summary);
}
const loadAfter = load();
console.log(`\n${table(figures)}\n`);
for (const summary of summaries) console.log(`${summary}\n`);
console.log(`load average before ${loadBefore}, after ${loadAfter}`);

// What a reader of the JSON relies on: a unique name, a unit, a baseline that is in the report, a ratio.
const names = new Set<string>();
const problems: string[] = [];
for (const f of figures) {
  if (names.has(f.name)) problems.push(`two figures named "${f.name}"`);
  names.add(f.name);
  if (f.unit === '') problems.push(`"${f.name}" has no unit`);
}
for (const f of figures) {
  if (!names.has(f.baseline)) problems.push(`"${f.name}" names a baseline not in the report: "${f.baseline}"`);
  if (!Number.isFinite(f.value) || !Number.isFinite(f.ratio)) {
    // Not fatal: an allocation figure is NaN when every batch met a garbage collection.
    console.warn(`warning: "${f.name}" is not a finite figure (value ${f.value}, ratio ${f.ratio})`);
  }
}
if (problems.length > 0) throw new Error(`malformed figures:\n${problems.join('\n')}`);

if (values.json !== undefined) {
  const file = resolve(process.env['INIT_CWD'] ?? process.cwd(), values.json);
  const report = {
    machine,
    quick,
    date: new Date().toISOString(),
    loadAverage: { before: loadBefore, after: loadAfter },
    ratio: 'value / baseline value; a baseline names itself and has ratio 1; `better` says which way is better',
    figures,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`figures written to ${file}`);
}
