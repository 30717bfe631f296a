/**
 * Telemetry for a service like the FastAPI seed: five named breakers (LLM, database, vector DB,
 * crawler, external API) whose states show on `/health`, Prometheus metrics on `/metrics`, JSON logs
 * with request ids and the API key redacted, and the in-process report printed at the end.
 *
 * The breakers are `@bulwark/breaker`'s, in a registry; any policy that implements core's `HealthSource`
 * (a bulkhead, a rate limiter, a cache) can be listed beside them.
 *
 * Run: pnpm --filter @bulwark/examples example src/telemetry-health.ts
 */

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { breakerRegistry, consecutiveFailures } from '@bulwark/breaker';
import { healthHandler, healthReport, instrument, jsonLineLogger, jsonLogs, metrics } from '@bulwark/telemetry';
import { prometheus } from '@bulwark/telemetry/prometheus';
import { Registry } from 'prom-client';

const API_KEY = 'opa_live_example0123456789';
const breakers = breakerRegistry({
  defaults: { strategy: consecutiveFailures(3), halfOpenAfterMs: 60_000 },
  breakers: { llm: {}, database: {}, 'vector-db': {}, crawler: {}, 'external-api': {} },
});
const sources = breakers.sources();
const llm = breakers.get('llm');
const database = breakers.get('database');

// One set of sinks for every policy.
const registry = new Registry();
const stats = metrics({ sources });
const logLines: string[] = [];
const sinks = [
  stats,
  prometheus({ registry, sources }),
  jsonLogs({
    logger: jsonLineLogger((line) => logLines.push(line)),
    redact: { secrets: [API_KEY] },
    fields: { service: 'rag-api' },
  }),
];
const askLlm = instrument(llm, sinks).wrap(async (question: string) => `an answer to ${question}`, {
  correlationId: (question) => `req-${question.length}`,
});
const queryDb = instrument(database, sinks).wrap(async (_sql: string): Promise<string[]> => {
  throw new Error(`connection refused (dsn postgres://app:${API_KEY}@db:5432)`);
});

// The service's own endpoints, served on loopback.
const report = healthReport(sources);
const health = healthHandler(report);
const server = createServer((request, response) => {
  if (request.url === '/health') return health(request, response);
  if (request.url === '/metrics') {
    void registry.metrics().then((text) => {
      response.writeHead(200, { 'content-type': registry.contentType });
      response.end(text);
    });
    return;
  }
  response.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

try {
  assert.equal(await askLlm('what is the Brent price?'), 'an answer to what is the Brent price?');
  assert.equal((await fetch(`${base}/health`)).status, 200);

  // The database fails three times: its breaker opens and the next call is rejected at once.
  for (let i = 0; i < 4; i++) await queryDb('select 1').catch(() => undefined);
  const down = await fetch(`${base}/health`);
  assert.equal(down.status, 503);
  const body = (await down.json()) as {
    status: string;
    components: Record<string, { status: string; details: { state: string } }>;
  };
  assert.equal(body.status, 'unhealthy');
  assert.equal(body.components['database']?.details.state, 'open');
  assert.equal(body.components['llm']?.status, 'healthy');

  const scraped = await (await fetch(`${base}/metrics`)).text();
  assert.match(scraped, /bulwark_calls_total\{policy="database",outcome="failure",error_type="BrokenCircuit"\} 1/);
  assert.match(scraped, /bulwark_breaker_state\{policy="database",breaker="database",state="open"\} 1/);

  const logged = logLines.join('');
  assert.ok(!logged.includes(API_KEY), 'the API key never reaches the logs');
  assert.match(logged, /"correlationId":"[0-9a-f-]{36}"/);

  const [, db] = stats.snapshot().policies;
  assert.deepEqual(db?.failuresByType, { Error: 3, BrokenCircuit: 1 });
  console.log(stats.report());
  console.log(`\nGET /health -> ${down.status} ${JSON.stringify(body.components['database'])}`);
} finally {
  server.close();
  stats.dispose();
}
