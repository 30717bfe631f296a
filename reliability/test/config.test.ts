// Bad configuration, fuzzed: every option of every constructor in the table gets any value a careless
// configuration may hold (missing, undefined, null, negative, NaN, Infinity, wrong types, callbacks
// that throw). Construction must either throw a TypeError or RangeError that names the option, or
// succeed with something that works: a call through it settles with the task's result, the task's own
// error, a typed error the component documents, or the error of the hostile callback itself.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ABSENT,
  HostileCallbackError,
  hostileOptionValue,
  redisTestsEnabled,
  redisUrl,
  uniquePrefix,
  VirtualClock,
} from '@bulwark/testkit';
import { startFakeOilPrice, type FakeOilPrice } from '@bulwark/testkit/fake-oilprice';
import { startFakePostHog, type FakePostHog } from '@bulwark/testkit/fake-posthog';
import fc from 'fast-check';
import { createClient } from 'redis';

import { adapterRows } from './config/rows-adapters.js';
import { policyRows } from './config/rows-policies.js';
import { resilienceRows } from './config/rows-resilience.js';
import { validateTelemetryRows } from './config/rows-validate-telemetry.js';
import { TaskFailure, type ConfigRow, type Env, type Made, type Options } from './config/table.js';
import { settleWithin } from './support/settle.js';

const ROWS: readonly ConfigRow[] = [...policyRows, ...resilienceRows, ...validateTelemetryRows, ...adapterRows];
/** Cases per option; `FUZZ_RUNS` raises it for a longer hunt. */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 25);
/** A call on real I/O that has not settled by then is hung: the bound only catches hangs, it times nothing. */
const HANG_MS = 10_000;

let oilprice: FakeOilPrice;
let posthogFake: FakePostHog;
let redis: ReturnType<typeof createClient> | undefined;

// The packages surface an error thrown by a user's callback (a predicate, a logger, an event listener)
// on a later tick, where it reaches the process as any other bug would, and never fail the call with
// it. Here those callbacks are the fuzz's own: their errors are counted instead of crashing the runner,
// and anything else that surfaces still does.
const surfaced: HostileCallbackError[] = [];
const queueMicrotaskAsGiven = globalThis.queueMicrotask;
beforeAll(() => {
  globalThis.queueMicrotask = (callback) =>
    queueMicrotaskAsGiven(() => {
      try {
        callback();
      } catch (error) {
        if (!(error instanceof HostileCallbackError)) throw error;
        surfaced.push(error);
      }
    });
});
afterAll(() => {
  globalThis.queueMicrotask = queueMicrotaskAsGiven;
});

beforeAll(async () => {
  oilprice = await startFakeOilPrice({ rateLimit: false });
  posthogFake = await startFakePostHog({ throttle: false });
  if (redisTestsEnabled()) {
    redis = createClient({ url: redisUrl() });
    redis.on('error', () => undefined);
    await redis.connect();
  }
});
afterAll(async () => {
  if (redis !== undefined) {
    for await (const keys of redis.scanIterator({ MATCH: 'bulwark-test:fuzz:*', COUNT: 1000 })) {
      if (keys.length > 0) await redis.del(keys);
    }
    redis.destroy();
  }
  await oilprice.close();
  await posthogFake.close();
});

const envFor = (): Env => ({
  clock: new VirtualClock(Date.UTC(2026, 0, 15)),
  redis,
  oilprice,
  posthog: posthogFake,
  prefix: uniquePrefix('fuzz'),
});

/** `options` with the value at `path` (`l1.maxEntries`) replaced, or removed for {@link ABSENT}. */
function withOption(options: Options, path: string, value: unknown): Options {
  const dot = path.indexOf('.');
  const copy: Options = { ...options };
  if (dot < 0) {
    if (value === ABSENT) delete copy[path];
    else copy[path] = value;
    return copy;
  }
  const head = path.slice(0, dot);
  const inner = copy[head];
  const isPlain = typeof inner === 'object' && inner !== null && !Array.isArray(inner);
  copy[head] = withOption(isPlain ? (inner as Options) : {}, path.slice(dot + 1), value);
  return copy;
}

/** Whether an error's message names one of `paths` the way option checks do: `` `l1.maxEntries` ``, `` `limits[0]` ``. */
function namesOption(error: unknown, paths: readonly string[]): boolean {
  const message = error instanceof Error ? error.message : '';
  return paths.some((path) => new RegExp(`\`${path.replace(/[.[\]]/g, '\\$&')}[\`.[]`).test(message));
}

/** What a use may end in: the task's own error, a hostile callback's, a documented typed error, or misuse named at call time. */
function acceptable(error: unknown, row: ConfigRow, paths: readonly string[]): boolean {
  return (
    error instanceof TaskFailure ||
    error instanceof HostileCallbackError ||
    row.expected?.(error) === true ||
    ((error instanceof TypeError || error instanceof RangeError) && namesOption(error, paths))
  );
}

const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);

/**
 * Whether a construction error is the rejection the fuzz expects: a TypeError or RangeError naming the
 * option, or a RangeError naming another option the caller set (a rule between two options, like
 * `max >= min`, is reported on either).
 */
function rejectsNaming(error: unknown, paths: readonly string[], others: readonly string[]): boolean {
  if (!(error instanceof TypeError || error instanceof RangeError)) return false;
  return namesOption(error, paths) || (error instanceof RangeError && namesOption(error, others));
}

/**
 * Builds with `options` (and the positional arguments in `args`) and, when that works, uses what was
 * built. Fails, explaining, when construction throws something that does not name an option in
 * `paths`, or the use ends in something other than an acceptable outcome.
 */
async function check(
  row: ConfigRow,
  env: Env,
  options: Options,
  args: Options,
  paths: readonly string[],
): Promise<void> {
  let made: Made;
  try {
    made = row.make(options, env, args);
  } catch (error) {
    const others = typeof options === 'object' && options !== null ? Object.keys(options) : [];
    if (!rejectsNaming(error, paths, others)) {
      throw new Error(`construction threw without naming ${paths.join(' or ')}: ${describeError(error)}`);
    }
    return;
  }
  try {
    const run = made.run();
    await (row.needs === undefined && row.drivesClock !== true ? env.clock.run(run) : settleWithin(run, HANG_MS));
  } catch (error) {
    if (!acceptable(error, row, paths)) {
      throw new Error(`accepted, then a call ended in ${describeError(error)}`);
    }
  } finally {
    await made.close?.();
  }
}

/** Splits a row's flat options into its options object and its positional arguments. */
function split(row: ConfigRow, all: Options): { options: Options; args: Options } {
  const options: Options = {};
  const args: Options = {};
  for (const [key, value] of Object.entries(all)) {
    if (row.positional?.includes(key) === true) args[key] = value;
    else options[key] = value;
  }
  return { options, args };
}

const available = (row: ConfigRow): boolean => row.needs !== 'redis' || redisTestsEnabled();

for (const row of ROWS) {
  const describeRow = available(row) ? describe : describe.skip;
  describeRow(`${row.package}: ${row.call}`, () => {
    it('works with its minimal options (the row is right)', async () => {
      const env = envFor();
      const { options, args } = split(row, row.valid(env));
      const made = row.make(options, env, args);
      try {
        const run = made.run();
        await (row.needs === undefined && row.drivesClock !== true ? env.clock.run(run) : settleWithin(run, HANG_MS));
      } finally {
        await made.close?.();
      }
    });

    it.each(row.options)('`%s`: any value is rejected naming it, or works', async (path) => {
      await fc.assert(
        fc.asyncProperty(hostileOptionValue(), async (value) => {
          const env = envFor();
          const { options, args } = split(row, withOption(row.valid(env), path, value));
          // A positional argument's message may name what it holds (`client.evalSha`).
          await check(row, env, options, args, [path]);
        }),
        { numRuns: RUNS },
      );
    });

    const optionsName = row.optionsName;
    if (optionsName !== false) {
      it(`the options object itself: anything is rejected naming \`${optionsName}\` or an option, or works`, async () => {
        await fc.assert(
          fc.asyncProperty(hostileOptionValue(), async (value) => {
            const env = envFor();
            const { args } = split(row, row.valid(env));
            const whole = value === ABSENT ? undefined : value;
            await check(row, env, whole as Options, args, [optionsName, ...row.options]);
          }),
          { numRuns: RUNS },
        );
      });
    }
  });
}

it('covers every package with options', () => {
  expect(new Set(ROWS.map((row) => row.package))).toEqual(
    new Set([
      '@bulwark/breaker',
      '@bulwark/bulkhead',
      '@bulwark/cache',
      '@bulwark/fallback',
      '@bulwark/oilprice',
      '@bulwark/posthog',
      '@bulwark/ratelimit',
      '@bulwark/retry',
      '@bulwark/telemetry',
      '@bulwark/timeout',
      '@bulwark/validate',
    ]),
  );
});
