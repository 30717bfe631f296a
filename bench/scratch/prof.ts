import { cache } from '@bulwark/cache';
import { noop } from '@bulwark/core';
import { Keyv } from 'keyv';
const quote = { code: 'WTI', usd: 78.12, at: '2026-11-26T12:00:00Z', source: 'oilpriceapi' };
const fetchQuote = async (code: string) => ({ ...quote, code });
const raw = new Keyv(); await raw.set('WTI', quote);
const viaPolicy = cache({ key: (code: string) => code }).wrap(fetchQuote);
await viaPolicy('WTI');
const viaL1 = cache({ key: (code: string) => code, l1: { ttlMs: Infinity } }).wrap(fetchQuote);
await viaL1('WTI');
const map = new Map([['WTI', quote]]);
const noopWrapped = noop.wrap(fetchQuote);
async function time(name: string, f: () => unknown, n = 200_000) {
  for (let i = 0; i < n / 10; i++) await f();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await f();
  console.log(name.padEnd(20), (Number(process.hrtime.bigint() - t) / n).toFixed(0), 'ns');
}
for (let r = 0; r < 2; r++) {
await time('map', () => map.get('WTI'));
await time('noop.wrap', () => noopWrapped('WTI'));
await time('l1 hit', () => viaL1('WTI'));
await time('keyv.get', () => raw.get('WTI'), 50_000);
await time('policy hit', () => viaPolicy('WTI'), 50_000);
}
