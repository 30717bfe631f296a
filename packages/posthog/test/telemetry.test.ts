import { afterEach, expect, it } from '@jest/globals';
import { DEFAULT_LOG_LEVELS, jsonLineLogger, jsonLogs, metrics } from '@bulwark/telemetry';
import { startFakePostHog, type FakePostHog } from '@bulwark/testkit/fake-posthog';

import { posthog } from '../src/index.js';

let fake: FakePostHog | undefined;
afterEach(async () => fake?.close());

it('reports requests per part and the driver events to telemetry sinks, keys redacted', async () => {
  fake = await startFakePostHog({ maxEventBytes: 400 });
  const stats = metrics();
  const lines: string[] = [];
  const logs = jsonLogs({
    logger: jsonLineLogger((line) => void lines.push(line)),
    levels: { ...DEFAULT_LOG_LEVELS, dropped: 'warn', 'flush-failed': 'info', flushed: 'debug' },
  });
  const ph = posthog({
    projectApiKey: 'phc_TELEMETRY_secret_key',
    personalApiKey: fake.personalApiKey,
    host: fake.ingestionUrl,
    apiHost: fake.apiUrl,
    flushAt: 1000,
    telemetry: [stats, logs],
  });
  fake.faults.next('ingestion', { kind: 'status', status: 503 });
  ph.capture({ event: 'e', distinctId: 'u' });
  ph.capture({ event: 'big', distinctId: 'u', properties: { pad: 'x'.repeat(500) } });
  await ph.flush(); // 503: back in the queue
  await ph.flush(); // 413, split, the big one dropped
  await ph.listObjects('cohorts');
  await ph.query('select event from events');
  await ph.shutdown();

  const byPolicy = new Map(stats.snapshot().policies.map((p) => [p.policy, p]));
  expect(byPolicy.get('posthog.ingestion')).toMatchObject({ calls: 4, successes: 1, failures: 3 });
  expect(byPolicy.get('posthog.api.crud')).toMatchObject({ calls: 1, successes: 1 });
  expect(byPolicy.get('posthog.api.query')).toMatchObject({ calls: 1, successes: 1 });
  expect(byPolicy.get('posthog')?.events['posthog']).toMatchObject({
    'flush-failed': 1,
    dropped: 1,
    'batch-split': 1,
    flushed: 1,
  });

  const records = lines.map((line) => JSON.parse(line) as { level: string; event?: string; reason?: string });
  expect(records.find((r) => r.event === 'dropped')).toMatchObject({ level: 'warn', reason: 'too-large' });
  expect(lines.join('\n')).not.toContain('TELEMETRY_secret');
  stats.dispose();
});
