import { afterEach, describe, expect, it } from '@jest/globals';
import type { HealthSource } from '@bulwark/core';

import { healthHandler, healthReport, worstStatus } from '../src/index.js';
import { breaking } from './fixtures.js';
import { serve, type Loopback } from './http.js';

let server: Loopback | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const FIVE = ['llm', 'database', 'vector-db', 'crawler', 'external-api'];

describe('healthReport', () => {
  it('reports every named source and the worst status', () => {
    const breakers = FIVE.map((name) => breaking(1, name));
    const report = healthReport(breakers, { clock: { now: () => 0 } });
    expect(report.check()).toEqual({
      status: 'healthy',
      checkedAt: '1970-01-01T00:00:00.000Z',
      components: Object.fromEntries(
        FIVE.map((name) => [name, { kind: 'breaker', status: 'healthy', details: { state: 'closed', failures: 0 } }]),
      ),
    });
    const degraded: HealthSource = {
      name: 'limiter',
      kind: 'ratelimit',
      health: () => ({ status: 'degraded', details: { store: 'down' } }),
    };
    const remove = report.add(degraded);
    expect(report.check().status).toBe('degraded');
    remove();
    expect(report.sources.map((s) => s.name)).toEqual(FIVE);
  });

  it('keeps a component named `__proto__` as its own key, as the breaker registry does', () => {
    const report = healthReport([breaking(1, '__proto__'), breaking(1, 'db')]);
    const { components } = report.check();
    expect(Object.keys(components)).toEqual(['__proto__', 'db']);
    expect(Object.getPrototypeOf(components)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(components)) as unknown).toHaveProperty(['__proto__', 'kind'], 'breaker');
  });

  it('reports a source that throws as unhealthy, with its redacted error, instead of throwing', () => {
    const broken: HealthSource = {
      name: 'cache',
      kind: 'cache',
      health: () => {
        throw new Error('cannot reach redis://default:hunter22@cache:6379');
      },
    };
    const [component] = healthReport([broken]).components();
    expect(component).toMatchObject({
      status: 'unhealthy',
      details: { error: { type: 'Error', message: 'cannot reach redis://default:[REDACTED]@cache:6379' } },
    });
  });

  it('orders statuses healthy < degraded < unhealthy', () => {
    expect(worstStatus(['healthy', 'unhealthy', 'degraded'])).toBe('unhealthy');
    expect(worstStatus(['degraded', 'healthy'])).toBe('degraded');
  });

  it('rejects duplicate names and things that are not sources', () => {
    const a = breaking(1, 'a');
    expect(() => healthReport([a, breaking(1, 'a')])).toThrow(/unique names/);
    expect(() => healthReport([{ name: 'x' }] as never)).toThrow(/`sources`/);
    expect(() => healthReport([a]).add(breaking(1, 'a'))).toThrow(/unique name/);
  });
});

describe('healthHandler', () => {
  it('serves the report as JSON over HTTP: 200 while working, 503 once a breaker opens', async () => {
    const breakers = FIVE.map((name) => breaking(1, name));
    server = await serve(healthHandler(healthReport(breakers)));
    let response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(((await response.json()) as { status: string }).status).toBe('healthy');

    const database = breakers[1];
    await database?.execute(async () => Promise.reject(new Error('connection refused'))).catch(() => undefined);
    response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as {
      status: string;
      components: Record<string, { status: string; details: unknown }>;
    };
    expect(body.status).toBe('unhealthy');
    expect(body.components['database']).toEqual({
      kind: 'breaker',
      status: 'unhealthy',
      details: { state: 'open', failures: 1 },
    });
    expect(body.components['llm']?.status).toBe('healthy');

    const head = await fetch(`${server.url}/health`, { method: 'HEAD' });
    expect(head.status).toBe(503);
    expect(await head.text()).toBe('');
    const post = await fetch(`${server.url}/health`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('takes its status codes from options', async () => {
    const degraded: HealthSource = {
      name: 'store',
      kind: 'ratelimit',
      health: () => ({ status: 'degraded', details: {} }),
    };
    server = await serve(healthHandler(healthReport([degraded]), { statusCodes: { degraded: 429 } }));
    expect((await fetch(server.url)).status).toBe(429);
    expect(() => healthHandler(healthReport(), { statusCodes: { unhealthy: 99 } })).toThrow(/`statusCodes.unhealthy`/);
    expect(() => healthHandler({} as never)).toThrow(/`report`/);
    // A code given as undefined takes its default: every answer has a status.
    await server.close();
    server = await serve(healthHandler(healthReport([degraded]), { statusCodes: { degraded: undefined as never } }));
    expect((await fetch(server.url)).status).toBe(200);
  });
});
