/**
 * The PostHog driver against the fake PostHog from @bulwark/testkit: capture events through faults,
 * shut down without losing any, then read them back with HogQL and list feature flags.
 *
 * Run: pnpm --filter @bulwark/examples example src/posthog-capture-and-query.ts
 */

import assert from 'node:assert/strict';

import { posthog, type CapturedEvent } from '@bulwark/posthog';
import { startFakePostHog } from '@bulwark/testkit/fake-posthog';

const fake = await startFakePostHog({ entities: { feature_flags: 130 } });
// One ingestion request in five fails: 503, a reset, or a 429 asking to wait a second.
fake.faults.random('ingestion', 0.2, [
  { kind: 'status', status: 503 },
  { kind: 'reset' },
  { kind: 'status', status: 429, retryAfterS: 1 },
]);

const ph = posthog({
  projectApiKey: 'phc_example_project_key',
  personalApiKey: fake.personalApiKey,
  host: fake.ingestionUrl,
  apiHost: fake.apiUrl,
  flushAt: 50,
  flushIntervalMs: 100,
});

const dropped: CapturedEvent[] = [];
ph.onEvent((event) => {
  if (event.type === 'dropped') dropped.push(...event.events);
});

for (let i = 0; i < 500; i++) {
  ph.capture({ event: i % 5 === 0 ? 'order placed' : '$pageview', distinctId: `user-${i % 20}`, properties: { i } });
}
ph.identify('user-1', { email: 'one@example.com', plan: 'pro' });

const result = await ph.shutdown(30_000);
console.log(
  `shutdown: ${JSON.stringify(result)}; the fake received ${fake.received.unique} events (${fake.received.duplicates} duplicates)`,
);
assert.equal(fake.received.unique + dropped.length, 501);
assert.equal(dropped.length, 0);

// The private API: HogQL over what was captured, and every feature flag across two pages.
const reader = posthog({ personalApiKey: fake.personalApiKey, apiHost: fake.apiUrl });
const counts = await reader.query('select event, count() from events group by event order by count() desc');
console.table(counts.results);
assert.deepEqual(counts.columns, ['event', 'count()']);
assert.deepEqual(counts.results, [
  ['$pageview', 400],
  ['order placed', 100],
  ['$identify', 1],
]);

const flags = await reader.listObjects('feature_flags');
assert.equal(flags.length, 130);
const fields = await reader.getFields('events');
assert.ok(fields.some((field) => field.name === 'properties.i' && field.type === 'Numeric'));

await fake.close();
