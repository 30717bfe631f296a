/**
 * The input guard: one walk over an untrusted value before any codec sees it.
 *
 * io-ts decodes recursively, so a value nested deeply enough (or a cyclic one, under a recursive
 * codec) overflows the stack, and a huge one makes it collect an error per element. Some io-ts
 * combinators also copy objects by assignment, so an own `__proto__` key in the input becomes the
 * prototype of the decoded object. The walk stops at the first problem.
 *
 * It recurses, one frame per level of nesting, and never deeper than `maxDepth` (at most
 * {@link MAX_GUARD_DEPTH}), so it cannot overflow the stack itself; recursion with `for…in` is
 * several times faster than an explicit stack with `Object.keys` on the small values most calls see.
 *
 * Laws: for plain data (JSON, objects whose prototypes hold no enumerable keys) it reports a problem
 * exactly when the value nests deeper than `maxDepth` containers, holds more than `maxNodes` values,
 * or has an object with an own enumerable `__proto__` key; it visits each enumerable property of
 * each container at most once.
 *
 * @module
 */

/** The largest `maxDepth` accepted: the walk recurses once per level, so this bounds its stack. */
export const MAX_GUARD_DEPTH = 1000;

/** What the guard found wrong, and where. */
export interface GuardProblem {
  readonly kind: 'depth' | 'size' | 'proto-key';
  /** The keys from the root to the offending value (array indices as numbers). */
  readonly path: readonly (string | number)[];
  /** The offending value: the container too deep, the root for size, the object holding `__proto__`. */
  readonly actual: unknown;
}

/** Limits the guard enforces. */
export interface GuardLimits {
  readonly maxDepth: number;
  readonly maxNodes: number;
}

/** One walk's state: one small object per call, so that a getter re-entering a decode is harmless. */
interface Walk {
  nodesLeft: number;
  kind: GuardProblem['kind'] | undefined;
  actual: unknown;
  /** Filled on the way back out of a failed walk, innermost key first. */
  reversedPath: (string | number)[] | undefined;
}

/** Returns false at the first problem, recording it in `walk`. `value` is an object, not null. */
function visit(value: object, depthLeft: number, walk: Walk): boolean {
  if (Array.isArray(value)) {
    if (depthLeft === 0) return tooDeep(value, walk);
    if ((walk.nodesLeft -= value.length) < 0) return tooLarge(walk);
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i];
      if (typeof child === 'object' && child !== null && !visit(child, depthLeft - 1, walk)) {
        (walk.reversedPath ??= []).push(i);
        return false;
      }
    }
    return true;
  }
  // Byte buffers and dates are leaves: their indices or internals are not data a codec walks.
  if (ArrayBuffer.isView(value) || value instanceof Date) return true;
  if (depthLeft === 0) return tooDeep(value, walk);
  // for…in, not Object.keys: no array per object, and it is what io-ts's own copies iterate. It also
  // yields inherited enumerable keys (none on plain data); they are counted and walked too.
  for (const key in value) {
    if (key === '__proto__') {
      walk.kind = 'proto-key';
      walk.actual = value;
      return false;
    }
    if (--walk.nodesLeft < 0) return tooLarge(walk);
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && !visit(child, depthLeft - 1, walk)) {
      (walk.reversedPath ??= []).push(key);
      return false;
    }
  }
  return true;
}

function tooDeep(value: object, walk: Walk): false {
  walk.kind = 'depth';
  walk.actual = value;
  return false;
}

function tooLarge(walk: Walk): false {
  walk.kind = 'size';
  return false;
}

/**
 * Walks `input` and returns the first problem, or `undefined` when it is within the limits.
 * Depth counts containers: a primitive is at depth 0, `{ a: 1 }` has depth 1.
 */
export function inspectInput(input: unknown, limits: GuardLimits): GuardProblem | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const walk: Walk = { nodesLeft: limits.maxNodes - 1, kind: undefined, actual: undefined, reversedPath: undefined };
  if (visit(input, Math.min(limits.maxDepth, MAX_GUARD_DEPTH), walk)) return undefined;
  const kind = walk.kind as GuardProblem['kind'];
  return kind === 'size'
    ? { kind, path: [], actual: input }
    : { kind, path: (walk.reversedPath ?? []).reverse(), actual: walk.actual };
}
