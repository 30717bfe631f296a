import { describe, expect, it } from '@jest/globals';
import { expectTypeOf } from 'expect-type';
import type * as E from 'fp-ts/lib/Either.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import Keyv from 'keyv';

import {
  decode,
  judge,
  maxChange,
  memoryStore,
  range,
  validate,
  type DataQualityError,
  type DecodeFailure,
  type KeyValueStore,
  type LastGood,
  type ValidatePolicy,
} from '../src/index.js';

const Quote = t.type({ code: t.string, price: t.number });
type Quote = t.TypeOf<typeof Quote>;

describe('types', () => {
  it('types decoding and the decoded forms of the policy with the codec', () => {
    expectTypeOf(decode(Quote)).toEqualTypeOf<(input: unknown) => E.Either<DecodeFailure, Quote>>();
    const quotes = validate(Quote);
    expectTypeOf(quotes).toEqualTypeOf<ValidatePolicy<Quote>>();
    expectTypeOf(quotes.executeDecoded).returns.toEqualTypeOf<Promise<Quote>>();
    expectTypeOf(quotes.wrapDecoded(async (_code: string, _n: number): Promise<unknown> => null)).toEqualTypeOf<
      (code: string, n: number) => Promise<Quote>
    >();
    // core's forms keep the task's own type
    expectTypeOf(quotes.execute<number>).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(judge<Quote>([])).toEqualTypeOf<(value: Quote) => TaskEither<DataQualityError, Quote>>();
    expect(quotes.codec).toBe(Quote);
  });

  it('types rules with the decoded value, and takes Keyv stores as they are', () => {
    // @ts-expect-error: a rule for another type
    validate(Quote, { rules: [range<{ other: number }>({ value: (o) => o.other })] });
    const stores: KeyValueStore<LastGood>[] = [new Keyv<LastGood>(), memoryStore<LastGood>()];
    expectTypeOf<Keyv<LastGood>>().toExtend<KeyValueStore<LastGood>>();
    const rule = maxChange<Quote>({
      value: (q) => q.price,
      maxRatio: 0.1,
      store: stores[0] as KeyValueStore<LastGood>,
    });
    expect(rule.synchronous).toBe(false);
  });
});
