import { afterEach, describe, expect, it } from '@jest/globals';
import { noop, pipeline } from '@bulwark/core';
import { VirtualClock } from '@bulwark/testkit';
import { Registry } from 'prom-client';

import { instrument } from '../src/index.js';
import { prometheus } from '../src/prometheus.js';
import { after, breaking, caching, retrying, TimeoutError } from './fixtures.js';
import { serve, type Loopback } from './http.js';

let server: Loopback | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Serves `registry` at /metrics on loopback and scrapes it as Prometheus would. */
async function scrape(registry: Registry): Promise<{ contentType: string | null; text: string }> {
  server ??= await serve((_request, response) => {
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType });
        response.end(text);
      },
      () => {
        response.writeHead(500);
        response.end();
      },
    );
  });
  const response = await fetch(`${server.url}/metrics`);
  return { contentType: response.headers.get('content-type'), text: await response.text() };
}

/** The samples of one metric family, as `name{labels} value` lines. */
const samples = (text: string, name: string): string[] =>
  text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));

describe('prometheus', () => {
  it('exposes calls, durations and events with conventional names, units and labels', async () => {
    const clock = new VirtualClock();
    const registry = new Registry();
    const policy = instrument(pipeline(retrying(1, 100, clock), caching()), [prometheus({ registry })], {
      name: 'oilprice',
      clock,
    });
    await clock.run(policy.execute(after(clock, 30, { value: 1 })));
    await clock.run(policy.execute(after(clock, 2000, { error: new TimeoutError(2000) }))).catch(() => undefined);

    const { contentType, text } = await scrape(registry);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toContain('# TYPE bulwark_calls_total counter');
    expect(samples(text, 'bulwark_calls_total')).toEqual([
      'bulwark_calls_total{policy="oilprice",outcome="success"} 1',
      'bulwark_calls_total{policy="oilprice",outcome="failure",error_type="Timeout"} 1',
    ]);
    expect(text).toContain('# TYPE bulwark_call_duration_seconds histogram');
    expect(samples(text, 'bulwark_call_duration_seconds_bucket')).toContain(
      'bulwark_call_duration_seconds_bucket{le="0.05",policy="oilprice",outcome="success"} 1',
    );
    expect(samples(text, 'bulwark_call_duration_seconds_sum')).toEqual([
      'bulwark_call_duration_seconds_sum{policy="oilprice",outcome="success"} 0.03',
      'bulwark_call_duration_seconds_sum{policy="oilprice",outcome="failure"} 4.1',
    ]);
    expect(samples(text, 'bulwark_policy_events_total')).toEqual([
      'bulwark_policy_events_total{policy="oilprice",source="cache",event="miss"} 3',
      'bulwark_policy_events_total{policy="oilprice",source="retry",event="success"} 1',
      'bulwark_policy_events_total{policy="oilprice",source="retry",event="retry"} 1',
      'bulwark_policy_events_total{policy="oilprice",source="retry",event="give-up"} 1',
    ]);
  });

  it('exposes breaker states from events and the health of sources at scrape time', async () => {
    const registry = new Registry();
    const database = breaking(1, 'database');
    const llm = breaking(1, 'llm');
    const sink = prometheus({ registry, prefix: 'app_', sources: [database, llm] });
    const policy = instrument(database, [sink], { name: 'db' });
    await policy.execute(async () => Promise.reject(new Error('down'))).catch(() => undefined);
    let { text } = await scrape(registry);
    expect(samples(text, 'app_breaker_state')).toEqual([
      'app_breaker_state{policy="db",breaker="database",state="closed"} 0',
      'app_breaker_state{policy="db",breaker="database",state="half-open"} 0',
      'app_breaker_state{policy="db",breaker="database",state="open"} 1',
      'app_breaker_state{policy="db",breaker="database",state="isolated"} 0',
    ]);
    expect(samples(text, 'app_health_status').filter((l) => l.endsWith(' 1'))).toEqual([
      'app_health_status{component="database",kind="breaker",status="unhealthy"} 1',
      'app_health_status{component="llm",kind="breaker",status="healthy"} 1',
    ]);
    expect(samples(text, 'app_health_value')).toEqual([
      'app_health_value{component="database",kind="breaker",field="failures"} 1',
      'app_health_value{component="llm",kind="breaker",field="failures"} 0',
    ]);
    // Read at scrape time: the breaker closing shows at the next scrape.
    database.reset();
    ({ text } = await scrape(registry));
    expect(samples(text, 'app_health_status').filter((l) => l.endsWith(' 1'))[0]).toBe(
      'app_health_status{component="database",kind="breaker",status="healthy"} 1',
    );
    expect(samples(text, 'app_breaker_state').filter((l) => l.endsWith(' 1'))).toEqual([
      'app_breaker_state{policy="db",breaker="database",state="closed"} 1',
    ]);
  });

  it('serves many policies from one sink, refuses a second sink on the same names, and unregisters on dispose', async () => {
    const registry = new Registry();
    const sink = prometheus({ registry });
    await instrument(noop, [sink], { name: 'a' }).execute(async () => 1);
    await instrument(noop, [sink], { name: 'b' }).execute(async () => 1);
    expect(samples((await scrape(registry)).text, 'bulwark_calls_total')).toHaveLength(2);
    expect(() => prometheus({ registry })).toThrow(/bulwark_calls_total is already registered/);
    sink.dispose();
    expect(await registry.metrics()).not.toContain('bulwark_');
    expect(() => prometheus({ registry }).dispose()).not.toThrow();
  });

  it('forgets every series of a policy disposed, and keeps those of a live policy of the same name', async () => {
    const registry = new Registry();
    const sink = prometheus({ registry });
    // One instrumented client per tenant, disposed when the tenant goes away.
    for (let i = 0; i < 20; i++) {
      const tenant = instrument(breaking(1, `breaker-${i}`), [sink], { name: `tenant-${i}` });
      await tenant.execute(async () => 1);
      await tenant.execute(async () => Promise.reject(new Error('down'))).catch(() => undefined);
      tenant.dispose();
    }
    const first = instrument(noop, [sink], { name: 'api' });
    const second = instrument(breaking(1), [sink], { name: 'api' });
    await first.execute(async () => 1);
    await second.execute(async () => Promise.reject(new Error('down'))).catch(() => undefined);
    first.dispose();
    let { text } = await scrape(registry);
    const lines = (prefix: string): string[] => text.split('\n').filter((line) => line.startsWith(prefix));
    expect(lines('bulwark_').filter((line) => line.includes('tenant-'))).toEqual([]);
    expect(lines('bulwark_call_duration_seconds_count')).toEqual([
      'bulwark_call_duration_seconds_count{policy="api",outcome="success"} 1',
      'bulwark_call_duration_seconds_count{policy="api",outcome="failure"} 1',
    ]);
    expect(lines('bulwark_breaker_state').filter((line) => line.endsWith(' 1'))).toEqual([
      'bulwark_breaker_state{policy="api",breaker="breaker",state="open"} 1',
    ]);
    second.dispose();
    ({ text } = await scrape(registry));
    expect(lines('bulwark_').filter((line) => line.includes('policy='))).toEqual([]);
  });

  it('rejects bad options, naming them', () => {
    expect(() => prometheus({ registry: {} as never })).toThrow(/`registry`/);
    expect(() => prometheus({ registry: new Registry(), prefix: 'bad-prefix' })).toThrow(/`prefix`/);
    expect(() => prometheus({ registry: new Registry(), buckets: [] })).toThrow(/`buckets`/);
    expect(() => prometheus({ registry: new Registry(), maxErrorTypes: -1 })).toThrow(/`maxErrorTypes`/);
  });
});
