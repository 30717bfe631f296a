import { cache } from '@bulwark/cache';
const quote = { code: 'WTI', usd: 78.12, at: '2026-11-26T12:00:00Z', source: 'oilpriceapi' };
const fetchQuote = async (code: string) => ({ ...quote, code });
const viaPolicy = cache({ key: (code: string) => code }).wrap(fetchQuote);
await viaPolicy('WTI');
for (let i = 0; i < 200_000; i++) await viaPolicy('WTI');
