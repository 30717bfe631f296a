/**
 * The cost of @bulwark/validate on the success path, against decoding by hand with io-ts in an
 * `async` wrapper (what a user writes without the policy): the policy as a gate, without its input
 * guard, with the oil-price rules (range, spikes on the memory store, freshness), and as a decorator
 * (spikes on an asynchronous Keyv store).
 */

import { freshness, maxChange, range, validate, type LastGood } from '@bulwark/validate';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import Keyv from 'keyv';

import { compare, compareAllocation, type Case, type Suite } from '../harness.js';

const LatestPrice = t.type({
  status: t.literal('success'),
  data: t.intersection([
    t.type({ code: t.string, price: t.number, created_at: t.string }),
    t.partial({ formatted: t.string, currency: t.union([t.string, t.null]), unit: t.string, source: t.string }),
  ]),
});
type LatestPrice = t.TypeOf<typeof LatestPrice>;

const response = {
  status: 'success',
  data: {
    price: 72.5,
    formatted: '$72.50',
    currency: 'USD',
    code: 'BRENT_CRUDE_USD',
    created_at: new Date().toISOString(),
    type: 'spot_price',
    unit: 'barrel',
    source: 'oilprice.business_insider',
  },
};
const task = async (): Promise<unknown> => response;

const rules = (store?: Keyv<LastGood>) => [
  range<LatestPrice>({
    value: (r) => r.data.price,
    key: (r) => r.data.code,
    min: 0,
    perKey: { BRENT_CRUDE_USD: { min: 10, max: 300 } },
  }),
  maxChange<LatestPrice>({
    value: (r) => r.data.price,
    key: (r) => r.data.code,
    maxRatio: 0.15,
    ...(store ? { store } : {}),
  }),
  freshness<LatestPrice>({ at: (r) => r.data.created_at, maxAgeMs: 7 * 86_400_000 }),
];

export const validateSuite: Suite = {
  name: 'validate',
  run: async (ctx) => {
    const byHand: Case = {
      name: 'io-ts decode by hand in an async wrapper',
      run: async () => {
        const decoded = LatestPrice.decode(await task());
        if (E.isLeft(decoded)) throw new Error('invalid');
        return decoded.right;
      },
    };
    const plain = validate(LatestPrice);
    const unguarded = validate(LatestPrice, { unsafeSkipInputGuard: true });
    const judged = validate(LatestPrice, { rules: rules() });
    const decorated = validate(LatestPrice, { rules: rules(new Keyv<LastGood>()) });
    const cases: Case[] = [
      { name: 'bare async call (no decoding)', run: task },
      { name: 'validate(codec).execute (gate)', run: () => plain.execute(task), target: '< 1.3x' },
      { name: 'validate(codec, unsafeSkipInputGuard).execute', run: () => unguarded.execute(task) },
      { name: 'validate(codec, 3 oil-price rules).execute (gate)', run: () => judged.execute(task), target: '< 1.6x' },
      { name: 'validate(codec, 3 rules, Keyv store).execute (decorator)', run: () => decorated.execute(task) },
    ];
    return [
      ...(await compare('validate', byHand, cases, ctx)),
      // A decode allocates a few kB: 5000 calls would fill the young generation and every sample would
      // be dropped for a collection, so memory is measured in the harness's short (500-call) mode.
      ...(await compareAllocation(
        'validate memory',
        byHand,
        cases.map(({ name, run }) => ({ name, run })),
        { ...ctx, quick: true },
      )),
    ];
  },
};
