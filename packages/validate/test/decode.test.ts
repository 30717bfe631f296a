import { describe, expect, it } from '@jest/globals';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';

import { decode, failures, formatPaths, formatTree, type DecodeFailure } from '../src/index.js';

import { NumberFromString } from './codecs.js';

const leftOf = <A>(result: E.Either<DecodeFailure, A>): DecodeFailure => {
  if (E.isRight(result)) throw new Error(`expected a Left, got ${JSON.stringify(result.right)}`);
  return result.left;
};

const Latest = t.type({
  status: t.literal('success'),
  data: t.intersection([
    t.type({ price: t.number, code: t.string }),
    t.partial({ currency: t.union([t.string, t.null]), tags: t.array(t.string), extra: t.record(t.string, t.number) }),
  ]),
});

describe('decode', () => {
  it('returns what io-ts returns for a valid value (the same reference when nothing changed)', () => {
    const input = { status: 'success', data: { price: 72.5, code: 'BRENT_CRUDE_USD' } };
    const result = decode(Latest)(input);
    expect(E.isRight(result) && result.right).toBe(input);
    expect(decode(t.type({ n: NumberFromString }))({ n: '4' })).toEqual(E.right({ n: 4 }));
  });

  it('folds every failing path into a tree: properties, intersection and union members, indices, record keys', () => {
    const failure = leftOf(
      decode(Latest)({
        status: 'ok',
        data: { price: '72.5', code: 5, currency: 3, tags: ['a', 2], extra: { 'x y': 'no' } },
      }),
    );
    expect(failure.reason).toBe('invalid');
    expect(failure.count).toBe(7);
    expect(failure.errors).toHaveLength(7);
    expect(failures(failure).map((n) => [n.path, n.expected])).toEqual([
      ['$.status', '"success"'],
      ['$.data.price', 'number'],
      ['$.data.code', 'string'],
      ['$.data.currency', 'string'],
      ['$.data.currency', 'null'],
      ['$.data.tags[1]', 'string'],
      ['$.data.extra["x y"]', 'number'],
    ]);
    const data = failure.children[1] as DecodeFailure['children'][number];
    expect(data.step).toBe('property');
    expect(data.children.map((c) => [c.step, c.key])).toEqual([
      ['member', '0'],
      ['member', '1'],
    ]);
    expect(formatTree(failure)).toBe(
      [
        '$: 7 problems',
        '├─ status: expected "success", got "ok" (string)',
        '└─ data',
        '   ├─ member 0',
        '   │  ├─ price: expected number, got "72.5" (string)',
        '   │  └─ code: expected string, got 5 (number)',
        '   └─ member 1',
        '      ├─ currency: no member of (string | null) matched 3 (number)',
        '      │  ├─ member 0: expected string, got 3 (number)',
        '      │  └─ member 1: expected null, got 3 (number)',
        '      ├─ tags',
        '      │  └─ [1]: expected string, got 2 (number)',
        '      └─ extra',
        '         └─ "x y": expected number, got "no" (string)',
      ].join('\n'),
    );
  });

  it("keeps io-ts's own errors, so its reporters still work", () => {
    const failure = leftOf(decode(t.type({ a: t.string }))({ a: 1 }));
    expect(PathReporter.report(E.left(failure.errors))).toEqual([
      'Invalid value 1 supplied to : { a: string }/a: string',
    ]);
  });

  it('drops record keys the key codec rejects, as io-ts does (they are not failures)', () => {
    const Upper = t.refinement(t.string, (s) => s === s.toUpperCase(), 'Upper');
    expect(decode(t.record(Upper, t.number))({ OK: 1, bad: 2 })).toEqual(E.right({ OK: 1 }));
  });

  it('keeps a failure at the root as the root itself', () => {
    const failure = leftOf(decode(t.type({ a: t.string }))('nope'));
    expect(failure.failed).toBe(true);
    expect(failure.children).toEqual([]);
    expect(formatPaths(failure)).toEqual(['$: expected { a: string }, got "nope" (string)']);
    expect(formatTree(failure)).toBe('$: expected { a: string }, got "nope" (string)');
  });

  it('turns a codec that throws into a failure, never an exception', () => {
    const Throwing = new t.Type<never, never, unknown>(
      'Throwing',
      (_: unknown): _ is never => false,
      () => {
        throw new Error('boom');
      },
      (a) => a,
    );
    const failure = leftOf(decode(Throwing)(1));
    expect(failure.reason).toBe('codec-threw');
    expect(failure.message).toBe('the codec threw Error: boom');
  });
});

describe('decode: untrusted input', () => {
  it('rejects an own __proto__ key anywhere, so no decoded object gets an attacker-chosen prototype', () => {
    const Prices = t.record(t.string, t.union([NumberFromString, t.type({})]));
    const input: unknown = JSON.parse('{"a":"1","nested":{"__proto__":{"isAdmin":true}}}');
    // What io-ts alone does: the record is rebuilt by assignment and `__proto__` sets its prototype.
    const bare = Prices.decode(JSON.parse('{"a":"1","__proto__":{"isAdmin":true}}'));
    expect(E.isRight(bare) && (bare.right as Record<string, unknown>)['isAdmin']).toBe(true);

    const failure = leftOf(decode(Prices)(input));
    expect(failure.reason).toBe('proto-key');
    expect(failures(failure).map((n) => n.path)).toEqual(['$.nested.__proto__']);
    expect(formatPaths(failure)[0]).toBe(
      '$.nested.__proto__: expected no __proto__ key, got {isAdmin: true} (object): a __proto__ key could replace the prototype of the decoded object',
    );
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
    const atRoot = leftOf(decode(Prices)(JSON.parse('{"__proto__":{"isAdmin":true}}')));
    expect(failures(atRoot).map((n) => n.path)).toEqual(['$.__proto__']);
  });

  it('lets constructor and prototype keys through as plain data, polluting nothing', () => {
    const Loose = t.record(t.string, t.union([NumberFromString, t.record(t.string, t.unknown)]));
    const input: unknown = JSON.parse('{"constructor":{"prototype":{"polluted":true}},"prototype":"1","toString":"2"}');
    const result = decode(Loose)(input);
    if (E.isLeft(result)) throw new Error(formatTree(result.left));
    const decoded = result.right as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(decoded['prototype']).toBe(1);
    expect(decoded['toString']).toBe(2);
    expect(Object.keys(decoded).sort()).toEqual(['constructor', 'prototype', 'toString']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('fails a deeply nested input with a clear error instead of exhausting the stack', () => {
    type Tree = { readonly child?: Tree };
    const TreeC: t.Type<Tree> = t.recursion('Tree', () => t.partial({ child: TreeC }));
    let deep: Tree = {};
    for (let i = 0; i < 200_000; i++) deep = { child: deep };
    // io-ts alone runs out of stack on this input.
    expect(() => TreeC.decode(deep)).toThrow(RangeError);

    const failure = leftOf(decode(TreeC)(deep));
    expect(failure.reason).toBe('too-deep');
    const [leaf] = failures(failure);
    expect(leaf?.path).toBe(`$${'.child'.repeat(64)}`);
    expect(leaf?.message).toBe('nested deeper than 64 levels (maxDepth)');
    expect(formatTree(failure).split('\n').length).toBeLessThanOrEqual(22);
    expect(E.isRight(decode(TreeC, { maxDepth: 1000 })(deepTree(999)))).toBe(true);
  });

  it('fails a cyclic input on the depth limit', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(leftOf(decode(t.UnknownRecord)(cyclic)).reason).toBe('too-deep');
  });

  it('fails an input with more values than maxNodes before the codec sees it', () => {
    let seen = 0;
    const Counting = new t.Type<number, number, unknown>(
      'Counting',
      (u): u is number => typeof u === 'number',
      (u, c) => (seen++, typeof u === 'number' ? t.success(u) : t.failure(u, c)),
      (a) => a,
    );
    const huge = Array.from({ length: 10_001 }, (_, i) => i);
    const failure = leftOf(decode(t.array(Counting), { maxNodes: 10_000 })(huge));
    expect(failure.reason).toBe('too-large');
    expect(failure.message).toBe('holds more than 10000 values (maxNodes)');
    expect(seen).toBe(0);
    expect(E.isRight(decode(t.array(Counting), { maxNodes: 10_002 })(huge))).toBe(true);
    expect(formatPaths(failure)[0]?.length).toBeLessThan(200);
  });

  it('checks nothing with unsafeSkipInputGuard, and still never throws', () => {
    const Prices = t.record(t.string, t.union([NumberFromString, t.type({})]));
    const input: unknown = JSON.parse('{"a":"1","__proto__":{"isAdmin":true}}');
    expect(E.isRight(decode(Prices, { unsafeSkipInputGuard: true })(input))).toBe(true);
    type Tree = { readonly child?: Tree };
    const TreeC: t.Type<Tree> = t.recursion('Tree', () => t.partial({ child: TreeC }));
    const failure = leftOf(decode(TreeC, { unsafeSkipInputGuard: true })(deepTree(200_000)));
    expect(failure.reason).toBe('codec-threw');
    expect(failure.message).toBe('the codec ran out of stack (is the input nested too deeply?)');
  });

  it('rejects bad options at once, naming them', () => {
    expect(() => decode(t.string, { maxDepth: 0 })).toThrow(
      new RangeError('@bulwark/validate: expected `maxDepth` to be an integer in [1, 1000], got 0 (number)'),
    );
    expect(() => decode(t.string, { maxDepth: 1001 })).toThrow(/`maxDepth` to be an integer in \[1, 1000\]/);
    expect(() => decode(t.string, { maxNodes: 1.5 })).toThrow(/`maxNodes` to be an integer >= 1 or Infinity/);
    expect(() => decode(t.string, { maxNodes: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => decode({} as t.Decoder<unknown, string>)).toThrow(/expected `codec` to be an io-ts codec/);
    expect(() => decode(t.string, { unsafeSkipInputGuard: 'yes' as unknown as boolean })).toThrow(TypeError);
  });
});

function deepTree(levels: number): unknown {
  let deep: unknown = {};
  for (let i = 1; i < levels; i++) deep = { child: deep };
  return deep;
}
