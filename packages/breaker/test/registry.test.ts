import { describe, expect, it } from '@jest/globals';
import { breakerRegistry, consecutiveFailures, countWindow, type Breaker } from '@bulwark/breaker';
import { VirtualClock } from '@bulwark/testkit';
import { expectTypeOf } from 'expect-type';

const boom = (): Promise<never> => Promise.reject(new Error('boom'));

/** The FastAPI seed's five breakers. */
function seedRegistry(clock: VirtualClock) {
  return breakerRegistry({
    defaults: { clock, strategy: consecutiveFailures(5), halfOpenAfterMs: 60_000 },
    breakers: {
      llm: { slowCallMs: 20_000 },
      database: { strategy: consecutiveFailures(3) },
      'vector-db': {},
      crawler: { strategy: countWindow({ size: 20, minimumCalls: 10 }) },
      'external-api': { probes: 3 },
    },
  });
}

describe('breakerRegistry', () => {
  it('makes the named breakers, with the defaults under each one’s own options', async () => {
    const clock = new VirtualClock();
    const registry = seedRegistry(clock);
    expect(registry.names).toEqual(['llm', 'database', 'vector-db', 'crawler', 'external-api']);
    const database = registry.get('database');
    expect(database.name).toBe('database');
    for (let i = 0; i < 3; i++) await clock.run(database.execute(boom)).catch(() => undefined);
    expect(database.state).toBe('open');
    expect([...registry].map((b) => b.name)).toEqual(registry.names);
    expectTypeOf(registry.get)
      .parameter(0)
      .toEqualTypeOf<'llm' | 'database' | 'vector-db' | 'crawler' | 'external-api'>();
  });

  it('refuses unknown and duplicate names', () => {
    const registry = seedRegistry(new VirtualClock());
    expect(() => registry.get('databse' as never)).toThrow(RangeError);
    expect(() => registry.get('databse' as never)).toThrow(/one of the registry's breakers \(llm, database/);
    expect(() => registry.add('llm')).toThrow(/`name` to be a name not yet in the registry/);
    const added: Breaker = registry.add('search', { strategy: consecutiveFailures(1) });
    expect(registry.has('search')).toBe(true);
    expect(added.name).toBe('search');
    expect(() => breakerRegistry({ breakers: { '': {} } })).toThrow(/`breakers`/);
    // A bad option of one breaker is named by where it was given.
    expect(() => breakerRegistry({ breakers: { bad: { probes: 0 } } })).toThrow(/`breakers\.bad\.probes`/);
    expect(() => breakerRegistry({ defaults: { halfOpenAfterMs: -1 }, breakers: { bad: {} } })).toThrow(
      /`defaults\.halfOpenAfterMs`/,
    );
  });

  it('reports every breaker’s health and the service’s, as JSON', async () => {
    const clock = new VirtualClock();
    const registry = seedRegistry(clock);
    expect(registry.health().status).toBe('healthy');
    for (let i = 0; i < 3; i++) await clock.run(registry.get('database').execute(boom)).catch(() => undefined);
    registry.get('llm').isolate();
    const report = registry.health();
    expect(report.status).toBe('degraded');
    expect(report.breakers['database']).toEqual({
      status: 'unhealthy',
      details: { state: 'open', retryAfterMs: 60_000, openings: 1 },
    });
    expect(report.breakers['llm']?.details['state']).toBe('isolated');
    expect(report.breakers['crawler']).toEqual({
      status: 'healthy',
      details: { state: 'closed', calls: 0, failures: 0, slowCalls: 0 },
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    for (const b of registry) b.isolate();
    expect(registry.health().status).toBe('unhealthy');
    expect(registry.sources().map((s) => [s.name, s.kind, s.health().status])).toContainEqual([
      'crawler',
      'breaker',
      'unhealthy',
    ]);
  });

  it('holds a breaker named `__proto__` like any other, in its health report and snapshots', () => {
    const registry = breakerRegistry({ breakers: JSON.parse('{ "__proto__": {}, "db": {} }') as { db: object } });
    expect(registry.names).toEqual(['__proto__', 'db']);
    registry.get('__proto__' as never).isolate();
    const report = registry.health();
    expect(Object.keys(report.breakers)).toEqual(['__proto__', 'db']);
    expect(Object.getPrototypeOf(report.breakers)).toBe(Object.prototype);
    expect(report.breakers['__proto__']?.details['state']).toBe('isolated');
    const saved = JSON.parse(JSON.stringify(registry.snapshot())) as ReturnType<typeof registry.snapshot>;
    expect(Object.keys(saved)).toEqual(['__proto__', 'db']);
    const restarted = breakerRegistry({ initial: saved });
    expect(restarted.add('__proto__').state).toBe('isolated');
  });

  it('snapshots every breaker, and a new registry starts from the snapshots', async () => {
    const clock = new VirtualClock();
    const registry = seedRegistry(clock);
    for (let i = 0; i < 3; i++) await clock.run(registry.get('database').execute(boom)).catch(() => undefined);
    const saved = JSON.parse(JSON.stringify(registry.snapshot())) as ReturnType<typeof registry.snapshot>;
    const restarted = breakerRegistry({
      defaults: { clock },
      initial: saved,
      breakers: { database: { strategy: consecutiveFailures(3) }, llm: {} },
    });
    expect(restarted.get('database').state).toBe('open');
    expect(restarted.get('llm').state).toBe('closed');
    registry.dispose();
    restarted.dispose();
  });
});
