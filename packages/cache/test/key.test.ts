import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { argumentsKey, canonicalArguments } from '../src/key.js';

// JSON values, less the own "__proto__" keys the cache refuses on purpose.
const jsonData = fc.jsonValue().filter((value) => !JSON.stringify(value).includes('"__proto__"'));

describe('argumentsKey', () => {
  it('gives equal arguments equal keys, whatever the order of object keys', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((k) => k !== '__proto__'),
          jsonData,
        ),
        (record) => {
          const reversed = Object.fromEntries(Object.entries(record).reverse());
          expect(argumentsKey([record])).toBe(argumentsKey([reversed]));
        },
      ),
    );
  });

  it('gives different arguments different keys', () => {
    fc.assert(
      fc.property(fc.array(jsonData, { maxLength: 3 }), fc.array(jsonData, { maxLength: 3 }), (a, b) => {
        fc.pre(canonicalArguments(a) !== canonicalArguments(b));
        expect(argumentsKey(a)).not.toBe(argumentsKey(b));
      }),
    );
  });

  it('keeps a skipped argument apart from null, and drops trailing undefined ones', () => {
    expect(canonicalArguments([undefined, 'x'])).toBe('[undefined,"x"]');
    expect(canonicalArguments([null, 'x'])).toBe('[null,"x"]');
    expect(argumentsKey(['a', undefined])).toBe(argumentsKey(['a']));
  });

  it('never shows the arguments: a fixed-length digest', () => {
    const key = argumentsKey(['sk_live_secret', { email: 'someone@example.com' }]);
    expect(key).toHaveLength(43);
    expect(key).not.toMatch(/secret|example/);
  });

  it('refuses arguments that are not JSON data, naming the argument and asking for a key function', () => {
    expect(() => argumentsKey(['WTI', new AbortController().signal])).toThrow(
      /cannot make a cache key from argument 2: arguments\[1\] is an AbortSignal.*give the policy a `key` function/,
    );
    expect(() => argumentsKey([{ at: new Date(0) }])).toThrow(TypeError);
  });
});
