/**
 * The FastAPI seed's five named breakers in a registry, and the health report a `/health` endpoint
 * would serve: the database has tripped, the LLM is isolated by hand, the rest are healthy.
 *
 * Run: pnpm --filter @bulwark/examples example src/breaker-health.ts
 */

import assert from 'node:assert/strict';

import { breakerRegistry, consecutiveFailures, countWindow } from '@bulwark/breaker';
import { VirtualClock } from '@bulwark/testkit';

const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
const breakers = breakerRegistry({
  defaults: { clock, strategy: consecutiveFailures(5), halfOpenAfterMs: 60_000 },
  breakers: {
    llm: { slowCallMs: 20_000 },
    database: {},
    'vector-db': {},
    crawler: { strategy: countWindow({ size: 50, minimumCalls: 10 }) },
    'external-api': { probes: 3 },
  },
});

const database = breakers.get('database');
for (let i = 0; i < 5; i++) {
  await database.execute(() => Promise.reject(new Error('connection refused'))).catch(() => undefined);
}
await clock.advance(19_000);
const release = breakers.get('llm').isolate(); // e.g. while the model is being swapped

const report = breakers.health();
console.log(JSON.stringify(report, null, 2));
assert.equal(report.status, 'degraded');
assert.deepEqual(report.breakers['database'], {
  status: 'unhealthy',
  details: { state: 'open', retryAfterMs: 41_000, openings: 1 },
});
assert.equal(report.breakers['llm']?.status, 'unhealthy');
assert.equal(report.breakers['crawler']?.status, 'healthy');

release();
breakers.get('database').reset();
assert.equal(breakers.health().status, 'healthy');
