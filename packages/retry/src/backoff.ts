/**
 * Backoff schedules as data, and the pure step that reads them.
 *
 * A {@link Backoff} is a frozen tree of plain objects: a shape (`{ kind: 'exponential', baseMs,
 * factor, capMs }`) or a combinator around another backoff (`{ kind: 'cap', capMs, backoff }`). It can
 * be printed, compared, kept in configuration and checked once. {@link nextDelay} is its one
 * interpreter, `(backoff, state, random) -> delayMs | STOP | STOP_ELAPSED`: a pure function of its
 * arguments, randomness included (it comes from `random`).
 *
 * Laws (test/backoff.test.ts, test/laws.test.ts): every delay lies in `[0, MAX_TIMER_DELAY_MS]`; a
 * jittered delay lies in its band; caps hold; `upTo(n)` stops after attempt `n`; with `maxElapsed(ms)`
 * anywhere in the tree, no delay ends more than `ms` after the first attempt started.
 *
 * @module
 */

import { MAX_TIMER_DELAY_MS, systemRandom, type Random } from '@bulwark/core';
import { describeValue, optionChecker } from '@bulwark/core/options';

import { dual, type Combinator } from './internal/dual.js';

/** A combinator of backoffs (see {@link upTo}). */
export type BackoffCombinator = Combinator<Backoff, number>;

const check = optionChecker('@bulwark/retry');

/** The first delay of the growing shapes when no `baseMs` is given, in milliseconds. */
const DEFAULT_BASE_MS = 100;
/** Their cap when no `capMs` is given (or `baseMs` when larger), in milliseconds. */
const DEFAULT_CAP_MS = 30_000;
/** The most delays {@link fromIterable} takes, so an endless iterable fails instead of hanging. */
const MAX_ITERABLE_DELAYS = 10_000;

/**
 * Returned by {@link nextDelay} when the schedule allows no more retries (`upTo`, the end of
 * `fromIterable`).
 *
 * @since 0.1.0
 */
export const STOP = -1;

/**
 * Returned by {@link nextDelay} when the next attempt would start after the schedule's `maxElapsed`.
 *
 * @since 0.1.0
 */
export const STOP_ELAPSED = -2;

/**
 * Where a call stands when it asks its schedule for the next delay.
 *
 * @category models
 * @since 0.1.0
 */
export interface BackoffState {
  /** Attempts made so far, >= 1: the delay asked for comes after attempt number `attempt`. */
  readonly attempt: number;
  /** Milliseconds since the first attempt started (only `maxElapsed` reads it). */
  readonly elapsedMs: number;
  /** The delay waited before the last attempt, in milliseconds; 0 before the first retry. */
  readonly previousDelayMs: number;
}

/** The same delay every time. */
export interface ConstantBackoff {
  readonly kind: 'constant';
  readonly delayMs: number;
}

/** `baseMs`, then `stepMs` more each time, up to `capMs`. */
export interface LinearBackoff {
  readonly kind: 'linear';
  readonly baseMs: number;
  readonly stepMs: number;
  readonly capMs: number;
}

/**
 * The shapes that grow by `factor`: `min(capMs, baseMs × factor^(attempt − 1))` as is
 * (`exponential`), drawn from `[0, that)` (`full-jitter`) or from `[that / 2, that)` (`equal-jitter`);
 * `decorrelated-jitter` draws from `[baseMs, previous × factor]`, capped.
 */
export interface GrowingBackoff {
  readonly kind: 'exponential' | 'full-jitter' | 'equal-jitter' | 'decorrelated-jitter';
  readonly baseMs: number;
  readonly factor: number;
  readonly capMs: number;
}

/** The given delays in order, then stop. */
export interface IterableBackoff {
  readonly kind: 'from-iterable';
  readonly delaysMs: readonly number[];
}

/** `backoff`, stopping once `attempts` attempts have been made. */
export interface UpToBackoff {
  readonly kind: 'up-to';
  readonly attempts: number;
  readonly backoff: Backoff;
}

/** `backoff`, stopping when the next attempt would start more than `maxElapsedMs` after the first. */
export interface MaxElapsedBackoff {
  readonly kind: 'max-elapsed';
  readonly maxElapsedMs: number;
  readonly backoff: Backoff;
}

/** `backoff`, no delay longer than `capMs`. */
export interface CapBackoff {
  readonly kind: 'cap';
  readonly capMs: number;
  readonly backoff: Backoff;
}

/** `backoff`, each delay lengthened by a random `[0, ratio)` of itself. */
export interface JitterBackoff {
  readonly kind: 'jitter';
  readonly ratio: number;
  readonly backoff: Backoff;
}

/**
 * A backoff schedule: what to wait before each retry, and when to stop. Build one with the
 * constructors (`exponential`, `fullJitter`, …) and combinators (`upTo`, `cap`, `jitter`, …), or write
 * the data by hand (from configuration): `retry` checks it either way.
 *
 * @category models
 * @since 0.1.0
 */
export type Backoff =
  | ConstantBackoff
  | LinearBackoff
  | GrowingBackoff
  | IterableBackoff
  | UpToBackoff
  | MaxElapsedBackoff
  | CapBackoff
  | JitterBackoff;

/** Options of the growing shapes. */
export interface GrowingOptions {
  /** The first delay, in milliseconds. @default 100 */
  readonly baseMs?: number;
  /** What each delay is multiplied by, >= 1. @default 2 (3 for `decorrelatedJitter`) */
  readonly factor?: number;
  /** The longest delay, in milliseconds, >= `baseMs`; `Infinity` for none. @default 30000, or `baseMs` when larger */
  readonly capMs?: number;
}

/** Options of {@link linear}. */
export interface LinearOptions {
  /** The first delay, in milliseconds. @default 100 */
  readonly baseMs?: number;
  /** What each next delay adds, in milliseconds. @default baseMs */
  readonly stepMs?: number;
  /** The longest delay, in milliseconds, >= `baseMs`; `Infinity` for none. @default 30000, or `baseMs` when larger */
  readonly capMs?: number;
}

// --- construction: every public door goes through these, so hand-written data is checked alike ---

const fieldName = (path: string, field: string): string => (path === '' ? field : `${path}.${field}`);

/** A `TypeError` in the option checker's words, for the checks it has no method for. */
function wrongType(name: string, expected: string, value: unknown): never {
  throw new TypeError(`@bulwark/retry: expected \`${name}\` to be ${expected}, got ${describeValue(value)}`);
}

function fieldsOf(value: unknown, path: string): Record<string, unknown> {
  if (value === undefined && path !== '') wrongType(path, 'a backoff (it has no default)', value);
  return check.object(path === '' ? 'options' : path, value) as Record<string, unknown>;
}

const delayAt = (path: string, field: string, value: unknown, fallback: number | undefined): number => {
  if (value === undefined && fallback === undefined) {
    return wrongType(fieldName(path, field), 'a finite number >= 0 (it has no default)', value);
  }
  return check.number(fieldName(path, field), value, fallback as number, { min: 0 });
};

function capAt(path: string, value: unknown, baseMs: number): number {
  return check.number(fieldName(path, 'capMs'), value, Math.max(DEFAULT_CAP_MS, baseMs), {
    min: baseMs,
    finite: false,
  });
}

function constantAt(delayMs: unknown, path: string): ConstantBackoff {
  return Object.freeze({ kind: 'constant', delayMs: delayAt(path, 'delayMs', delayMs, undefined) });
}

function linearAt(options: unknown, path: string): LinearBackoff {
  const o = fieldsOf(options, path);
  const baseMs = delayAt(path, 'baseMs', o['baseMs'], DEFAULT_BASE_MS);
  const stepMs = delayAt(path, 'stepMs', o['stepMs'], baseMs);
  return Object.freeze({ kind: 'linear', baseMs, stepMs, capMs: capAt(path, o['capMs'], baseMs) });
}

function growingAt(kind: GrowingBackoff['kind'], options: unknown, path: string): GrowingBackoff {
  const o = fieldsOf(options, path);
  const baseMs = delayAt(path, 'baseMs', o['baseMs'], DEFAULT_BASE_MS);
  const defaultFactor = kind === 'decorrelated-jitter' ? 3 : 2;
  const factor = check.number(fieldName(path, 'factor'), o['factor'], defaultFactor, { min: 1 });
  return Object.freeze({ kind, baseMs, factor, capMs: capAt(path, o['capMs'], baseMs) });
}

function fromIterableAt(delays: unknown, path: string): IterableBackoff {
  const name = fieldName(path, 'delaysMs');
  if (
    typeof delays !== 'object' ||
    delays === null ||
    typeof (delays as Iterable<unknown>)[Symbol.iterator] !== 'function'
  ) {
    return wrongType(name, 'an iterable of delays', delays);
  }
  const delaysMs: number[] = [];
  for (const delay of delays as Iterable<unknown>) {
    if (delaysMs.length === MAX_ITERABLE_DELAYS) {
      return check.fail(name, `an iterable of at most ${MAX_ITERABLE_DELAYS} delays`, delays);
    }
    delaysMs.push(check.number(`${name}[${delaysMs.length}]`, delay, 0, { min: 0 }));
  }
  return Object.freeze({ kind: 'from-iterable', delaysMs: Object.freeze(delaysMs) });
}

/** A combinator's parameter: required, so `undefined` is refused rather than defaulted. */
function paramAt(path: string, field: string, value: unknown, integer: boolean, min: number, max?: number): number {
  const name = fieldName(path, field);
  const bounds = max === undefined ? { min } : { min, max };
  if (value === undefined) {
    return wrongType(name, `${integer ? 'an integer' : 'a finite number'} (it has no default)`, value);
  }
  return integer ? check.integer(name, value, 0, bounds) : check.number(name, value, 0, bounds);
}
const attemptsAt = (path: string, value: unknown): number => paramAt(path, 'attempts', value, true, 1);
const maxElapsedAt = (path: string, value: unknown): number => paramAt(path, 'maxElapsedMs', value, false, 0);
const capMsAt = (path: string, value: unknown): number => paramAt(path, 'capMs', value, false, 0);
const ratioAt = (path: string, value: unknown): number => paramAt(path, 'ratio', value, false, 0, 1);

const KINDS = [
  'constant',
  'linear',
  'exponential',
  'full-jitter',
  'equal-jitter',
  'decorrelated-jitter',
  'from-iterable',
  'up-to',
  'max-elapsed',
  'cap',
  'jitter',
] as const;

/**
 * Checks a backoff tree (hand-written or not) and returns it rebuilt from checked, frozen nodes.
 *
 * @internal
 */
export function checkBackoff(value: unknown, path: string): Backoff {
  const o = fieldsOf(value, path);
  const kind = check.oneOf(fieldName(path, 'kind'), o['kind'] ?? null, 'constant', KINDS);
  const inner = (): Backoff => checkBackoff(o['backoff'], fieldName(path, 'backoff'));
  switch (kind) {
    case 'constant':
      return constantAt(o['delayMs'], path);
    case 'linear':
      return linearAt(o, path);
    case 'exponential':
    case 'full-jitter':
    case 'equal-jitter':
    case 'decorrelated-jitter':
      return growingAt(kind, o, path);
    case 'from-iterable':
      return fromIterableAt(o['delaysMs'], path);
    case 'up-to':
      return Object.freeze({ kind, attempts: attemptsAt(path, o['attempts']), backoff: inner() });
    case 'max-elapsed':
      return Object.freeze({ kind, maxElapsedMs: maxElapsedAt(path, o['maxElapsedMs']), backoff: inner() });
    case 'cap':
      return Object.freeze({ kind, capMs: capMsAt(path, o['capMs']), backoff: inner() });
    case 'jitter':
      return Object.freeze({ kind, ratio: ratioAt(path, o['ratio']), backoff: inner() });
  }
}

const checkArgument = (value: unknown): Backoff => checkBackoff(value, 'backoff');

// --- the public constructors ---

/**
 * The same delay before every retry.
 *
 * @param delayMs - The delay, in milliseconds (0 retries at once).
 * @throws TypeError or RangeError - when `delayMs` is not a finite number >= 0.
 * @example
 * ```ts
 * assert.deepEqual(preview(constant(500), 3), [500, 500, 500]);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function constant(delayMs: number): ConstantBackoff {
  return constantAt(delayMs, '');
}

/**
 * Delays that grow by a fixed step: `baseMs`, `baseMs + stepMs`, `baseMs + 2 × stepMs`, … up to `capMs`.
 *
 * @throws TypeError or RangeError - when an option is invalid, naming it.
 * @example
 * ```ts
 * assert.deepEqual(preview(linear({ baseMs: 1_000 }), 4), [1_000, 2_000, 3_000, 4_000]);
 * assert.deepEqual(preview(linear({ baseMs: 100, stepMs: 50, capMs: 180 }), 4), [100, 150, 180, 180]);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function linear(options: LinearOptions = {}): LinearBackoff {
  return linearAt(options, '');
}

/**
 * Delays that multiply: `min(capMs, baseMs × factor^(n − 1))` before retry `n`, with no randomness.
 * Add {@link jitter} so that clients that failed together do not retry together.
 *
 * @throws TypeError or RangeError - when an option is invalid, naming it.
 * @example
 * ```ts
 * assert.deepEqual(preview(exponential({ baseMs: 1_000, capMs: 5_000 }), 4), [1_000, 2_000, 4_000, 5_000]);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function exponential(options: GrowingOptions = {}): GrowingBackoff {
  return growingAt('exponential', options, '');
}

/**
 * AWS's "full jitter": a delay drawn uniformly from `[0, min(capMs, baseMs × factor^(n − 1)))`. It
 * spreads retries the most (and may retry almost at once); the default backoff of `retry`.
 *
 * @throws TypeError or RangeError - when an option is invalid, naming it.
 * @example
 * ```ts
 * const delays = preview(fullJitter({ baseMs: 100 }), 3);
 * assert.ok(delays.every((delay, i) => delay >= 0 && delay < 100 * 2 ** i));
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function fullJitter(options: GrowingOptions = {}): GrowingBackoff {
  return growingAt('full-jitter', options, '');
}

/**
 * AWS's "equal jitter": half of `min(capMs, baseMs × factor^(n − 1))` for sure, plus a random part of
 * the other half. Never retries sooner than half the exponential delay.
 *
 * @throws TypeError or RangeError - when an option is invalid, naming it.
 * @example
 * ```ts
 * const delays = preview(equalJitter({ baseMs: 100 }), 3);
 * assert.ok(delays.every((delay, i) => delay >= 50 * 2 ** i && delay < 100 * 2 ** i));
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function equalJitter(options: GrowingOptions = {}): GrowingBackoff {
  return growingAt('equal-jitter', options, '');
}

/**
 * AWS's "decorrelated jitter": each delay drawn from `[baseMs, previous × factor]`, capped at `capMs`,
 * so it grows from the delay actually waited rather than from the attempt number.
 *
 * @throws TypeError or RangeError - when an option is invalid, naming it.
 * @example
 * ```ts
 * const delays = preview(decorrelatedJitter({ baseMs: 100, capMs: 1_000 }), 5);
 * assert.ok(delays.every((delay) => delay >= 100 && delay <= 1_000));
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function decorrelatedJitter(options: GrowingOptions = {}): GrowingBackoff {
  return growingAt('decorrelated-jitter', options, '');
}

/**
 * The given delays in order, then stop: `fromIterable([100, 1_000, 10_000])` allows three retries.
 * The iterable is read once, at construction (at most 10,000 delays, so an endless one fails instead
 * of hanging).
 *
 * @throws TypeError or RangeError - when it is not an iterable of finite numbers >= 0, or is too long.
 * @example
 * ```ts
 * assert.deepEqual(preview(fromIterable([100, 1_000]), 5), [100, 1_000]);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function fromIterable(delaysMs: Iterable<number>): IterableBackoff {
  return fromIterableAt(delaysMs, '');
}

/**
 * Stops the schedule once `attempts` attempts have been made (the first one included).
 * Data-first (`upTo(schedule, 5)`) or data-last for `pipe` (`pipe(schedule, upTo(5))`).
 *
 * @throws TypeError or RangeError - when `attempts` is not an integer >= 1.
 * @example
 * ```ts
 * assert.deepEqual(preview(upTo(constant(10), 3), 10), [10, 10]);
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const upTo: BackoffCombinator = dual(
  checkArgument,
  (attempts) => attemptsAt('', attempts),
  (backoff, attempts) => Object.freeze({ kind: 'up-to', attempts, backoff }),
);

/**
 * Stops the schedule when the next attempt would start more than `maxElapsedMs` after the first one
 * did. It bounds the whole schedule wherever it sits in the tree (a `jitter` around it cannot push a
 * delay past it); an attempt already running is not cut short (a timeout outside the retry does that).
 *
 * @throws TypeError or RangeError - when `maxElapsedMs` is not a finite number >= 0.
 * @example
 * ```ts
 * // With instant attempts: 1 s, 2 s, 4 s would end at 7 s, past the 5 s limit.
 * assert.deepEqual(preview(maxElapsed(exponential({ baseMs: 1_000 }), 5_000), 10), [1_000, 2_000]);
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const maxElapsed: BackoffCombinator = dual(
  checkArgument,
  (maxElapsedMs) => maxElapsedAt('', maxElapsedMs),
  (backoff, maxElapsedMs) => Object.freeze({ kind: 'max-elapsed', maxElapsedMs, backoff }),
);

/**
 * No delay longer than `capMs`.
 *
 * @throws TypeError or RangeError - when `capMs` is not a finite number >= 0.
 * @example
 * ```ts
 * assert.deepEqual(preview(cap(linear({ baseMs: 100 }), 250), 4), [100, 200, 250, 250]);
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const cap: BackoffCombinator = dual(
  checkArgument,
  (capMs) => capMsAt('', capMs),
  (backoff, capMs) => Object.freeze({ kind: 'cap', capMs, backoff }),
);

/**
 * Proportional jitter: each delay `d` becomes a random value in `[d, d × (1 + ratio))`. The oil-price
 * SDK's `min(2^n, 60) s + 0–30 % jitter` is `jitter(exponential({ baseMs: 1_000, capMs: 60_000 }), 0.3)`.
 *
 * @param ratio - The most added, as a fraction of the delay, in `[0, 1]`.
 * @throws TypeError or RangeError - when `ratio` is not a number in `[0, 1]`.
 * @example
 * ```ts
 * const delays = preview(jitter(exponential({ baseMs: 1_000, capMs: 60_000 }), 0.3), 8);
 * const bases = [1, 2, 4, 8, 16, 32, 60, 60].map((s) => s * 1_000);
 * assert.ok(delays.every((delay, i) => delay >= bases[i]! && delay < bases[i]! * 1.3));
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const jitter: BackoffCombinator = dual(
  checkArgument,
  (ratio) => ratioAt('', ratio),
  (backoff, ratio) => Object.freeze({ kind: 'jitter', ratio, backoff }),
);

// --- the interpreter ---

/** `min(capMs, baseMs × factor^(attempt − 1))`; the power may overflow to Infinity, which the cap absorbs. */
const grown = (b: GrowingBackoff, attempt: number): number => Math.min(b.capMs, b.baseMs * b.factor ** (attempt - 1));

function step(b: Backoff, s: BackoffState, random: Random): number {
  switch (b.kind) {
    case 'constant':
      return b.delayMs;
    case 'linear':
      return Math.min(b.capMs, b.baseMs + b.stepMs * (s.attempt - 1));
    case 'exponential':
      return grown(b, s.attempt);
    case 'full-jitter':
      return random.next() * grown(b, s.attempt);
    case 'equal-jitter': {
      const half = grown(b, s.attempt) / 2;
      return half + random.next() * half;
    }
    case 'decorrelated-jitter': {
      const previous = Math.max(b.baseMs, s.previousDelayMs);
      return Math.min(b.capMs, b.baseMs + random.next() * (previous * b.factor - b.baseMs));
    }
    case 'from-iterable':
      return b.delaysMs[s.attempt - 1] ?? STOP;
    case 'up-to':
      return s.attempt >= b.attempts ? STOP : step(b.backoff, s, random);
    case 'max-elapsed':
      // Enforced on the final delay by `nextDelay`, so that nothing outside it can push past it.
      return step(b.backoff, s, random);
    case 'cap': {
      const delay = step(b.backoff, s, random);
      return delay < 0 ? delay : Math.min(delay, b.capMs);
    }
    case 'jitter': {
      const delay = step(b.backoff, s, random);
      return delay < 0 ? delay : delay * (1 + b.ratio * random.next());
    }
  }
}

/**
 * The tightest `maxElapsed` anywhere in the tree, in milliseconds (`Infinity` when there is none).
 *
 * @internal
 */
export function elapsedLimit(b: Backoff): number {
  switch (b.kind) {
    case 'max-elapsed':
      return Math.min(b.maxElapsedMs, elapsedLimit(b.backoff));
    case 'up-to':
    case 'cap':
    case 'jitter':
      return elapsedLimit(b.backoff);
    default:
      return Number.POSITIVE_INFINITY;
  }
}

/**
 * Whether the schedule reads `previousDelayMs` (decorrelated jitter does).
 *
 * @internal
 */
export function readsPreviousDelay(b: Backoff): boolean {
  switch (b.kind) {
    case 'decorrelated-jitter':
      return true;
    case 'up-to':
    case 'max-elapsed':
    case 'cap':
    case 'jitter':
      return readsPreviousDelay(b.backoff);
    default:
      return false;
  }
}

/**
 * The delay before the next attempt, or {@link STOP} / {@link STOP_ELAPSED}: the pure step of a
 * schedule. Delays are capped at `MAX_TIMER_DELAY_MS` (longer ones would fire at once in Node).
 *
 * @param backoff - The schedule (trusted: built by the constructors or checked by `retry`).
 * @param state - How many attempts were made, how long ago the first started, the previous delay.
 * @param random - Where jitter comes from.
 * @example
 * ```ts
 * import { systemRandom } from '@bulwark/core';
 * const schedule = upTo(exponential({ baseMs: 100 }), 3);
 * assert.equal(nextDelay(schedule, { attempt: 2, elapsedMs: 0, previousDelayMs: 100 }, systemRandom), 200);
 * assert.equal(nextDelay(schedule, { attempt: 3, elapsedMs: 0, previousDelayMs: 200 }, systemRandom), STOP);
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export function nextDelay(backoff: Backoff, state: BackoffState, random: Random): number {
  const delay = step(backoff, state, random);
  if (delay < 0) return delay;
  const capped = delay > MAX_TIMER_DELAY_MS ? MAX_TIMER_DELAY_MS : delay;
  return state.elapsedMs + capped > elapsedLimit(backoff) ? STOP_ELAPSED : capped;
}

/**
 * The delays a schedule gives for `attempts` failed attempts in a row, assuming each attempt takes no
 * time; shorter when the schedule stops first. For tuning and for docs: `retry` steps the schedule itself.
 *
 * @param attempts - How many failed attempts to simulate.
 * @param random - Where jitter comes from. @default systemRandom
 * @example
 * ```ts
 * assert.deepEqual(preview(exponential({ baseMs: 100 }), 3), [100, 200, 400]);
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export function preview(backoff: Backoff, attempts: number, random: Random = systemRandom): number[] {
  const checked = checkBackoff(backoff, 'backoff');
  const count = check.integer('attempts', attempts ?? null, 0, { min: 0 });
  const delays: number[] = [];
  let elapsedMs = 0;
  let previousDelayMs = 0;
  for (let attempt = 1; attempt <= count; attempt++) {
    const delay = nextDelay(checked, { attempt, elapsedMs, previousDelayMs }, random);
    if (delay < 0) break;
    delays.push(delay);
    elapsedMs += delay;
    previousDelayMs = delay;
  }
  return delays;
}
