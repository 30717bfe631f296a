/**
 * The input guard: one iterative walk over an untrusted value before any codec sees it.
 *
 * io-ts decodes recursively, so a value nested deeply enough (or a cyclic one, under a recursive
 * codec) overflows the stack, and a huge one makes it collect an error per element. Some io-ts
 * combinators also copy objects by assignment, so an own `__proto__` key in the input becomes the
 * prototype of the decoded object. The walk uses an explicit stack, so no input can overflow it, and
 * it stops at the first problem.
 *
 * Laws: the walk visits every own enumerable property of every plain container at most once before
 * it stops; it reports a problem exactly when the value nests deeper than `maxDepth` containers, holds
 * more than `maxNodes` values, or has a container with an own `__proto__` key.
 *
 * @module
 */

/** What the guard found wrong, and where. */
export interface GuardProblem {
  readonly kind: 'depth' | 'size' | 'proto-key';
  /** The keys from the root to the offending value (array indices as numbers). */
  readonly path: readonly (string | number)[];
  /** The offending value: the container too deep, the root for size, the container holding `__proto__`. */
  readonly actual: unknown;
}

/** Limits the guard enforces. */
export interface GuardLimits {
  readonly maxDepth: number;
  readonly maxNodes: number;
}

/** Whether the walk descends into `value`: arrays and objects, but not byte buffers or dates. */
function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !(value instanceof Date);
}

/**
 * Walks `input` and returns the first problem, or `undefined` when it is within the limits.
 * Depth counts containers: a primitive is at depth 0, `{ a: 1 }` has depth 1.
 */
export function inspectInput(input: unknown, limits: GuardLimits): GuardProblem | undefined {
  const { maxDepth, maxNodes } = limits;
  if (!isContainer(input)) return undefined;
  // The stack of containers being walked: its length is the current depth. Parallel arrays keep the
  // walk to a few allocations however large the input.
  const containers: object[] = [];
  const keyLists: (string[] | undefined)[] = [];
  const positions: number[] = [];
  let nodes = 1;

  const enter = (container: object): GuardProblem | undefined => {
    if (containers.length + 1 > maxDepth) return problem('depth', container);
    if (Object.hasOwn(container, '__proto__')) return problem('proto-key', container);
    containers.push(container);
    keyLists.push(Array.isArray(container) ? undefined : Object.keys(container));
    positions.push(0);
    return undefined;
  };
  const problem = (kind: GuardProblem['kind'], actual: unknown): GuardProblem => ({
    kind,
    path: pathOf(containers, keyLists, positions),
    actual,
  });

  const first = enter(input);
  if (first !== undefined) return first;
  while (containers.length > 0) {
    const top = containers.length - 1;
    const container = containers[top] as object;
    const keys = keyLists[top];
    const position = positions[top] as number;
    const length = keys === undefined ? (container as unknown[]).length : keys.length;
    if (position >= length) {
      containers.pop();
      keyLists.pop();
      positions.pop();
      continue;
    }
    positions[top] = position + 1;
    if (++nodes > maxNodes) return { kind: 'size', path: [], actual: input };
    const child =
      keys === undefined
        ? (container as unknown[])[position]
        : (container as Record<string, unknown>)[keys[position] as string];
    if (isContainer(child)) {
      const found = enter(child);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The keys leading to the child being entered: each frame's current key (its position minus one). */
function pathOf(
  containers: readonly object[],
  keyLists: readonly (string[] | undefined)[],
  positions: readonly number[],
): (string | number)[] {
  const path: (string | number)[] = [];
  for (let i = 0; i < containers.length; i++) {
    const index = (positions[i] as number) - 1;
    const keys = keyLists[i];
    path.push(keys === undefined ? index : (keys[index] as string));
  }
  return path;
}
