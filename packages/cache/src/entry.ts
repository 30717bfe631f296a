/**
 * What the cache stores: JSON data and the time the origin produced it, and the checks that keep
 * anything else out, on the way in and on the way out.
 *
 * An entry is `{ t, v }`: `t` the time (on the policy's clock, in milliseconds) when the origin's call
 * succeeded, `v` its result. Only JSON data is stored (plain objects, arrays, strings, finite numbers,
 * booleans, `null`), so what a hit returns equals what the origin returned, and reading an entry can
 * neither run code nor reach a prototype. Whatever the store hands back is checked again before it is
 * served: a store is shared, and anything may have written to it.
 *
 * @module
 */

/**
 * A stored result and when the origin produced it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Entry {
  /** The origin's result: JSON data. */
  readonly v: unknown;
  /** When the origin's call succeeded, in milliseconds on the policy's clock. */
  readonly t: number;
}

/** Deeper data than this is refused: it is either a cycle or not a result anyone means to cache. */
const MAX_DEPTH = 256;

const describe = (value: unknown): string => {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value !== 'object' || value === null) return `a ${typeof value}`;
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  if (typeof name !== 'string' || name === '') return 'an object with a custom prototype';
  return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`;
};

const keySegment = (key: string | number): string =>
  typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;

/**
 * A problem found in a value: what is wrong, and where, as the path segments from the problem back up
 * to the root (built only once a problem is found, so the common case allocates nothing).
 */
class Problem {
  readonly segments: (string | number)[] = [];
  constructor(readonly what: string) {}
  at(root: string): string {
    let path = root;
    for (let i = this.segments.length - 1; i >= 0; i--) path += keySegment(this.segments[i] as string | number);
    return `${path} ${this.what}`;
  }
}

function problemIn(value: unknown, depth: number): Problem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : new Problem(`is ${describe(value)}`);
    case 'object': {
      if (value === null) return undefined;
      if (depth >= MAX_DEPTH) return new Problem(`is nested deeper than ${MAX_DEPTH} levels (or is a cycle)`);
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return new Problem(`is ${describe(value)}`);
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) {
            const hole = new Problem('is a hole in a sparse array');
            hole.segments.push(i);
            return hole;
          }
          const problem = problemIn(value[i], depth + 1);
          if (problem !== undefined) {
            problem.segments.push(i);
            return problem;
          }
        }
        return undefined;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return new Problem(`is ${describe(value)}, not a plain object`);
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        let problem: Problem | undefined;
        if (key === '__proto__') problem = new Problem('is a "__proto__" key');
        else {
          const field = (value as Record<string, unknown>)[key];
          // JSON drops undefined properties; the value read back has no such key, which is what it meant.
          if (field === undefined) continue;
          problem = problemIn(field, depth + 1);
        }
        if (problem !== undefined) {
          problem.segments.push(key);
          return problem;
        }
      }
      return undefined;
    }
    default:
      return new Problem(`is ${describe(value)}`);
  }
}

/**
 * Why `value` is not JSON data the cache can store and give back unchanged, or `undefined` when it is.
 *
 * JSON data: plain objects (no `__proto__` key), dense arrays, strings, finite numbers, booleans and
 * `null`; properties that are `undefined` are dropped, as `JSON.stringify` does, and `-0` comes back
 * as `0`. Anything else (a
 * `Date`, a `Map`, a class instance, `NaN`, a function, `undefined` itself) would come back changed.
 *
 * @returns A description naming where the problem is (`$.rows[3].at is a Date, not a plain object`),
 *   never the data itself.
 * @example
 * ```ts
 * assert.equal(jsonDataProblem({ price: 78.1, tags: ['brent'] }), undefined);
 * assert.equal(jsonDataProblem({ at: new Date(0) }), '$.at is a Date, not a plain object');
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export function jsonDataProblem(value: unknown): string | undefined {
  return problemIn(value, 0)?.at('$');
}

/**
 * Reads back an entry from whatever a store returned: the entry, or why it is not one.
 *
 * @example
 * ```ts
 * assert.deepEqual(decodeEntry({ t: 5, v: [1, 2] }), { t: 5, v: [1, 2] });
 * assert.equal(typeof decodeEntry('{"t":5}'), 'string');
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export function decodeEntry(raw: unknown): Entry | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `the entry is ${describe(raw)}`;
  const proto: unknown = Object.getPrototypeOf(raw);
  if (proto !== Object.prototype && proto !== null) return `the entry is ${describe(raw)}, not a plain object`;
  const keys = Object.keys(raw);
  if (keys.length !== 2 || !Object.hasOwn(raw, 't') || !Object.hasOwn(raw, 'v')) {
    return 'the entry does not have exactly the fields `t` and `v`';
  }
  const { t, v } = raw as { t: unknown; v: unknown };
  if (typeof t !== 'number' || !Number.isFinite(t)) return `the entry's time \`t\` is ${describe(t)}`;
  const problem = problemIn(v, 0);
  return problem === undefined ? (raw as Entry) : `the entry's value is not JSON data: ${problem.at('$.v')}`;
}
