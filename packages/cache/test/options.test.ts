import { describe, expect, it } from '@jest/globals';
import { invalidOptionValue } from '@bulwark/testkit';
import fc from 'fast-check';
import { Keyv } from 'keyv';

import { cache, type CacheOptions } from '../src/index.js';
import { FlakyAdapter } from './helpers.js';

const expectRejected = (options: unknown, name: string): void => {
  let error: unknown;
  try {
    cache(options as CacheOptions);
  } catch (e) {
    error = e;
  }
  expect(error instanceof TypeError || error instanceof RangeError).toBe(true);
  expect((error as Error).message).toContain(`\`${name}\``);
  expect((error as Error).message).toMatch(/^@bulwark\/cache: /);
};

describe('options', () => {
  it('has the oil-price defaults: fresh for 5 minutes, stale up to an hour on errors', () => {
    const policy = cache();
    expect(policy.name).toBe('cache');
    expect(policy.namespace).toBe('cache');
    expect(policy.kind).toBe('cache');
    expect(cache({ name: 'prices' }).namespace).toBe('prices');
  });

  it.each(['ttlMs', 'staleWhileRevalidateMs', 'maxStaleAgeMs', 'retainMs', 'storeTimeoutMs'])(
    'rejects a bad `%s`, naming it',
    (name) => {
      fc.assert(
        fc.property(
          invalidOptionValue('non-negative-number').filter((v) => v !== Infinity),
          (value) => expectRejected({ [name]: value }, name),
        ),
      );
    },
  );

  it('rejects a bad `l1.maxEntries` and `l1.ttlMs`', () => {
    fc.assert(
      fc.property(invalidOptionValue('positive-integer'), (value) =>
        expectRejected({ l1: { maxEntries: value } }, 'l1.maxEntries'),
      ),
    );
    // lru-cache allocates its arrays for `max` entries up front: 2 ** 24 took 270 MB at construction,
    // 2 ** 32 threw a bare RangeError.
    expectRejected({ l1: { maxEntries: 1_000_001 } }, 'l1.maxEntries');
    expectRejected({ l1: { maxEntries: 2 ** 32 } }, 'l1.maxEntries');
    expect(() => cache({ l1: { maxEntries: 1_000_000 } })).not.toThrow();
    expectRejected({ l1: { ttlMs: -1 } }, 'l1.ttlMs');
    expectRejected({ l1: 'yes' }, 'l1');
  });

  it('rejects a `key` or `staleIfError` that is not a function', () => {
    fc.assert(
      fc.property(invalidOptionValue('function'), (value) => {
        expectRejected({ key: value }, 'key');
        if (typeof value !== 'boolean') expectRejected({ staleIfError: value }, 'staleIfError');
      }),
    );
  });

  it('rejects a `retainMs` shorter than the oldest age an entry can be served at', () => {
    expectRejected({ ttlMs: 1000, maxStaleAgeMs: 5000, retainMs: 4999 }, 'retainMs');
    expectRejected({ ttlMs: 1000, staleIfError: false, retainMs: 999 }, 'retainMs');
    expect(() => cache({ ttlMs: 1000, staleIfError: false, retainMs: 1000 })).not.toThrow();
  });

  it('rejects a cache that could never serve an entry', () => {
    expectRejected({ ttlMs: 0, staleIfError: false }, 'ttlMs');
  });

  it('rejects an empty namespace and a name that is not a string', () => {
    expectRejected({ namespace: '' }, 'namespace');
    expectRejected({ name: 7 }, 'name');
    expectRejected({ name: '' }, 'name');
  });

  it('rejects a Keyv where a storage adapter is expected, and things that are neither', () => {
    expect(() => cache({ store: new Keyv() as never })).toThrow(/pass its adapter/);
    expectRejected({ store: {} }, 'store');
    expectRejected({ store: 'redis://localhost' }, 'store');
  });

  it('rejects one adapter for two namespaces (an adapter holds one), and allows it for one', () => {
    const adapter = new FlakyAdapter();
    cache({ store: adapter, namespace: 'a' });
    expect(() => cache({ store: adapter, namespace: 'a' })).not.toThrow();
    expect(() => cache({ store: adapter, namespace: 'b' })).toThrow(/already serves the namespace "a"/);
  });

  it('rejects a clock without now()', () => {
    expectRejected({ clock: {} }, 'clock.now');
  });

  it('rejects a clock without timers when store operations are timed, and accepts it when none is', () => {
    const now = (): number => 0;
    expectRejected({ store: new Map(), clock: { now } }, 'clock.setTimer');
    expectRejected({ store: new Map(), clock: { now, setTimer: () => 0 } }, 'clock.clearTimer');
    // The default in-process store, or an unbounded storeTimeoutMs, sets no timer.
    expect(() => cache({ clock: { now } as never })).not.toThrow();
    expect(() => cache({ store: new Map(), storeTimeoutMs: Infinity, clock: { now } as never })).not.toThrow();
  });

  it('rejects options that are not an object', () => {
    expectRejected(42, 'options');
  });
});
