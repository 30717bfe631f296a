import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { decodeEntry, jsonDataProblem } from '../src/entry.js';

// JSON values, less the own "__proto__" keys the cache refuses on purpose (tested on their own below),
// and with -0 written as 0 (JSON has no -0: it is the one number that comes back changed).
const jsonData = fc
  .jsonValue()
  .filter((value) => !JSON.stringify(value).includes('"__proto__"'))
  .map((value) => JSON.parse(JSON.stringify(value)) as unknown);

describe('jsonDataProblem', () => {
  it('accepts JSON data, and JSON data survives a round trip unchanged', () => {
    fc.assert(
      fc.property(jsonData, (value) => {
        expect(jsonDataProblem(value)).toBeUndefined();
        expect(JSON.parse(JSON.stringify(value))).toEqual(value);
      }),
    );
  });

  it.each([
    ['a Date', { at: new Date(0) }, '$.at is a Date, not a plain object'],
    ['a Map', [new Map()], '$[0] is a Map, not a plain object'],
    ['NaN', { n: Number.NaN }, '$.n is NaN'],
    ['Infinity', [1, Infinity], '$[1] is Infinity'],
    ['a function', { f: () => 1 }, '$.f is a function'],
    ['undefined', undefined, '$ is undefined'],
    ['a bigint', { n: 1n }, '$.n is a bigint'],
    ['a symbol', [Symbol('s')], '$[0] is a symbol'],
    ['a class instance', { x: new (class Price {})() }, '$.x is a Price, not a plain object'],
    ['a sparse array', { a: [1, , 3] }, '$.a[1] is a hole in a sparse array'], // eslint-disable-line no-sparse-arrays
    ['a Buffer', { b: Buffer.from('x') }, '$.b is a Buffer, not a plain object'],
    ['an odd key', { 'a b': { c: NaN } }, '$["a b"].c is NaN'],
  ])('refuses %s, saying where', (_, value, problem) => {
    expect(jsonDataProblem(value)).toBe(problem);
  });

  it('refuses an own "__proto__" key, such as JSON.parse makes', () => {
    expect(jsonDataProblem(JSON.parse('{"a":{"__proto__":{"polluted":true}}}'))).toBe(
      '$.a.__proto__ is a "__proto__" key',
    );
  });

  it('refuses cycles and absurd depth without overflowing the stack', () => {
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(jsonDataProblem(cycle)).toMatch(/nested deeper than 256 levels/);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDataProblem(deep)).toMatch(/nested deeper/);
  });

  it('drops undefined properties, as JSON does', () => {
    expect(jsonDataProblem({ a: 1, b: undefined })).toBeUndefined();
  });
});

describe('decodeEntry', () => {
  it('reads back what was stored', () => {
    fc.assert(
      fc.property(jsonData, fc.integer(), (v, t) => {
        const raw: unknown = JSON.parse(JSON.stringify({ t, v }));
        expect(decodeEntry(raw)).toEqual({ t, v });
      }),
    );
  });

  it.each([
    ['a string', 'x'],
    ['null', null],
    ['an array', [1, 2]],
    ['no value', { t: 1 }],
    ['an extra field', { t: 1, v: 2, x: 3 }],
    ['a string time', { t: '1', v: 2 }],
    ['a non-finite time', { t: Infinity, v: 2 }],
    ['a Buffer value (what @keyv/serialize revives from ":base64:" text)', { t: 1, v: Buffer.from('x') }],
    ['a "__proto__" key in the value', JSON.parse('{"t":1,"v":{"__proto__":{"polluted":true}}}') as unknown],
  ])('refuses %s', (_, raw) => {
    expect(typeof decodeEntry(raw)).toBe('string');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
