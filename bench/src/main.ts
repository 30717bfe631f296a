/**
 * Runs the benchmarks: `pnpm bench [--quick] [--json FILE] [--only NAME]`.
 *
 * Prints a Markdown table of every figure and its ratio to the baseline it was measured beside;
 * `--json` also writes the figures to FILE.
 */

import { readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
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
const chosen = values.only === undefined ? suites : suites.filter((s) => values.only?.includes(s.name));
const figures: Figure[] = [];
const machine = `${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, Node ${process.version}`;
console.log(`Bulwark benchmarks${quick ? ' (quick)' : ''} on ${machine}\n`);
for (const suite of chosen) {
  process.stdout.write(`running ${suite.name}…\n`);
  figures.push(...(await suite.run({ quick })));
}
console.log(`\n${table(figures)}\n`);
if (values.json !== undefined) {
  writeFileSync(
    values.json,
    `${JSON.stringify({ machine, quick, date: new Date().toISOString(), figures }, null, 2)}\n`,
  );
  console.log(`figures written to ${values.json}`);
}
