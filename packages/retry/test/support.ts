/**
 * What the retry tests share: generated backoff trees, random sources that are deterministic or
 * pinned to the ends of their range (to compute a schedule's band), and small assertions.
 */

import type { Random } from '@bulwark/core';
import fc from 'fast-check';

import {
  cap,
  constant,
  decorrelatedJitter,
  equalJitter,
  exponential,
  fromIterable,
  fullJitter,
  jitter,
  linear,
  maxElapsed,
  upTo,
  type Backoff,
} from '../src/index.js';

const ms = fc.integer({ min: 0, max: 5_000 });
const base = fc.integer({ min: 0, max: 2_000 });
const factor = fc.double({ min: 1, max: 4, noNaN: true });

/** A capMs >= baseMs: sometimes Infinity, sometimes equal to the base. */
const capFor = (baseMs: number): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer({ min: baseMs, max: baseMs + 60_000 }),
    fc.constant(baseMs),
    fc.constant(Number.POSITIVE_INFINITY),
  );

const growing = (make: typeof exponential): fc.Arbitrary<Backoff> =>
  fc.tuple(base, factor).chain(([baseMs, f]) => capFor(baseMs).map((capMs) => make({ baseMs, factor: f, capMs })));

/** The shapes: every constructor, with generated parameters. */
export const shape: fc.Arbitrary<Backoff> = fc.oneof(
  ms.map(constant),
  fc.tuple(base, ms).chain(([baseMs, stepMs]) => capFor(baseMs).map((capMs) => linear({ baseMs, stepMs, capMs }))),
  growing(exponential),
  growing(fullJitter),
  growing(equalJitter),
  growing(decorrelatedJitter),
  fc.array(ms, { maxLength: 6 }).map(fromIterable),
);

/** Backoff trees: shapes under up to three combinators, data-first and data-last alike. */
export const backoff: fc.Arbitrary<Backoff> = fc.letrec<{ tree: Backoff }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    shape,
    fc.tuple(tie('tree'), fc.integer({ min: 1, max: 8 })).map(([b, n]) => upTo(b, n)),
    fc.tuple(tie('tree'), fc.integer({ min: 0, max: 30_000 })).map(([b, limit]) => maxElapsed(limit)(b)),
    fc.tuple(tie('tree'), ms).map(([b, c]) => cap(b, c)),
    fc.tuple(tie('tree'), fc.double({ min: 0, max: 1, noNaN: true })).map(([b, r]) => jitter(r)(b)),
  ),
})).tree;

/** A seeded random source (mulberry32): the same seed gives the same draws. */
export function seeded(seed: number): Random {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** Random sources pinned to the ends of `[0, 1)`: each step is monotone in every draw, so these give its band. */
export const lowest: Random = { next: () => 0 };
export const highest: Random = { next: () => 1 };

/** The tree without its `maxElapsed` nodes: its delays before the elapsed limit applies. */
export function unlimited(b: Backoff): Backoff {
  switch (b.kind) {
    case 'max-elapsed':
      return unlimited(b.backoff);
    case 'up-to':
    case 'cap':
    case 'jitter':
      return { ...b, backoff: unlimited(b.backoff) };
    default:
      return b;
  }
}

/** Asserts that `make` throws a `TypeError` or `RangeError` whose message names `option`. */
export function expectOptionError(make: () => unknown, option: string): void {
  let thrown: unknown;
  try {
    make();
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof TypeError || thrown instanceof RangeError)) {
    throw new Error(`expected a TypeError or RangeError naming \`${option}\`, got ${String(thrown)}`);
  }
  if (!thrown.message.includes(`\`${option}\``))
    throw new Error(`the message does not name \`${option}\`: ${thrown.message}`);
}
