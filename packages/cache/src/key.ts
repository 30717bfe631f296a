/**
 * The default cache key: a digest of the wrapped function's arguments.
 *
 * Arguments are written as canonical JSON (object keys sorted, trailing `undefined` arguments dropped,
 * others written as `undefined`, which no JSON text contains)
 * and hashed with SHA-256. So equal arguments give equal keys in every process (entries are shared
 * through Redis), different arguments give different keys, no argument (an API key, a user's email)
 * ever appears in a Redis key, an event or a log, and a key's length does not grow with its arguments.
 * Arguments that are not JSON data (a `Date`, a class instance, a function, an `AbortSignal`) have no
 * such form: the call fails with a `TypeError` asking for a `key` function.
 *
 * @module
 */

import { createHash } from 'node:crypto';

import { jsonDataProblem } from './entry.js';

function canonical(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonical(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    if (record[key] === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonical(record[key])}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * The canonical JSON of some arguments, or a `TypeError` naming the argument that has none.
 *
 * @throws TypeError - An argument is not JSON data.
 * @example
 * ```ts
 * assert.equal(canonicalArguments(['WTI', { b: 2, a: 1 }, undefined]), '["WTI",{"a":1,"b":2}]');
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function canonicalArguments(args: readonly unknown[]): string {
  let count = args.length;
  while (count > 0 && args[count - 1] === undefined) count--;
  let out = '[';
  for (let i = 0; i < count; i++) {
    if (args[i] === undefined) {
      // A skipped optional argument: a token no JSON text contains, so it cannot collide with `null`.
      out += i === 0 ? 'undefined' : ',undefined';
      continue;
    }
    const problem = jsonDataProblem(args[i]);
    if (problem !== undefined) {
      throw new TypeError(
        `@bulwark/cache: cannot make a cache key from argument ${i + 1}: ${problem.replace('$', `arguments[${i}]`)}; ` +
          'give the policy a `key` function',
      );
    }
    out += (i === 0 ? '' : ',') + canonical(args[i]);
  }
  return `${out}]`;
}

/**
 * The default key for a call: the SHA-256 of its arguments' canonical JSON, in base64url (43 characters).
 *
 * @throws TypeError - An argument is not JSON data; give the policy a `key` function.
 * @example
 * ```ts
 * assert.equal(argumentsKey(['WTI', { days: 7 }]), argumentsKey(['WTI', { days: 7 }]));
 * assert.notEqual(argumentsKey(['WTI']), argumentsKey(['BRENT']));
 * assert.equal(argumentsKey(['WTI']).length, 43);
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export function argumentsKey(args: readonly unknown[]): string {
  return createHash('sha256').update(canonicalArguments(args)).digest('base64url');
}
