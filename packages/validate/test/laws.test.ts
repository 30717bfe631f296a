import { describe, expect, it } from '@jest/globals';
import { systemClock } from '@bulwark/core';
import { policyLaws, VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import Keyv from 'keyv';

import {
  decode,
  failures,
  formatPaths,
  formatTree,
  freshness,
  isDataQualityError,
  isValidationError,
  maxChange,
  predicate,
  range,
  validate,
  type LastGood,
  type Rule,
  type RuleEnvironment,
  type Verdict,
} from '../src/index.js';

import { NumberFromString } from './codecs.js';

// ---------------------------------------------------------------------------------------------
// Generated codecs, with values they accept.

type Spec =
  | { readonly kind: 'string' | 'number' | 'boolean' | 'null' | 'unknown' | 'numberFromString' }
  | { readonly kind: 'literal'; readonly value: string | number | boolean }
  | { readonly kind: 'array' | 'record'; readonly of: Spec }
  | { readonly kind: 'type' | 'partial'; readonly props: Readonly<Record<string, Spec>> }
  | { readonly kind: 'union'; readonly of: readonly [Spec, Spec] }
  | {
      readonly kind: 'intersection';
      readonly required: Readonly<Record<string, Spec>>;
      readonly optional: Readonly<Record<string, Spec>>;
    };

const keyArb = fc.constantFrom('a', 'b', 'code', 'price', 'weird key', '0');
const propsOf = (spec: fc.Arbitrary<Spec>, prefix = ''): fc.Arbitrary<Record<string, Spec>> =>
  fc.dictionary(
    keyArb.map((k) => prefix + k),
    spec,
    { maxKeys: 3 },
  );

const specArb: fc.Arbitrary<Spec> = fc.letrec<{ spec: Spec }>((tie) => ({
  spec: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Spec>(
      { kind: 'string' },
      { kind: 'number' },
      { kind: 'boolean' },
      { kind: 'null' },
      { kind: 'unknown' },
      { kind: 'numberFromString' },
    ),
    fc
      .oneof(fc.string({ maxLength: 3 }), fc.integer({ min: -3, max: 3 }), fc.boolean())
      .map((value): Spec => ({ kind: 'literal', value })),
    fc.record({ kind: fc.constantFrom('array' as const, 'record' as const), of: tie('spec') }),
    fc.record({ kind: fc.constantFrom('type' as const, 'partial' as const), props: propsOf(tie('spec')) }),
    fc.record({ kind: fc.constant('union' as const), of: fc.tuple(tie('spec'), tie('spec')) }),
    fc.record({
      kind: fc.constant('intersection' as const),
      required: propsOf(tie('spec')),
      optional: propsOf(tie('spec'), 'opt_'),
    }),
  ),
})).spec;

const mapProps = (props: Readonly<Record<string, Spec>>): t.Props =>
  Object.fromEntries(Object.entries(props).map(([k, s]) => [k, codecOf(s)]));

function codecOf(spec: Spec): t.Mixed {
  switch (spec.kind) {
    case 'string':
      return t.string;
    case 'number':
      return t.number;
    case 'boolean':
      return t.boolean;
    case 'null':
      return t.null;
    case 'unknown':
      return t.unknown;
    case 'numberFromString':
      return NumberFromString;
    case 'literal':
      return t.literal(spec.value);
    case 'array':
      return t.array(codecOf(spec.of));
    case 'record':
      return t.record(t.string, codecOf(spec.of));
    case 'type':
      return t.type(mapProps(spec.props));
    case 'partial':
      return t.partial(mapProps(spec.props));
    case 'union':
      return t.union([codecOf(spec.of[0]), codecOf(spec.of[1])]);
    case 'intersection':
      return t.intersection([t.type(mapProps(spec.required)), t.partial(mapProps(spec.optional))]);
  }
}

const propsValue = (
  props: Readonly<Record<string, Spec>>,
  required: boolean,
): fc.Arbitrary<Record<string, unknown>> => {
  const keys = Object.keys(props);
  const record = Object.fromEntries(keys.map((k) => [k, valueOf(props[k] as Spec)]));
  return fc.record(record, required ? {} : { requiredKeys: [] });
};

/** Values the codec of `spec` accepts. */
function valueOf(spec: Spec): fc.Arbitrary<unknown> {
  switch (spec.kind) {
    case 'string':
      return fc.string({ maxLength: 4 });
    case 'number':
      return fc.double();
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'unknown':
      return fc.jsonValue({ maxDepth: 2 });
    case 'numberFromString':
      return fc.integer({ min: -1000, max: 1000 }).map(String);
    case 'literal':
      return fc.constant(spec.value);
    case 'array':
      return fc.array(valueOf(spec.of), { maxLength: 3 });
    case 'record':
      return fc.dictionary(fc.string({ maxLength: 3 }), valueOf(spec.of), { maxKeys: 3 });
    case 'type':
      return propsValue(spec.props, true);
    case 'partial':
      return propsValue(spec.props, false);
    case 'union':
      return fc.oneof(valueOf(spec.of[0]), valueOf(spec.of[1]));
    case 'intersection':
      return fc
        .tuple(propsValue(spec.required, true), propsValue(spec.optional, false))
        .map(([a, b]) => ({ ...a, ...b }));
  }
}

/** A codec, and a value that it accepts or (often) does not. */
const codecAndValue = specArb.chain((spec) =>
  fc.record({
    spec: fc.constant(spec),
    value: fc.oneof(valueOf(spec), fc.jsonValue({ maxDepth: 3 }), fc.anything({ maxDepth: 2 })),
  }),
);

/** The guard's rules, written plainly (recursively) as the reference. */
function withinLimits(value: unknown, maxDepth: number, maxNodes: number): boolean {
  let nodes = 0;
  let ok = true;
  const visit = (v: unknown, depth: number): void => {
    nodes++;
    if (!ok || typeof v !== 'object' || v === null || ArrayBuffer.isView(v) || v instanceof Date) return;
    if (depth + 1 > maxDepth || (!Array.isArray(v) && Object.keys(v).includes('__proto__'))) {
      ok = false;
      return;
    }
    const children = Array.isArray(v) ? v : Object.keys(v).map((k) => (v as Record<string, unknown>)[k]);
    for (const child of children) visit(child, depth + 1);
  };
  visit(value, 0);
  return ok && nodes <= maxNodes;
}

/** The data path of an io-ts error, computed from its context alone. */
function referencePath(error: t.ValidationError): string {
  let path = '$';
  for (let i = 1; i < error.context.length; i++) {
    const parent = error.context[i - 1] as t.ContextEntry;
    const entry = error.context[i] as t.ContextEntry;
    const tag = (parent.type as { _tag?: string })._tag;
    if (tag === 'UnionType' || tag === 'IntersectionType') continue;
    const key = entry.key;
    if (Array.isArray(parent.actual) && /^(0|[1-9]\d*)$/.test(key)) path += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) path += `.${key}`;
    else path += `[${JSON.stringify(key)}]`;
  }
  return path;
}

// ---------------------------------------------------------------------------------------------

describe('laws: decode', () => {
  it('accepts exactly what the codec accepts, with the same value, for input within the limits', () => {
    fc.assert(
      fc.property(
        codecAndValue,
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 60 }),
        ({ spec, value }, maxDepth, maxNodes) => {
          const codec = codecOf(spec);
          for (const [depth, nodes] of [
            [64, 1_000_000],
            [maxDepth, maxNodes],
          ] as const) {
            const ours = decode(codec, { maxDepth: depth, maxNodes: nodes })(value);
            if (!withinLimits(value, depth, nodes)) {
              expect(E.isLeft(ours) && ['too-deep', 'too-large', 'proto-key'].includes(ours.left.reason)).toBe(true);
              continue;
            }
            const theirs = codec.decode(value);
            expect(ours._tag).toBe(theirs._tag);
            if (E.isRight(ours) && E.isRight(theirs)) expect(ours.right).toEqual(theirs.right);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("has a failed node at the data path of each of io-ts's errors, and nowhere else", () => {
    fc.assert(
      fc.property(codecAndValue, ({ spec, value }) => {
        const codec = codecOf(spec);
        const result = decode(codec, { maxNodes: Number.POSITIVE_INFINITY, maxDepth: 1000 })(value);
        if (E.isRight(result) || result.left.reason !== 'invalid') return;
        const failure = result.left;
        expect(failure.count).toBe(failure.errors.length);
        const expected = new Set(failure.errors.map(referencePath));
        const found = failures(failure).map((n) => n.path);
        expect(new Set(found)).toEqual(expected);
        expect(found.length).toBeLessThanOrEqual(failure.errors.length);
      }),
      { numRuns: 300 },
    );
  });

  it('renders within its bounds, whatever the input', () => {
    fc.assert(
      fc.property(codecAndValue, fc.integer({ min: 1, max: 5 }), ({ spec, value }, maxLines) => {
        const result = decode(codecOf(spec))(value);
        if (E.isRight(result)) return;
        const options = { maxLines, maxValueLength: 20, maxTypeLength: 30 };
        const paths = formatPaths(result.left, options);
        expect(paths.length).toBeLessThanOrEqual(maxLines + 1);
        const tree = formatTree(result.left, options).split('\n');
        expect(tree.length).toBeLessThanOrEqual(maxLines + 3);
        // Each line: a path or indentation (bounded by depth), a type (30), a value (20), words.
        for (const line of [...paths, ...tree]) expect(line.length).toBeLessThan(600);
      }),
      { numRuns: 200 },
    );
  });
});

describe('laws: the policy', () => {
  it('resolves exactly what decode accepts, and rejects the rest with a ValidationError', async () => {
    await fc.assert(
      fc.asyncProperty(codecAndValue, async ({ spec, value }) => {
        const codec = codecOf(spec);
        const expected = decode(codec)(value);
        const settled = await validate(codec)
          .execute(async () => value)
          .then(
            (v) => E.right(v),
            (e: unknown) => E.left(e),
          );
        if (E.isRight(expected)) expect(settled).toEqual(E.right(expected.right));
        else expect(E.isLeft(settled) && isValidationError(settled.left)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  const Quote = t.type({ code: t.string, price: t.number, created_at: t.string });
  type Quote = t.TypeOf<typeof Quote>;
  const NOW = Date.parse('2026-01-15T12:00:00.000Z');

  it('returns a value that passes every rule unchanged (the very value the task produced)', async () => {
    const scenario = fc.record({
      code: fc.string({ maxLength: 6 }),
      previous: fc.double({ min: 1, max: 1000, noNaN: true }),
      changeRatio: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
      slackBelow: fc.double({ min: 0, max: 100, noNaN: true }),
      slackAbove: fc.double({ min: 0, max: 100, noNaN: true }),
      ageMs: fc.integer({ min: 0, max: 86_400_000 }),
      async: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const price = s.previous * (1 + s.changeRatio);
        const clock = new VirtualClock(NOW);
        const store = s.async ? { store: new Keyv<LastGood>() } : {};
        const rules: Rule<Quote>[] = [
          range({
            value: (q) => q.price,
            key: (q) => q.code,
            perKey: new Map([
              [
                s.code,
                { min: Math.min(price, s.previous) - s.slackBelow, max: Math.max(price, s.previous) + s.slackAbove },
              ],
            ]),
          }),
          maxChange({
            value: (q) => q.price,
            key: (q) => q.code,
            maxRatio: Math.abs(s.changeRatio) * 1.000001 + 1e-9,
            ...store,
          }),
          freshness({ at: (q) => q.created_at, maxAgeMs: s.ageMs }),
          predicate({ name: 'has-code', test: (q) => typeof q.code === 'string' }),
        ];
        const policy = validate(Quote, { rules, clock });
        const first = { code: s.code, price: s.previous, created_at: new Date(NOW).toISOString() };
        await expect(policy.execute(async () => first)).resolves.toBe(first);
        const produced = { code: s.code, price, created_at: new Date(NOW - s.ageMs).toISOString() };
        await expect(policy.execute(async () => produced)).resolves.toBe(produced);
      }),
      { numRuns: 150 },
    );
  });
});

describe('laws: each rule rejects every value outside its bound, and names it', () => {
  const env = (now = 0): RuleEnvironment => ({
    clock: { ...systemClock, now: () => now },
    storeError: () => undefined,
  });
  const sync = <A>(rule: Rule<A>, value: A, environment: RuleEnvironment): Verdict =>
    rule.check(value, environment) as Verdict;
  const anyNumber = fc.oneof(fc.double(), fc.integer());

  it('range', () => {
    fc.assert(
      fc.property(anyNumber, anyNumber, anyNumber, fc.string({ maxLength: 4 }), (a, b, value, key) => {
        const [min, max] = Number.isNaN(a) || Number.isNaN(b) ? [-1, 1] : a <= b ? [a, b] : [b, a];
        const rule = range<{ k: string; v: number }>({
          name: 'r',
          value: (x) => x.v,
          key: (x) => x.k,
          perKey: { [key]: { min, max } },
        });
        const verdict = sync(rule, { k: key, v: value }, env());
        const inside = value >= min && value <= max;
        expect(verdict === undefined).toBe(inside);
        if (verdict !== undefined) {
          expect(verdict.rule).toBe('r');
          expect(verdict.key).toBe(key);
          expect(Object.is(verdict.value, value)).toBe(true);
          expect(verdict.bound).toEqual({ min, max });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('maxChange', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        anyNumber,
        fc.option(fc.double({ min: 0, max: 5, noNaN: true }), { nil: undefined }),
        fc.option(fc.double({ min: 0, max: 1000, noNaN: true }), { nil: undefined }),
        (previous, value, maxRatio, maxDelta) => {
          fc.pre(maxRatio !== undefined || maxDelta !== undefined);
          const limits = {
            ...(maxRatio !== undefined ? { maxRatio } : {}),
            ...(maxDelta !== undefined ? { maxDelta } : {}),
          };
          const rule = maxChange<{ v: number }>({ name: 'm', value: (x) => x.v, key: () => 'k', ...limits });
          const environment = env();
          void rule.accept?.({ v: previous }, environment);
          const verdict = sync(rule, { v: value }, environment);
          const allowed = Math.max(
            maxRatio !== undefined ? maxRatio * Math.abs(previous) : -Infinity,
            maxDelta ?? -Infinity,
          );
          const inside = Number.isFinite(value) && Math.abs(value - previous) <= allowed;
          expect(verdict === undefined).toBe(inside);
          if (verdict !== undefined) {
            expect([verdict.rule, verdict.key]).toEqual(['m', 'k']);
            expect(Object.is(verdict.value, value)).toBe(true);
            expect(verdict.bound).toEqual(Number.isFinite(value) ? { previous, ...limits } : limits);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('freshness', () => {
    const time = fc.integer({ min: 0, max: 4_000_000_000_000 });
    fc.assert(
      fc.property(
        time,
        time,
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.boolean(),
        (now, ts, maxAgeMs, maxFutureMs, asIso) => {
          const rule = freshness<{ at: string | number }>({ name: 'f', at: (x) => x.at, maxAgeMs, maxFutureMs });
          const at = asIso ? new Date(ts).toISOString() : ts;
          const verdict = sync(rule, { at }, env(now));
          const fresh = now - ts <= maxAgeMs && ts - now <= maxFutureMs;
          expect(verdict === undefined).toBe(fresh);
          if (verdict !== undefined) {
            expect(verdict.rule).toBe('f');
            expect(verdict.value).toBe(at);
            expect(verdict.bound).toEqual({ maxAgeMs, maxFutureMs });
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('predicate', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (value, threshold) => {
        const rule = predicate<number>({ name: 'p', test: (n) => n < threshold, bound: threshold });
        const verdict = sync(rule, value, env());
        expect(verdict === undefined).toBe(value < threshold);
        if (verdict !== undefined) expect(verdict).toMatchObject({ rule: 'p', value, bound: threshold });
      }),
    );
  });

  it('through the policy: a DataQualityError naming every broken rule, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), async (value, max) => {
        const rules = [
          range<number>({ name: 'at-most', value: (n) => n, max }),
          range<number>({ name: 'at-least', value: (n) => n, min: -max }),
        ];
        const broken = rules.filter((r) => r.check(value, env()) !== undefined).map((r) => r.name);
        const settled = await validate(t.number, { rules })
          .execute(async () => value)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        if (broken.length === 0) expect(settled).toBeUndefined();
        else expect(isDataQualityError(settled) && settled.violations.map((v) => v.rule)).toEqual(broken);
      }),
    );
  });
});

policyLaws(it, 'validate (gate)', ({ clock }) =>
  validate(t.type({ call: t.number }), {
    clock,
    rules: [
      range({ value: (v: { call: number }) => v.call, min: 0 }),
      maxChange({ value: (v: { call: number }) => v.call, maxDelta: 100 }),
    ],
  }),
);

policyLaws(it, 'validate (decorator)', ({ clock }) =>
  validate(t.type({ call: t.number }), {
    clock,
    rules: [maxChange({ value: (v: { call: number }) => v.call, maxDelta: 100, store: new Keyv<LastGood>() })],
  }),
);
