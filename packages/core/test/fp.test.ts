import { describe, expect, it } from '@jest/globals';
import { BulwarkError, definePolicy, noop, PASS } from '@bulwark/core';
import { liftTaskEither, monoidPolicy } from '@bulwark/core/fp';
import * as E from 'fp-ts/lib/Either.js';
import { concatAll } from 'fp-ts/lib/Monoid.js';
import * as TE from 'fp-ts/lib/TaskEither.js';

class ShedError extends BulwarkError<'Shed'> {
  readonly retryable = false;
  constructor() {
    super('Shed', 'load shed');
  }
}

describe('monoidPolicy', () => {
  it('has noop as empty and composes with pipeline', async () => {
    expect(monoidPolicy.empty).toBe(noop);
    const all = concatAll(monoidPolicy)([noop, noop, noop]);
    await expect(all.execute(async () => 'x')).resolves.toBe('x');
  });
});

describe('liftTaskEither', () => {
  it('gives back Rights and Lefts unchanged, and a policy error as a Left', async () => {
    const run = liftTaskEither(noop);
    expect(await run(TE.right(1))()).toEqual(E.right(1));
    expect(await run(TE.left('bad'))()).toEqual(E.left('bad'));
    const shedding = definePolicy('shedding', [
      {
        gate: {
          enter: () => {
            throw new ShedError();
          },
          exit: () => PASS,
        },
      },
    ]);
    const result = await liftTaskEither(shedding)(TE.right(1))();
    expect(E.isLeft(result) && result.left instanceof ShedError).toBe(true);
  });

  it('lets a policy see a Left as a failure with the Left’s own value', async () => {
    const seen: unknown[] = [];
    let attempts = 0;
    const retryOnce = definePolicy('retry-once', [
      {
        gate: {
          enter: () => ({ retried: false }),
          exit: (token: { retried: boolean }, outcome) => {
            if (!outcome.ok) seen.push(outcome.value);
            if (outcome.ok || token.retried) return PASS;
            token.retried = true;
            return 0;
          },
        },
      },
    ]);
    const flaky: TE.TaskEither<string, number> = () =>
      Promise.resolve(++attempts === 1 ? E.left('first') : E.right(attempts));
    expect(await liftTaskEither(retryOnce)(flaky)()).toEqual(E.right(2));
    expect(seen).toEqual(['first']);
  });

  it('gives back the error of a policy that is not Bulwark’s as a Left, and rejects only for the caller’s abort', async () => {
    // A policy from elsewhere (a cockatiel policy through `fromCockatiel`, a gate written by hand)
    // fails with errors of its own: still a policy's failure, never a rejection of the TaskEither.
    class CircuitOpen extends Error {}
    const foreign = definePolicy('foreign', [
      {
        gate: {
          enter: () => {
            throw new CircuitOpen('open');
          },
          exit: () => PASS,
        },
      },
    ]);
    const result = await liftTaskEither<CircuitOpen>(foreign)(TE.right(1))();
    expect(E.isLeft(result) && result.left instanceof CircuitOpen).toBe(true);

    const caller = new AbortController();
    const reason = new Error('caller left');
    caller.abort(reason);
    await expect(liftTaskEither(noop)(TE.right(1), caller.signal)()).rejects.toBe(reason);
  });
});
