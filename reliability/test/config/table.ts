// The table behind the bad-configuration fuzz: one row per constructor, naming every option it takes
// (checked by the compiler against the options type, so a new option fails `tsc -b` until it has a
// row entry), the smallest options that work, and what "works" means for it.
import type { Clock } from '@bulwark/core';
import type { VirtualClock } from '@bulwark/testkit';
import type { FakeOilPrice } from '@bulwark/testkit/fake-oilprice';
import type { FakePostHog } from '@bulwark/testkit/fake-posthog';
import type { createClient } from 'redis';

/** Options as the fuzz handles them: any value under any key. */
export type Options = Record<string, unknown>;

/** What a row's constructor made: a way to use it, and to release what it holds. */
export interface Made {
  /** Uses what was made; resolves when it behaved, rejects with what went wrong. */
  run(): Promise<unknown>;
  close?(): Promise<void>;
}

/** What rows may use: a fresh virtual clock per case, and the shared servers of the test file. */
export interface Env {
  readonly clock: VirtualClock;
  readonly redis: ReturnType<typeof createClient> | undefined;
  readonly oilprice: FakeOilPrice;
  readonly posthog: FakePostHog;
  /** A key prefix of the case's own, for rows that write to Redis. */
  readonly prefix: string;
}

export interface ConfigRow {
  readonly package: string;
  /** The constructor, as a user calls it: `breaker(options)`, `new OilPriceClient(options)`. */
  readonly call: string;
  /** The options to fuzz, by path: `ttlMs`, `l1.maxEntries`, and the positional arguments by name. */
  readonly options: readonly string[];
  /** Which of `options` are positional arguments (`client`, `codec`): `make` gets them apart. */
  readonly positional?: readonly string[];
  /** The name an error uses for the whole options object, or `false` when it cannot be fuzzed whole. */
  readonly optionsName: string | false;
  /** What the row needs beyond the virtual clock: its calls then run on real I/O. */
  readonly needs?: 'redis' | 'oilprice' | 'posthog';
  /**
   * The row's calls move the virtual clock themselves (and wait on real time when a fuzzed option took
   * the clock away): the table then only bounds how long they take.
   */
  readonly drivesClock?: boolean;
  /** The smallest options (and positional arguments) that work. */
  valid(env: Env): Options;
  /**
   * Constructs (may throw: that is what is under test) and says how to use it. `options` is the
   * options object, whatever it is (the fuzz gives `5` or `null` in its place too).
   */
  make(options: Options, env: Env, args: Options): Made;
  /** Errors a use may end in besides the task's own: typed errors the component documents. */
  readonly expected?: (error: unknown) => boolean;
}

/** Every option of `T`, by name: the compiler rejects a list that misses one (or names one `T` lacks). */
export function everyOption<T>(options: { readonly [K in keyof Required<T>]: true }): string[] {
  return Object.keys(options);
}

/** A value that is not what a use should return. */
export class Misbehaved extends Error {
  constructor(what: string, value: unknown) {
    super(`${what}: got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`);
    this.name = 'Misbehaved';
  }
}

/** Throws a {@link Misbehaved} unless `value` is `expected`. */
export function expectValue(what: string, value: unknown, expected: unknown): void {
  if (!Object.is(value, expected)) throw new Misbehaved(`${what} should be ${String(expected)}`, value);
}

/** The task's own error in a failing call. */
export class TaskFailure extends Error {
  constructor() {
    super('the task failed');
    this.name = 'TaskFailure';
  }
}

export const ok = async (): Promise<string> => 'ok';
export const failing = async (): Promise<never> => Promise.reject(new TaskFailure());

/** Runs `call`, expecting it to reject with the task's own error (or a typed error the row allows). */
export async function expectTaskFailure(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TaskFailure) return;
    throw error;
  }
  throw new Misbehaved('a failing task should fail the call', 'a value');
}

/** A clock option as rows pass it: the case's virtual clock. */
export const clockOf = (env: Env): Clock => env.clock;
