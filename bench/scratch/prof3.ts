import { cache } from '@bulwark/cache';
const quote = { code: 'WTI', usd: 78.12, at: '2026-11-26T12:00:00Z', source: 'oilpriceapi' };
const fetchQuote = async (code: string) => ({ ...quote, code });
const viaL1 = cache({ key: (code: string) => code, l1: { ttlMs: Infinity } }).wrap(fetchQuote);
await viaL1('WTI');
for (let i = 0; i < 3_000_000; i++) await viaL1('WTI');
