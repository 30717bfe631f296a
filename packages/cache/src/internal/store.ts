/**
 * The store behind the cache: a Keyv of the cache's own over the adapter it was given, with every
 * operation bounded in time and every failure turned into a report instead of an exception.
 *
 * Failures come in two ways: an operation rejects (the Keyv here throws on errors), or the adapter
 * (`@keyv/redis` among them) emits an `error` event and answers as if the key were absent. Both reach
 * `report`, each error once: one the adapter reported is not reported again if it also rejects. A read
 * during which the adapter reported an error is taken as unreadable, not as absent, so the L1's copy
 * can stand in for the store's entry.
 *
 * @module
 */

import type { Clock } from '@bulwark/core';
import { Keyv, type DeserializedData, type KeyvStoreAdapter } from 'keyv';

import { decodeEntry, type Entry } from '../entry.js';

/** The store could not be read (it failed, or answered too late): not the same as "no entry". */
export const UNREADABLE: unique symbol = Symbol('unreadable');

/** What a read found: an entry, none (`undefined`), or nothing usable ({@link UNREADABLE}). */
export type ReadResult = Entry | undefined | typeof UNREADABLE;

/** How failures leave the store. */
export type StoreReport = (
  operation: 'get' | 'set' | 'delete' | 'clear' | 'decode' | 'store',
  error: unknown,
  key: string | undefined,
) => void;

/** Which namespace each adapter serves: a Keyv adapter holds one namespace at a time. */
const adapterNamespaces = new WeakMap<object, string>();

const NOT_A_RECORD = 'the stored record is not a Keyv record';

/** A stored record that parses but is not an object: corrupt, not a store failure. */
class CorruptRecord extends Error {}

/**
 * Reads a stored record back: a JSON object, whose fields the caller checks. Anything else is refused
 * here: Keyv reads `expires` off what this returns, and a `null` would throw a TypeError there that
 * would pass for the store failing.
 */
const parseRecord = <Value>(text: string): DeserializedData<Value> => {
  const record: unknown = JSON.parse(text);
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new CorruptRecord(NOT_A_RECORD);
  return record;
};

const isObject = (value: unknown): value is object =>
  (typeof value === 'object' && value !== null) || typeof value === 'function';

export interface StoreOptions {
  readonly adapter: KeyvStoreAdapter | Map<unknown, unknown>;
  readonly namespace: string;
  /** How long the store keeps an entry, in milliseconds; `Infinity` for no expiry. */
  readonly retainMs: number;
  /** How long an operation may take before it counts as failed, in milliseconds; `Infinity` for no bound. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly report: StoreReport;
}

export class Store {
  readonly keyv: Keyv;
  private readonly prefix: string;
  private readonly ttl: number | undefined;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly report: StoreReport;
  /** Errors the store reported through its event, so a rejection with the same error is not reported twice. */
  private readonly reported = new WeakSet<object>();
  /** Counts the store's own error reports: a read that saw it move cannot trust an "absent". */
  private storeErrors = 0;
  /** Operations that failed, in all. */
  failures = 0;
  /** Whether the last read or write failed. */
  failing = false;

  constructor(options: StoreOptions) {
    const { adapter, namespace } = options;
    const serving = adapterNamespaces.get(adapter);
    if (serving !== undefined && serving !== namespace) {
      throw new TypeError(
        `@bulwark/cache: this store adapter already serves the namespace ${JSON.stringify(serving)}; a Keyv adapter ` +
          `holds one namespace at a time, so give the namespace ${JSON.stringify(namespace)} an adapter of its own`,
      );
    }
    adapterNamespaces.set(adapter, namespace);
    // Keys are prefixed here (`namespace:key`), not by Keyv, whose prefixing leaves alone a key that
    // already starts with `namespace:` (so `a` and `ns:a` would meet). Keyv still tells the adapter its
    // namespace, which is what `clear()` deletes. Keyv's own error events are off: with
    // `throwOnErrors` its failures reject, which says which operation failed.
    // Plain JSON both ways: entries hold JSON data only, so @keyv/serialize's escapes (and the reviver
    // that makes its parsing several times slower) buy nothing here.
    this.keyv = new Keyv(adapter, {
      namespace,
      useKeyPrefix: false,
      throwOnErrors: true,
      emitErrors: false,
      stats: false,
      serialize: JSON.stringify,
      deserialize: parseRecord,
    });
    // What the adapter reports on its own (a dropped connection, a command it answered as "absent").
    const emitter = adapter as { on?: (event: string, listener: (error: unknown) => void) => unknown };
    if (typeof emitter.on === 'function' && !(adapter instanceof Map)) {
      emitter.on('error', (error: unknown) => {
        this.storeErrors++;
        if (isObject(error)) {
          // An adapter may hold several listeners on its client, so one failure can arrive more than once.
          if (this.reported.has(error)) return;
          this.reported.add(error);
        }
        this.failed();
        this.report('store', error, undefined);
      });
    }
    this.prefix = `${namespace}:`;
    this.ttl = Number.isFinite(options.retainMs) ? options.retainMs : undefined;
    this.timeoutMs = options.timeoutMs;
    this.clock = options.clock;
    this.report = options.report;
  }

  /** Reads `key`'s entry. Never rejects. */
  read(key: string): Promise<ReadResult> {
    const errorsBefore = this.storeErrors;
    return this.bounded(() => this.keyv.getRaw<unknown>(this.prefix + key)).then(
      (raw): ReadResult => {
        if (raw === undefined || raw === null) {
          if (this.storeErrors !== errorsBefore) return UNREADABLE;
          this.failing = false;
          return undefined;
        }
        this.failing = false;
        // Keyv's envelope: `{ value, expires }`, where `value` is the entry.
        const entry =
          typeof raw === 'object' && Object.hasOwn(raw, 'value')
            ? decodeEntry((raw as { value: unknown }).value)
            : NOT_A_RECORD;
        if (typeof entry !== 'string') return entry;
        this.corrupt(entry, key);
        return undefined;
      },
      (error: unknown): ReadResult => {
        // Text that does not parse, or is no record: the store works, the entry is garbage.
        if (error instanceof SyntaxError || error instanceof CorruptRecord) {
          this.corrupt(error instanceof CorruptRecord ? error.message : 'it is not JSON', key);
          return undefined;
        }
        this.fail('get', error, key);
        return UNREADABLE;
      },
    );
  }

  private corrupt(why: string, key: string): void {
    this.report('decode', new TypeError(`@bulwark/cache: the store's entry was not served: ${why}`), key);
  }

  /** Writes `key`'s entry. Never rejects: a failure is reported. */
  write(key: string, entry: Entry): Promise<void> {
    const errorsBefore = this.storeErrors;
    return this.bounded(() => this.keyv.set(this.prefix + key, entry, this.ttl)).then(
      () => {
        // An adapter that reported an error and answered anyway did not store anything.
        if (this.storeErrors === errorsBefore) this.failing = false;
      },
      (error: unknown) => this.fail('set', error, key),
    );
  }

  /** Deletes `key`'s entry; rejects (after reporting) when the store fails. */
  remove(key: string): Promise<void> {
    return this.bounded(() => this.keyv.delete(this.prefix + key)).then(
      () => undefined,
      (error: unknown) => {
        this.fail('delete', error, key);
        throw error;
      },
    );
  }

  /** Deletes every entry of the namespace; rejects (after reporting) when the store fails. */
  clear(): Promise<void> {
    return this.bounded(() => this.keyv.clear()).then(
      () => undefined,
      (error: unknown) => {
        this.fail('clear', error, undefined);
        throw error;
      },
    );
  }

  private failed(): void {
    this.failures++;
    this.failing = true;
  }

  private fail(operation: 'get' | 'set' | 'delete' | 'clear', error: unknown, key: string | undefined): void {
    if (isObject(error) && this.reported.has(error)) return;
    this.failed();
    this.report(operation, error, key);
  }

  /** Runs `operation`, failing it after `timeoutMs`; a late outcome is then ignored. */
  private bounded<T>(operation: () => Promise<T>): Promise<T> {
    let pending: Promise<T>;
    try {
      pending = operation();
    } catch (error) {
      return Promise.reject(error);
    }
    const timeoutMs = this.timeoutMs;
    if (timeoutMs === Infinity) return pending;
    const clock = this.clock;
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimer(
        () => reject(new Error(`@bulwark/cache: the store did not answer within ${timeoutMs} ms`)),
        timeoutMs,
        false,
      );
      pending.then(
        (value) => {
          clock.clearTimer(timer);
          resolve(value);
        },
        (error: unknown) => {
          clock.clearTimer(timer);
          reject(error);
        },
      );
    });
  }
}
