/**
 * Fault injection for the fake PostHog hosts: scripted faults for the next requests, outages over a
 * window of the fake's clock, and faults drawn at random from a seeded generator.
 *
 * Precedence for each request: a scripted fault first (oldest script first), then an outage covering
 * the request's time, then a random draw. A request that draws nothing is answered normally.
 *
 * @module
 */

/**
 * Which fake host a fault applies to.
 *
 * @category testing
 * @since 0.1.0
 */
export type FakeHost = 'ingestion' | 'api';

/**
 * What a faulty request gets.
 *
 * - `status`: an error response with this status. The body is the host's own error form (plain text on
 *   ingestion, a DRF envelope on the API) unless `body` is given; `retryAfterS` adds `Retry-After`.
 * - `reset`: the connection is destroyed before the request is handled (nothing is recorded).
 * - `reset-after-receive`: the request is handled (events are recorded) and then the connection is
 *   destroyed without an answer: the client cannot know, and a retry delivers duplicates.
 * - `delay`: the answer is held back `ms` milliseconds on the fake's clock, then given normally.
 * - `slow-body`: slow loris: the answer's headers at once, then its body `bytes` at a time (default 1)
 *   every `intervalMs` (default 1000) on the fake's clock, for as long as the client keeps reading.
 *
 * @category testing
 * @since 0.1.0
 */
export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly body?: string; readonly retryAfterS?: number }
  | { readonly kind: 'reset' }
  | { readonly kind: 'reset-after-receive' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'slow-body'; readonly intervalMs?: number; readonly bytes?: number };

/** Which requests a fault applies to, beyond its host. */
export interface FaultMatch {
  /** Only requests whose path starts with this, e.g. `'/batch/'` or `'/api/projects/1/query/'`. */
  readonly path?: string;
}

interface Script {
  readonly host: FakeHost;
  readonly fault: Fault;
  readonly path: string | undefined;
  left: number;
}

interface Outage {
  readonly host: FakeHost;
  readonly from: number;
  readonly until: number;
  readonly fault: Fault;
}

interface RandomRule {
  readonly host: FakeHost;
  readonly rate: number;
  readonly faults: readonly Fault[];
  readonly path: string | undefined;
}

/**
 * A small seeded generator (mulberry32): the same seed gives the same fault schedule on every run.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The faults a fake PostHog injects, and how many it has injected.
 *
 * @example
 * ```ts
 * import { startFakePostHog } from '@bulwark/testkit/fake-posthog';
 *
 * const fake = await startFakePostHog();
 * fake.faults.next('ingestion', { kind: 'status', status: 503 }, { times: 2 });
 * fake.faults.outage('api', 30_000);
 * fake.faults.random('ingestion', 0.1, [{ kind: 'reset' }, { kind: 'status', status: 502 }]);
 * assert.equal(fake.faults.injectedOn('ingestion'), 0);
 * await fake.close();
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export class FaultPlan {
  private scripts: Script[] = [];
  private outages: Outage[] = [];
  private rules: RandomRule[] = [];
  private readonly injectedCounts = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly uniform: () => number,
  ) {}

  /** The next `times` requests to `host` (matching `path`, if given) get `fault`. */
  next(host: FakeHost, fault: Fault, options: FaultMatch & { readonly times?: number } = {}): this {
    const times = options.times ?? 1;
    if (!Number.isSafeInteger(times) || times < 1)
      throw new RangeError(`FaultPlan.next: expected times >= 1, got ${times}`);
    this.scripts.push({ host, fault, path: options.path, left: times });
    return this;
  }

  /**
   * Every request to `host` in the next `durationMs` of the fake's clock gets `fault` (by default a
   * connection reset, as when the host is down).
   */
  outage(host: FakeHost, durationMs: number, fault: Fault = { kind: 'reset' }): this {
    if (!(durationMs >= 0)) throw new RangeError(`FaultPlan.outage: expected durationMs >= 0, got ${durationMs}`);
    const from = this.now();
    this.outages.push({ host, from, until: from + durationMs, fault });
    return this;
  }

  /** Each request to `host` (matching `path`) gets, with probability `rate`, one of `faults` at random. */
  random(host: FakeHost, rate: number, faults: readonly Fault[], options: FaultMatch = {}): this {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`FaultPlan.random: expected rate in [0, 1], got ${rate}`);
    if (faults.length === 0) throw new RangeError('FaultPlan.random: expected at least one fault');
    this.rules.push({ host, rate, faults: [...faults], path: options.path });
    return this;
  }

  /** Removes every scripted fault, outage and random rule. */
  clear(): this {
    this.scripts = [];
    this.outages = [];
    this.rules = [];
    return this;
  }

  /** How many faults were injected, per host and kind (`'ingestion:reset'`, `'api:status:429'`). */
  get injected(): ReadonlyMap<string, number> {
    return this.injectedCounts;
  }

  /** How many faults of any kind were injected on `host`. */
  injectedOn(host: FakeHost): number {
    let total = 0;
    for (const [key, count] of this.injectedCounts) if (key.startsWith(`${host}:`)) total += count;
    return total;
  }

  /** @internal The fault for one request, if any; counts it as injected. */
  draw(host: FakeHost, path: string): Fault | undefined {
    const fault = this.pick(host, path);
    if (fault !== undefined) {
      const key = `${host}:${fault.kind}${fault.kind === 'status' ? `:${fault.status}` : ''}`;
      this.injectedCounts.set(key, (this.injectedCounts.get(key) ?? 0) + 1);
    }
    return fault;
  }

  private pick(host: FakeHost, path: string): Fault | undefined {
    for (let i = 0; i < this.scripts.length; i++) {
      const script = this.scripts[i] as Script;
      if (script.host !== host || (script.path !== undefined && !path.startsWith(script.path))) continue;
      script.left -= 1;
      if (script.left === 0) this.scripts.splice(i, 1);
      return script.fault;
    }
    const now = this.now();
    if (this.outages.length > 0) {
      this.outages = this.outages.filter((outage) => outage.until > now);
      for (const outage of this.outages) {
        if (outage.host === host && outage.from <= now) return outage.fault;
      }
    }
    for (const rule of this.rules) {
      if (rule.host !== host || (rule.path !== undefined && !path.startsWith(rule.path))) continue;
      if (this.uniform() < rule.rate) {
        return rule.faults[Math.floor(this.uniform() * rule.faults.length)] ?? rule.faults[0];
      }
    }
    return undefined;
  }
}
