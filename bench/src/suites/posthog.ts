/**
 * Delivering events to PostHog: @bulwark/posthog against posthog-node, both sending gzipped batches of
 * 100 to the fake PostHog over loopback, timed from the first capture until `shutdown()` has delivered
 * the last event. Alternating rounds, median per driver; the figure is microseconds per delivered event.
 */

import { performance } from 'node:perf_hooks';

import { posthog } from '@bulwark/posthog';
import { startFakePostHog, type FakePostHog } from '@bulwark/testkit/fake-posthog';
import { PostHog as PostHogNode } from 'posthog-node';

import { median, relativeTo, type Suite } from '../harness.js';

async function bulwark(fake: FakePostHog, events: number): Promise<number> {
  const before = fake.received.unique;
  const started = performance.now();
  const ph = posthog({
    projectApiKey: 'phc_bench',
    host: fake.ingestionUrl,
    flushAt: 100,
    maxBatchSize: 100,
    maxQueueSize: events,
  });
  for (let i = 0; i < events; i++)
    ph.capture({ event: 'bench', distinctId: `user-${i % 100}`, properties: { i, plan: 'pro' } });
  await ph.shutdown();
  const elapsed = performance.now() - started;
  if (fake.received.unique - before !== events)
    throw new Error(`bulwark delivered ${fake.received.unique - before} of ${events}`);
  return (elapsed * 1000) / events;
}

async function posthogNode(fake: FakePostHog, events: number): Promise<number> {
  const before = fake.received.unique;
  const started = performance.now();
  const client = new PostHogNode('phc_bench', {
    host: fake.ingestionUrl,
    flushAt: 100,
    maxBatchSize: 100,
    maxQueueSize: events,
    flushInterval: 10_000,
  });
  for (let i = 0; i < events; i++)
    client.capture({ event: 'bench', distinctId: `user-${i % 100}`, properties: { i, plan: 'pro' } });
  await client.shutdown(60_000);
  const elapsed = performance.now() - started;
  if (fake.received.unique - before !== events)
    throw new Error(`posthog-node delivered ${fake.received.unique - before} of ${events}`);
  return (elapsed * 1000) / events;
}

export const posthogSuite: Suite = {
  name: 'posthog',
  run: async (ctx) => {
    const events = ctx.quick ? 2000 : 20_000;
    const rounds = ctx.quick ? 1 : 5;
    const fake = await startFakePostHog();
    try {
      // One uncounted round of each first.
      if (!ctx.quick) {
        await posthogNode(fake, 2000);
        await bulwark(fake, 2000);
      }
      const node: number[] = [];
      const ours: number[] = [];
      for (let round = 0; round < rounds; round++) {
        node.push(await posthogNode(fake, events));
        ours.push(await bulwark(fake, events));
      }
      return relativeTo(
        'posthog',
        { name: `posthog-node ${events} events to /batch/`, value: median(node) },
        [{ name: `@bulwark/posthog ${events} events to /batch/`, value: median(ours) }],
        'µs/event',
      );
    } finally {
      await fake.close();
    }
  },
};
