import { definePolicy, noop, PASS } from '@bulwark/core';
import { breaker, consecutiveFailures, timeWindow } from '@bulwark/breaker';
import { measure } from 'mitata';

const bare = async (): Promise<number> => 1;
const trivial = definePolicy('t', [{ gate: { enter: () => 0, exit: () => PASS } }]);
const b = breaker({ strategy: consecutiveFailures(5) });
const t = breaker({ strategy: timeWindow({ windowMs: 10_000 }) });
const cases: [string, () => unknown][] = [
  ['bare', bare],
  ['noop', () => noop.execute(bare)],
  ['trivial gate', () => trivial.execute(bare)],
  ['breaker', () => b.execute(bare)],
  ['time', () => t.execute(bare)],
];
const res: Record<string, number[]> = {};
for (let round = 0; round < 7; round++) {
  for (const [name, run] of cases) {
    const s = await measure(async () => { await run(); }, { min_cpu_time: 300e6, warmup_samples: 8, min_samples: 24 });
    (res[name] ??= []).push(s.p50);
  }
}
const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1] as number;
const base = med(res['bare'] as number[]);
for (const [name, v] of Object.entries(res)) console.log(name.padEnd(14), med(v).toFixed(0), (med(v) / base).toFixed(2) + 'x', '|', v.map((x) => x.toFixed(0)).join(' '));
