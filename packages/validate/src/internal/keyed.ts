/**
 * Per-key settings given as a plain object or a `Map`, turned into a `Map` once.
 *
 * Keys come from data (a commodity code in a response), so a lookup must never reach the object's
 * prototype: `perKey['constructor']` on a plain object is `Object`, not `undefined`. Only own
 * enumerable keys are copied, into a `Map`, which has no prototype keys to hit.
 *
 * @module
 */

/** Settings per key, as users write them. */
export type PerKey<S> = Readonly<Record<string, S>> | ReadonlyMap<string, S>;

/**
 * Copies `perKey` into a `Map`, checking each entry with `check(optionName, entry)`.
 *
 * @param optionName - The option's name in messages, e.g. `perKey`; entries are named `perKey.WTI_USD`.
 */
export function perKeyMap<S, T>(
  packageName: string,
  optionName: string,
  perKey: unknown,
  check: (name: string, entry: unknown) => T,
): ReadonlyMap<string, T> {
  const map = new Map<string, T>();
  if (perKey === undefined) return map;
  if (perKey instanceof Map) {
    for (const [key, entry] of perKey as Map<unknown, S>) {
      if (typeof key !== 'string')
        throw new TypeError(`${packageName}: expected the keys of \`${optionName}\` to be strings`);
      map.set(key, check(`${optionName}.${key}`, entry));
    }
    return map;
  }
  if (typeof perKey !== 'object' || perKey === null || Array.isArray(perKey)) {
    throw new TypeError(`${packageName}: expected \`${optionName}\` to be an object or a Map of settings per key`);
  }
  for (const key of Object.keys(perKey)) {
    map.set(key, check(`${optionName}.${key}`, (perKey as Record<string, unknown>)[key]));
  }
  return map;
}

/** Checks that a selector option is a function, or absent when `optional`. */
export function selector<F>(packageName: string, name: string, value: unknown, optional: boolean): F | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'function') {
    throw new TypeError(`${packageName}: expected \`${name}\` to be a function${optional ? '' : ' (it is required)'}`);
  }
  return value as F;
}
