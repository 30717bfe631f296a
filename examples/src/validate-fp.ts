/**
 * @bulwark/validate the fp-ts way: decode untrusted JSON into an `Either` whose error side is the tree
 * of every failing path, judge the value with data-quality rules as a `TaskEither`, and fold both
 * failures into one answer, with no exception anywhere.
 *
 * Run: pnpm --filter @bulwark/examples example src/validate-fp.ts
 */

import assert from 'node:assert/strict';

import {
  decode,
  formatPaths,
  isDataQualityError,
  judge,
  range,
  type DataQualityError,
  type DecodeFailure,
} from '@bulwark/validate';
import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';

const Price = t.type({ code: t.string, price: t.number });
type Price = t.TypeOf<typeof Price>;

const decodePrice = decode(Price, { maxDepth: 8 });
const believable = judge<Price>([range({ value: (p) => p.price, key: (p) => p.code, min: 0, max: 500 })]);

const describe = (failure: DecodeFailure | DataQualityError): string =>
  isDataQualityError(failure) ? `unbelievable: ${failure.reason}` : `invalid: ${formatPaths(failure).join('; ')}`;

/** From raw JSON text to a sentence, without a throw: parse, decode, judge, fold. */
const read = (json: string): Promise<string> =>
  pipe(
    TE.fromEither(decodePrice(JSON.parse(json))),
    TE.chainW(believable),
    TE.match(describe, (p) => `${p.code} at ${p.price}`),
  )();

const answers = await Promise.all([
  read('{"code":"BRENT_CRUDE_USD","price":72.5}'),
  read('{"code":"BRENT_CRUDE_USD","price":"72.5"}'),
  read('{"code":"BRENT_CRUDE_USD","price":7250}'),
  read('{"code":"X","price":1,"__proto__":{"admin":true}}'),
]);

assert.deepEqual(answers, [
  'BRENT_CRUDE_USD at 72.5',
  'invalid: $.price: expected number, got "72.5" (string)',
  'unbelievable: outside [0, 500]',
  'invalid: $.__proto__: expected no __proto__ key, got {admin: true} (object): a __proto__ key could replace the prototype of the decoded object',
]);
console.log(answers.join('\n'));
