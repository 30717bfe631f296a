// Small policies built on core that emit the events of docs/writing-a-policy.md, so telemetry is tested
// against the event shapes the real packages promise. They are test doubles for the policy packages,
// not for anything telemetry itself does.
import {
  BulwarkError,
  definePolicy,
  Emitter,
  PASS,
  type Clock,
  type Context,
  type HealthSource,
  type Policy,
  type PolicyEvent,
  type Scope,
  type Task,
} from '@bulwark/core';

export type TestEvent = PolicyEvent & { readonly [field: string]: unknown };

export class TimeoutError extends BulwarkError<'Timeout'> {
  readonly retryable = true;
  constructor(readonly timeoutMs: number) {
    super('Timeout', `timed out after ${timeoutMs} ms`);
  }
}

export class BrokenCircuitError extends BulwarkError<'BrokenCircuit'> {
  readonly retryable = false;
  constructor(readonly retryAfterMs: number) {
    super('BrokenCircuit', 'the circuit is open');
  }
}

/** Retries up to `retries` times after `delayMs`, emitting `retry`, then `success` or `give-up`. */
export function retrying(retries: number, delayMs: number, clock: Clock, name = 'retry'): Policy<TestEvent> {
  const events = new Emitter<TestEvent>();
  return definePolicy(
    name,
    [
      {
        gate: {
          enter: (): { attempt: number } => ({ attempt: 1 }),
          exit(token: { attempt: number }, outcome, inner: Scope) {
            if (outcome.ok) {
              if (events.active)
                events.emit({ type: 'success', policy: name, context: inner, attempts: token.attempt });
              return PASS;
            }
            if (token.attempt > retries) {
              if (events.active) {
                events.emit({
                  type: 'give-up',
                  policy: name,
                  context: inner,
                  attempts: token.attempt,
                  error: outcome.value,
                });
              }
              return PASS;
            }
            if (events.active) {
              events.emit({
                type: 'retry',
                policy: name,
                context: inner,
                attempt: token.attempt,
                delayMs,
                error: outcome.value,
              });
            }
            token.attempt++;
            return delayMs;
          },
          sleep: (ms, signal) => clock.sleep(ms, signal),
        },
      },
    ],
    events,
  );
}

/** A consecutive-failures breaker: opens after `threshold` failures, rejects while open; a health source. */
export function breaking(threshold: number, name = 'breaker'): Policy<TestEvent> & HealthSource & { reset(): void } {
  const events = new Emitter<TestEvent>();
  let state: 'closed' | 'open' = 'closed';
  let failures = 0;
  const move = (to: 'closed' | 'open'): void => {
    if (events.active) events.emit({ type: 'state-change', policy: name, from: state, to });
    state = to;
  };
  const policy = definePolicy(
    name,
    [
      {
        gate: {
          enter(ctx: Scope) {
            if (state === 'open') {
              if (events.active)
                events.emit({ type: 'rejected', policy: name, context: ctx, state, retryAfterMs: 1000 });
              throw new BrokenCircuitError(1000);
            }
          },
          exit(_token, outcome) {
            if (outcome.ok) failures = 0;
            else if (++failures >= threshold && state === 'closed') move('open');
            return PASS;
          },
        },
      },
    ],
    events,
  );
  return Object.assign(policy, {
    kind: 'breaker',
    health: () => ({
      status: state === 'open' ? ('unhealthy' as const) : ('healthy' as const),
      details: { state, failures },
    }),
    reset: () => {
      failures = 0;
      if (state !== 'closed') move('closed');
    },
  });
}

/** A decorator that answers from a map when it can (`hit`), else runs the task (`miss`) and stores. */
export function caching(name = 'cache'): Policy<TestEvent> & { readonly store: Map<string, unknown> } {
  const events = new Emitter<TestEvent>();
  const store = new Map<string, unknown>();
  const policy = definePolicy(
    name,
    [
      {
        decorate:
          <A>(next: Task<A>): Task<A> =>
          async (ctx: Context) => {
            const key = ctx.correlationId;
            if (store.has(key)) {
              if (events.active) events.emit({ type: 'hit', policy: name, context: ctx });
              return store.get(key) as A;
            }
            if (events.active) events.emit({ type: 'miss', policy: name, context: ctx });
            const value = await next(ctx);
            store.set(key, value);
            return value;
          },
      },
    ],
    events,
  );
  return Object.assign(policy, { store });
}

/** Fails a call with a `TimeoutError` (and a `timeout` event) when it ran longer than `timeoutMs` on `clock`. */
export function timing(timeoutMs: number, clock: Clock, name = 'timeout'): Policy<TestEvent> {
  const events = new Emitter<TestEvent>();
  return definePolicy(
    name,
    [
      {
        gate: {
          enter: () => clock.now(),
          exit(startedAt: number, outcome, inner: Scope) {
            if (clock.now() - startedAt > timeoutMs) {
              if (events.active) events.emit({ type: 'timeout', policy: name, context: inner, timeoutMs });
              outcome.ok = false;
              outcome.value = new TimeoutError(timeoutMs);
            }
            return PASS;
          },
        },
      },
    ],
    events,
  );
}

/** A task that sleeps `ms` on `clock` and then resolves `value` or rejects with `error`. */
export function after<A>(clock: Clock, ms: number, outcome: { value: A } | { error: unknown }): Task<A> {
  return async (ctx) => {
    if (ms > 0) await clock.sleep(ms, ctx.signal);
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  };
}
