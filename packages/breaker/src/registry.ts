/**
 * A named registry of breakers and their health report: the FastAPI seed's five breakers (llm,
 * database, vector-db, crawler, external-api) on one `/health` endpoint.
 *
 * @module
 */

import { type Health, type HealthSource, type HealthStatus } from '@bulwark/core';
import { optionChecker } from '@bulwark/core/options';

import { breaker, type Breaker, type BreakerOptions, type BreakerSnapshot } from './breaker.js';

const check = optionChecker('@bulwark/breaker');

/**
 * Options of one breaker in a registry: a breaker's options without its name (the key is the name).
 *
 * @category models
 * @since 0.1.0
 */
export type RegistryBreakerOptions = Omit<BreakerOptions, 'name'>;

/**
 * Options of {@link breakerRegistry}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RegistryOptions<N extends string> {
  /** What every breaker of the registry starts from; each breaker's own options win. @default {} */
  readonly defaults?: Omit<RegistryBreakerOptions, 'initial'>;
  /** The breakers to make now, by name. @default {} */
  readonly breakers?: { readonly [K in N]: RegistryBreakerOptions };
  /** Snapshots from `registry.snapshot()`, by name: each breaker made later starts from its own. @default {} */
  readonly initial?: { readonly [name: string]: BreakerSnapshot };
}

/**
 * The health of every breaker of a registry, ready to serve as JSON.
 *
 * @category models
 * @since 0.1.0
 */
export interface HealthReport {
  /**
   * `healthy` when every breaker is; `unhealthy` when every breaker refuses calls (nothing this
   * service depends on works); `degraded` otherwise. An open breaker is the breaker doing its job,
   * so one alone does not make the service unhealthy (and a liveness probe should not restart it).
   */
  readonly status: HealthStatus;
  readonly breakers: { readonly [name: string]: Health };
}

/**
 * Breakers by name, and their health.
 *
 * @category models
 * @since 0.1.0
 */
export interface BreakerRegistry<N extends string = string> extends Iterable<Breaker> {
  /** The breaker named `name`. @throws RangeError for a name the registry does not hold (a typo must not make a new breaker). */
  get(name: N): Breaker;
  /** Makes and holds a breaker named `name`. @throws RangeError when the name is taken. */
  add(name: string, options?: RegistryBreakerOptions): Breaker;
  has(name: string): boolean;
  /** The names, in the order the breakers were made. */
  readonly names: readonly string[];
  /** Every breaker's health, and the service's. */
  health(): HealthReport;
  /** The breakers as health sources, for a health report that lists other components too. */
  sources(): readonly HealthSource[];
  /** Every breaker's snapshot, by name: give it to `initial` to start a registry from it. */
  snapshot(): { [name: string]: BreakerSnapshot };
  /** Disposes every breaker (stops their sharing through a store). */
  dispose(): void;
}

/**
 * A breaker's option error, renamed by where the option was given (`breakers.db.probes`,
 * `defaults.halfOpenAfterMs`): a registry holds several breakers, and `probes` alone does not say whose.
 */
function located(error: unknown, sources: Readonly<Record<string, object>>): unknown {
  if (!(error instanceof TypeError || error instanceof RangeError)) return error;
  const option = /`([A-Za-z]+)`/.exec(error.message)?.[1];
  if (option === undefined) return error;
  const source = Object.keys(sources).find((key) => Object.hasOwn(sources[key] as object, option));
  if (source === undefined) return error;
  const path = source.startsWith('initial.') ? source : `${source}.${option}`;
  const Kind = error instanceof RangeError ? RangeError : TypeError;
  return new Kind(error.message.replace(`\`${option}\``, `\`${path}\``), { cause: error });
}

/**
 * One value per breaker, keyed by its name. Keys are defined, not assigned: assigning to `__proto__`
 * would set the object's prototype, and the breaker named so would be missing.
 */
function byName<V>(held: ReadonlyMap<string, Breaker>, value: (b: Breaker) => V): { [name: string]: V } {
  const all: { [name: string]: V } = {};
  for (const [name, b] of held) {
    Object.defineProperty(all, name, { value: value(b), enumerable: true, writable: true, configurable: true });
  }
  return all;
}

/**
 * Makes a registry of named breakers.
 *
 * @throws TypeError or RangeError naming the option, for a bad option of the registry or of a breaker.
 * @example
 * ```ts
 * const breakers = breakerRegistry({
 *   defaults: { strategy: consecutiveFailures(5), halfOpenAfterMs: 60_000 },
 *   breakers: {
 *     llm: { slowCallMs: 20_000 },
 *     database: {},
 *     'vector-db': {},
 *     crawler: { strategy: countWindow({ size: 50, failureRate: 0.5 }) },
 *     'external-api': { probes: 3 },
 *   },
 * });
 * breakers.get('database').isolate();
 * const report = breakers.health();
 * assert.equal(report.status, 'degraded');
 * assert.equal(report.breakers['database']?.status, 'unhealthy');
 * assert.equal(report.breakers['llm']?.status, 'healthy');
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function breakerRegistry<N extends string = string>(options: RegistryOptions<N> = {}): BreakerRegistry<N> {
  check.object('options', options);
  const defaults = check.object('defaults', options.defaults) as RegistryBreakerOptions;
  const initial = check.object('initial', options.initial) as { readonly [name: string]: BreakerSnapshot };
  const held = new Map<string, Breaker>();

  const add = (name: string, own: RegistryBreakerOptions = {}): Breaker => {
    check.string('name', name, undefined);
    if (held.has(name)) return check.fail('name', 'a name not yet in the registry', name);
    const snapshot = Object.hasOwn(initial, name) ? initial[name] : undefined;
    const mine = check.object(`breakers.${name}`, own);
    let made: Breaker;
    try {
      made = breaker({ ...defaults, ...(snapshot !== undefined ? { initial: snapshot } : {}), ...mine, name });
    } catch (error) {
      throw located(error, { [`breakers.${name}`]: mine, defaults, [`initial.${name}`]: { initial: snapshot } });
    }
    held.set(name, made);
    return made;
  };

  const breakers = check.object('breakers', options.breakers) as Record<string, RegistryBreakerOptions>;
  for (const name of Object.keys(breakers)) {
    if (name === '') check.fail('breakers', 'an object keyed by non-empty breaker names', name);
    add(name, breakers[name]);
  }

  return {
    get(name) {
      const found = held.get(name);
      if (found === undefined) {
        return check.fail('name', `one of the registry's breakers (${[...held.keys()].join(', ')})`, name);
      }
      return found;
    },
    add,
    has: (name) => held.has(name),
    get names() {
      return [...held.keys()];
    },
    health() {
      const report = byName<Health>(held, (b) => b.health());
      let healthy = 0;
      let unhealthy = 0;
      for (const health of Object.values(report)) {
        if (health.status === 'healthy') healthy++;
        else if (health.status === 'unhealthy') unhealthy++;
      }
      const status: HealthStatus =
        healthy === held.size ? 'healthy' : unhealthy === held.size ? 'unhealthy' : 'degraded';
      return { status, breakers: report };
    },
    sources: () => [...held.values()],
    snapshot: () => byName(held, (b) => b.snapshot()),
    dispose() {
      for (const b of held.values()) b.dispose();
    },
    [Symbol.iterator]: () => held.values(),
  };
}
