/**
 * Decode failures as data: io-ts's flat list of errors folded into a tree of every failing path,
 * and two renderers for people.
 *
 * io-ts reports each failure with its context: the chain of (key, codec, value) entries from the
 * root to the value that failed. Chains share prefixes, so they fold into a tree whose nodes are the
 * entries: a property or array index, or a member of a union or intersection (same data, another
 * codec). A node is `failed` when some error's chain ends there.
 *
 * Laws: the failed nodes are exactly the ends of the io-ts errors' chains (so their paths are the
 * data paths of the errors); the renderers' output is bounded by their options, whatever the size of
 * the input or of the tree.
 *
 * @module
 */

import type * as t from 'io-ts';

import { describeActual, renderKey } from './internal/preview.js';

/**
 * How a node relates to its parent: the root; a property or array index of the parent's value; or a
 * member of a union or intersection (the same value, tried against another codec).
 *
 * @category models
 * @since 0.1.0
 */
export type TreeStep = 'root' | 'property' | 'member';

/**
 * One node of a decode failure: where it is, what was expected and what was there.
 *
 * @category models
 * @since 0.1.0
 */
export interface ValidationTree {
  /** How this node relates to its parent. */
  readonly step: TreeStep;
  /** The property name, array index or member index that leads here; `''` at the root. */
  readonly key: string;
  /**
   * The data path from the root, JSONPath-like: `$`, `$.data.price`, `$.prices[3]`, `$["odd key"]`.
   * Members share their parent's path: they are the same value.
   */
  readonly path: string;
  /** The name of the codec the value was checked against here. */
  readonly expected: string;
  /** The codec itself. */
  readonly decoder: t.Decoder<unknown, unknown>;
  /** The value found here (the raw input, never copied: render it with a bound). */
  readonly actual: unknown;
  /** Whether a failure ends here (a leaf, unless a custom codec also failed below it). */
  readonly failed: boolean;
  /** The codec's own message for a failure here, if it gave one. */
  readonly message: string | undefined;
  /** The nodes below this one, in the order io-ts reported them. */
  readonly children: readonly ValidationTree[];
}

/**
 * Why decoding failed: the codec rejected the value, the input guard stopped it before the codec
 * saw it, or the codec threw.
 *
 * @category models
 * @since 0.1.0
 */
export type DecodeFailureReason = 'invalid' | 'too-deep' | 'too-large' | 'proto-key' | 'codec-threw';

/**
 * The error side of a decode: the root of the tree of every failing path, with io-ts's own errors
 * (for its reporters) and why it failed.
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * import * as E from 'fp-ts/lib/Either.js';
 * const result = decode(t.type({ price: t.number }))({ price: '72.5' });
 * assert.ok(E.isLeft(result));
 * assert.equal(result.left.count, 1);
 * assert.equal(result.left.children[0]?.path, '$.price');
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface DecodeFailure extends ValidationTree {
  readonly step: 'root';
  /** Why decoding failed. */
  readonly reason: DecodeFailureReason;
  /** How many failures the tree holds (failed nodes, counted once per io-ts error). */
  readonly count: number;
  /** io-ts's errors, as its `decode` returned them (or made up for a guard failure): feed them to `PathReporter`. */
  readonly errors: t.Errors;
}

interface Building {
  step: TreeStep;
  key: string;
  path: string;
  expected: string;
  decoder: t.Decoder<unknown, unknown>;
  actual: unknown;
  failed: boolean;
  message: string | undefined;
  children: Building[];
}

/** io-ts's `_tag` of a codec, when it has one (every built-in combinator does). */
const tagOf = (decoder: t.Decoder<unknown, unknown>): string | undefined =>
  (decoder as { readonly _tag?: unknown })._tag as string | undefined;

function stepOf(parent: t.ContextEntry): TreeStep {
  const tag = tagOf(parent.type);
  return tag === 'UnionType' || tag === 'IntersectionType' ? 'member' : 'property';
}

const INDEX = /^(0|[1-9]\d*)$/;

function childPath(parentPath: string, parentActual: unknown, step: TreeStep, key: string): string {
  if (step === 'member') return parentPath;
  if (Array.isArray(parentActual) && INDEX.test(key)) return `${parentPath}[${key}]`;
  const rendered = renderKey(key, 40);
  return rendered.startsWith('"') ? `${parentPath}[${rendered}]` : `${parentPath}.${rendered}`;
}

function node(step: TreeStep, entry: t.ContextEntry, path: string): Building {
  return {
    step,
    key: entry.key,
    path,
    expected: entry.type.name,
    decoder: entry.type,
    actual: entry.actual,
    failed: false,
    message: undefined,
    children: [],
  };
}

/**
 * Folds io-ts errors into the tree of every failing path.
 *
 * @param errors - What `codec.decode` returned on its left side (at least one error).
 * @param reason - Why decoding failed; `'invalid'` for a codec's own rejection.
 */
export function failureOf(
  codec: t.Decoder<unknown, unknown>,
  input: unknown,
  errors: t.Errors,
  reason: DecodeFailureReason = 'invalid',
): DecodeFailure {
  const root = node('root', { key: '', type: codec, actual: input }, '$');
  // Children are found by step, key and codec: entries with the same key but another codec (a
  // custom combinator may make them) stay apart.
  const index = new Map<Building, Map<string, Building[]>>();
  for (const error of errors) {
    let current = root;
    const context = error.context;
    for (let i = 1; i < context.length; i++) {
      const entry = context[i] as t.ContextEntry;
      const step = stepOf(context[i - 1] as t.ContextEntry);
      let byKey = index.get(current);
      if (byKey === undefined) index.set(current, (byKey = new Map<string, Building[]>()));
      const slot = `${step}:${entry.key}`;
      let candidates = byKey.get(slot);
      if (candidates === undefined) byKey.set(slot, (candidates = []));
      let next = candidates.find((c) => c.decoder === entry.type);
      if (next === undefined) {
        next = node(step, entry, childPath(current.path, current.actual, step, entry.key));
        candidates.push(next);
        current.children.push(next);
      }
      current = next;
    }
    current.failed = true;
    if (error.message !== undefined && current.message === undefined) current.message = error.message;
  }
  return Object.assign(root, { step: 'root' as const, reason, count: errors.length, errors });
}

/**
 * Every failed node of a tree, depth first in the order io-ts reported them.
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * import * as E from 'fp-ts/lib/Either.js';
 * const result = decode(t.type({ a: t.string, b: t.number }))({ a: 1, b: 'x' });
 * assert.ok(E.isLeft(result));
 * assert.deepEqual(failures(result.left).map((n) => n.path), ['$.a', '$.b']);
 * ```
 *
 * @category destructors
 * @since 0.1.0
 */
export function failures(tree: ValidationTree): ValidationTree[] {
  const found: ValidationTree[] = [];
  const stack: ValidationTree[] = [tree];
  while (stack.length > 0) {
    const current = stack.pop() as ValidationTree;
    if (current.failed) found.push(current);
    for (let i = current.children.length - 1; i >= 0; i--) stack.push(current.children[i] as ValidationTree);
  }
  return found;
}

/**
 * Bounds for the renderers.
 *
 * @category models
 * @since 0.1.0
 */
export interface RenderOptions {
  /**
   * Characters of each rendered value before it is cut with `…`.
   * @default 60
   */
  readonly maxValueLength?: number;
  /**
   * Characters of each codec name before it is cut with `…` (io-ts names spell out whole structures).
   * @default 80
   */
  readonly maxTypeLength?: number;
  /**
   * Lines rendered before the rest are summarised as `… and N more`.
   * @default 20
   */
  readonly maxLines?: number;
}

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

function problem(node: ValidationTree, maxValue: number, maxType: number): string {
  const base = `expected ${cut(node.expected, maxType)}, got ${describeActual(node.actual, maxValue)}`;
  return node.message !== undefined ? `${base}: ${cut(node.message, 200)}` : base;
}

/**
 * One line per failure: its data path, what was expected, what was there (cut short).
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * import * as E from 'fp-ts/lib/Either.js';
 * const result = decode(t.type({ price: t.number }))({ price: '72.5' });
 * assert.ok(E.isLeft(result));
 * assert.deepEqual(formatPaths(result.left), ['$.price: expected number, got "72.5" (string)']);
 * ```
 *
 * @category destructors
 * @since 0.1.0
 */
export function formatPaths(tree: ValidationTree, options: RenderOptions = {}): string[] {
  const { maxValueLength = 60, maxTypeLength = 80, maxLines = 20 } = options;
  const lines: string[] = [];
  let total = 0;
  for (const failed of failures(tree)) {
    total++;
    if (lines.length < maxLines) lines.push(`${failed.path}: ${problem(failed, maxValueLength, maxTypeLength)}`);
  }
  if (total > lines.length) lines.push(`… and ${total - lines.length} more`);
  return lines;
}

function label(node: ValidationTree, parentActual: unknown): string {
  switch (node.step) {
    case 'root':
      return '$';
    case 'member':
      return `member ${node.key}`;
    case 'property':
      return INDEX.test(node.key) && Array.isArray(parentActual) ? `[${node.key}]` : renderKey(node.key, 40);
  }
}

/**
 * The whole tree, drawn with branches: each property on its own line, union members under their
 * union, failures with what was expected and what was there (cut short).
 *
 * @example
 * ```ts
 * import * as t from 'io-ts';
 * import * as E from 'fp-ts/lib/Either.js';
 * const Price = t.type({ data: t.type({ price: t.number, currency: t.union([t.string, t.null]) }) });
 * const result = decode(Price)({ data: { price: 1, currency: 5 } });
 * assert.ok(E.isLeft(result));
 * assert.equal(
 *   formatTree(result.left, { maxTypeLength: 20 }),
 *   [
 *     '$: 2 problems',
 *     '└─ data',
 *     '   └─ currency: no member of (string | null) matched 5 (number)',
 *     '      ├─ member 0: expected string, got 5 (number)',
 *     '      └─ member 1: expected null, got 5 (number)',
 *   ].join('\n'),
 * );
 * ```
 *
 * @category destructors
 * @since 0.1.0
 */
export function formatTree(tree: ValidationTree, options: RenderOptions = {}): string {
  const { maxValueLength = 60, maxTypeLength = 80, maxLines = 20 } = options;
  const count = (tree as Partial<DecodeFailure>).count ?? failures(tree).length;
  const lines: string[] = [];
  const headline = tree.failed
    ? `${label(tree, undefined)}: ${problem(tree, maxValueLength, maxTypeLength)}`
    : `${label(tree, undefined)}: ${count} problem${count === 1 ? '' : 's'}`;
  lines.push(headline);
  let omitted = 0;
  // Iterative, so a tree as deep as the guard allows cannot overflow the stack.
  const stack: { node: ValidationTree; parent: unknown; prefix: string; last: boolean }[] = [];
  const pushChildren = (parent: ValidationTree, prefix: string): void => {
    for (let i = parent.children.length - 1; i >= 0; i--) {
      stack.push({
        node: parent.children[i] as ValidationTree,
        parent: parent.actual,
        prefix,
        last: i === parent.children.length - 1,
      });
    }
  };
  pushChildren(tree, '');
  while (stack.length > 0) {
    const { node, parent, prefix, last } = stack.pop() as (typeof stack)[number];
    if (lines.length > maxLines) {
      omitted += failures(node).length;
      continue;
    }
    const name = label(node, parent);
    const isUnion = tagOf(node.decoder) === 'UnionType' && !node.failed && node.children.length > 0;
    const text = node.failed
      ? `${name}: ${problem(node, maxValueLength, maxTypeLength)}`
      : isUnion
        ? `${name}: no member of ${cut(node.expected, maxTypeLength)} matched ${describeActual(node.actual, maxValueLength)}`
        : name;
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${text}`);
    pushChildren(node, `${prefix}${last ? '   ' : '│  '}`);
  }
  if (omitted > 0) lines.push(`… and ${omitted} more`);
  return lines.join('\n');
}
