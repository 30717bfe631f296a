// Rows of the configuration fuzz for retry, timeout, fallback and hedge.
import { fallback, hedge, type FallbackOptions, type HedgeOptions, type PercentileDelay } from '@bulwark/fallback';
import { constant, retry, upTo, type RetryOptions } from '@bulwark/retry';
import { isTimeoutError, timeout, type TimeoutOptions } from '@bulwark/timeout';

import {
  clockOf,
  everyOption,
  expectTaskFailure,
  expectValue,
  failing,
  ok,
  type ConfigRow,
  type Env,
  type Options,
} from './table.js';

/**
 * Runs a call on the virtual clock when the policy was given it, else awaits it: options fuzzed
 * without a clock fall back to the system clock, whose waits here are milliseconds.
 */
const drive =
  (options: Options, env: Env) =>
  <A>(call: Promise<A>): Promise<A> =>
    (options as Options | undefined)?.['clock'] === clockOf(env) ? env.clock.run(call) : call;

const retryRow: ConfigRow = {
  package: '@bulwark/retry',
  call: 'retry(options)',
  options: everyOption<RetryOptions>({
    maxAttempts: true,
    backoff: true,
    handle: true,
    handleResult: true,
    retryNonRetryable: true,
    maxRetryAfterMs: true,
    budget: true,
    name: true,
    clock: true,
    random: true,
  }),
  optionsName: 'options',
  drivesClock: true,
  // Waits of a millisecond (a fuzzed `clock` or options object falls back to real time), and a
  // schedule that ends (a fuzzed `maxAttempts: Infinity` leaves the limit to it).
  valid: (env) => ({ clock: clockOf(env), backoff: upTo(constant(1), 4) }),
  make(options, env) {
    const policy = retry(options);
    const run = drive(options, env);
    return {
      async run() {
        expectValue('a call through the retry', await run(policy.execute(ok)), 'ok');
        // Retried until its attempts run out: the task's own error comes back.
        await expectTaskFailure(run(policy.execute(failing)));
      },
    };
  },
};

const timeoutRow: ConfigRow = {
  package: '@bulwark/timeout',
  call: 'timeout(options)',
  options: everyOption<TimeoutOptions>({ timeoutMs: true, strategy: true, name: true, clock: true }),
  optionsName: 'options',
  drivesClock: true,
  valid: (env) => ({ timeoutMs: 1_000, clock: clockOf(env) }),
  make(options, env) {
    const policy = timeout(options as unknown as TimeoutOptions);
    const run = drive(options, env);
    return {
      async run() {
        expectValue('a call in time', await run(policy.execute(ok)), 'ok');
        await expectTaskFailure(run(policy.execute(failing)));
        // A hung call, on the virtual clock only (a fuzzed `timeout(5000)` would take 5 s of real time).
        if ((options as Options | undefined)?.['clock'] !== clockOf(env)) return;
        const hung = await run(
          policy.execute((ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', reject))),
        ).catch((error: unknown) => error);
        expectValue('a call that hangs ends in a TimeoutError', isTimeoutError(hung), true);
      },
    };
  },
};

const fallbackRow: ConfigRow = {
  package: '@bulwark/fallback',
  call: 'fallback(value, options)',
  options: everyOption<FallbackOptions>({ handle: true, handleResult: true, name: true }),
  optionsName: 'options',
  drivesClock: true,
  valid: () => ({}),
  make(options) {
    const policy = fallback('fallen back', options as unknown as FallbackOptions);
    return {
      async run() {
        // A fuzzed `handleResult` may judge 'ok' a failure: then the fallback answers.
        const answered = await policy.execute(ok);
        if ((options as Options | undefined)?.['handleResult'] === undefined)
          expectValue('a call that succeeds', answered, 'ok');
        else if (answered !== 'ok') expectValue('a result handled', answered, 'fallen back');
        const failed = await policy.execute(failing).catch(() => 'fallen back');
        expectValue('a failed call', failed, 'fallen back');
      },
    };
  },
};

const useHedge = (options: Options, env: Env): { run(): Promise<void> } => {
  const policy = hedge(options);
  const run = drive(options, env);
  return {
    async run() {
      expectValue('a hedged call', await run(policy.execute(ok)), 'ok');
      await expectTaskFailure(run(policy.execute(failing)));
    },
  };
};

const hedgeRow: ConfigRow = {
  package: '@bulwark/fallback',
  call: 'hedge(options)',
  options: everyOption<HedgeOptions>({
    delayMs: true,
    percentile: true,
    maxAttempts: true,
    handle: true,
    name: true,
    clock: true,
  }),
  optionsName: 'options',
  drivesClock: true,
  valid: (env) => ({ delayMs: 10, clock: clockOf(env) }),
  make: useHedge,
};

const hedgePercentileRow: ConfigRow = {
  package: '@bulwark/fallback',
  call: 'hedge({ percentile })',
  // `percentile` itself too: options without it have no delay, and the error names it.
  options: [
    'percentile',
    ...everyOption<PercentileDelay>({
      p: true,
      windowSize: true,
      minSamples: true,
      minDelayMs: true,
      maxDelayMs: true,
    }).map((name) => `percentile.${name}`),
  ],
  optionsName: 'options',
  drivesClock: true,
  valid: (env) => ({ percentile: { p: 0.9 }, clock: clockOf(env) }),

  make: useHedge,
};

export const resilienceRows: readonly ConfigRow[] = [retryRow, timeoutRow, fallbackRow, hedgeRow, hedgePercentileRow];
