// A driver against a fresh fake PostHog for each test, and closing both after it.
import { runWithIo, type VirtualClock } from '@bulwark/testkit';
import { startFakePostHog, type FakePostHog } from '@bulwark/testkit/fake-posthog';

import { posthog, type CaptureEvent, type PostHog } from '../src/index.js';

/** The project key of a driver made by {@link driverAgainstFake}, unless its options give one. */
export const PROJECT_KEY = 'phc_test_project_key';

let fake: FakePostHog | undefined;
let driver: PostHog | undefined;

/** Shuts the test's driver down and closes its fake: a test file's `afterEach(closeDriver)`. */
export async function closeDriver(): Promise<void> {
  await driver?.shutdown(0);
  await fake?.close();
  driver = undefined;
  fake = undefined;
}

/**
 * A fake with `fakeOptions` and a driver of both its hosts (with its first personal key, and a project
 * key of its own unless `options` gives one), recording the driver's events.
 */
export async function driverAgainstFake(
  fakeOptions: Parameters<typeof startFakePostHog>[0] = {},
  options: Parameters<typeof posthog>[0] = {},
): Promise<{ fake: FakePostHog; ph: PostHog; events: CaptureEvent[] }> {
  fake = await startFakePostHog(fakeOptions);
  driver = posthog({
    projectApiKey: PROJECT_KEY,
    personalApiKey: fake.personalApiKeys[0] as string,
    host: fake.ingestionUrl,
    apiHost: fake.apiUrl,
    ...options,
  });
  const events: CaptureEvent[] = [];
  driver.onEvent((event) => events.push(event));
  return { fake, ph: driver, events };
}

/**
 * Settles a call of the test's driver that talks to the fake over real sockets and waits on the
 * virtual clock in between: the clock moves only while every request in flight waits on the fake's clock.
 */
export const drive = <A>(clock: VirtualClock, call: Promise<A>): Promise<A> =>
  runWithIo(call, clock, () => driver?.stats.activeRequests === fake?.sleeping);
