import KeyvRedis, { createClient } from '@keyv/redis';
import { cache } from '@bulwark/cache';
import { startPrivateRedis } from '@bulwark/testkit';

const redis = await startPrivateRedis();
const mode = process.argv[2];
const adapter = mode === 'fast'
  ? new KeyvRedis(createClient({ url: redis.url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 100, connectTimeout: 500 } }))
  : new KeyvRedis(redis.url);
let calls = 0;
const c = cache({ store: adapter, namespace: 'probe', ttlMs: 1000, storeTimeoutMs: 200 });
c.onEvent((e) => { if (e.type !== 'miss' && e.type !== 'hit') console.log('  event', e.type, (e as any).operation, String((e as any).error?.message ?? (e as any).error).slice(0, 90)); else console.log('  event', e.type); });
const f = c.wrap(async (k: string) => { calls++; return { k, calls }; });
const t = () => { const s = Date.now(); return () => Date.now() - s; };
let el = t(); console.log(await f('a'), el());
el = t(); console.log(await f('a'), el());
await redis.stop();
console.log('--- stopped');
for (let i = 0; i < 3; i++) { el = t(); console.log(await f('a'), el()); }
await redis.start();
console.log('--- started');
await new Promise((r) => setTimeout(r, 700));
for (let i = 0; i < 3; i++) { el = t(); console.log(await f('b'), el()); }
console.log(c.health());
await adapter.disconnect();
await redis.stop();
