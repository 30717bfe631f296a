/**
 * io-ts codecs for what PostHog's APIs send, tolerant by design: a row must have what identifies it
 * (an `id`, an event's name), every other known field is optional and may be `null`, unknown fields
 * are kept as they came. A body that lacks what the driver needs becomes a `PostHogDecodeError` with
 * readable paths, never a crash or a half-filled object.
 *
 * @module
 */

import { decode as guardedDecoder, formatPaths, type DecodeFailure } from '@bulwark/validate';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

const nullable = <C extends t.Mixed>(codec: C): t.UnionC<[C, t.NullC]> => t.union([codec, t.null]);
const idOf = t.union([t.number, t.string]);
const record = t.record(t.string, t.unknown);

/**
 * A paginated list as the private API sends it: `results` always; `next`, `count`, `has_next` where the endpoint has them.
 *
 * @example
 * ```ts
 * const page = { results: [{ id: 1 }], next: 'https://us.posthog.com/api/projects/1/cohorts/?offset=100', count: 120 };
 * assert.ok(Page.is(page));
 * assert.ok(!Page.is({ count: 120 })); // no `results`
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const Page = t.intersection([
  t.type({ results: t.array(t.unknown) }),
  t.partial({
    next: nullable(t.string),
    previous: nullable(t.string),
    count: nullable(t.number),
    has_next: nullable(t.boolean),
  }),
]);
/** A decoded page. */
export type Page = t.TypeOf<typeof Page>;

/**
 * An event row of `/events/`.
 *
 * @example
 * ```ts
 * assert.ok(EventRow.is({ event: '$pageview', distinct_id: 'user-1', properties: { $current_url: '/' } }));
 * assert.ok(!EventRow.is({ distinct_id: 'user-1' })); // an event needs its name
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const EventRow = t.intersection([
  t.type({ event: t.string }),
  t.partial({
    id: nullable(t.string),
    uuid: nullable(t.string),
    distinct_id: nullable(idOf),
    properties: nullable(record),
    timestamp: nullable(t.string),
    person: t.unknown,
    elements: t.unknown,
    elements_chain: nullable(t.string),
  }),
]);

/**
 * An insight row of `/insights/`.
 *
 * @example
 * ```ts
 * assert.ok(Insight.is({ id: 7, name: null, query: { kind: 'TrendsQuery' }, tags: ['growth'] }));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const Insight = t.intersection([
  t.type({ id: t.number }),
  t.partial({
    short_id: nullable(t.string),
    name: nullable(t.string),
    derived_name: nullable(t.string),
    description: nullable(t.string),
    query: t.unknown,
    filters: t.unknown,
    saved: nullable(t.boolean),
    deleted: nullable(t.boolean),
    created_at: nullable(t.string),
    last_modified_at: nullable(t.string),
    tags: nullable(t.array(t.string)),
  }),
]);

/**
 * A person row of `/persons/`.
 *
 * @example
 * ```ts
 * assert.ok(Person.is({ id: '0190b1a4-0000-7000-8000-000000000001', distinct_ids: ['user-1'] }));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const Person = t.intersection([
  t.type({ id: idOf }),
  t.partial({
    uuid: nullable(t.string),
    name: nullable(t.string),
    distinct_ids: nullable(t.array(t.string)),
    properties: nullable(record),
    created_at: nullable(t.string),
    is_identified: nullable(t.boolean),
  }),
]);

/**
 * A cohort row of `/cohorts/`.
 *
 * @example
 * ```ts
 * assert.ok(Cohort.is({ id: 3, name: 'Power users', count: 120, is_static: false }));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const Cohort = t.intersection([
  t.type({ id: t.number }),
  t.partial({
    name: nullable(t.string),
    description: nullable(t.string),
    count: nullable(t.number),
    is_static: nullable(t.boolean),
    is_calculating: nullable(t.boolean),
    deleted: nullable(t.boolean),
    filters: t.unknown,
    created_at: nullable(t.string),
    last_calculation: nullable(t.string),
  }),
]);

/**
 * A feature flag row of `/feature_flags/`.
 *
 * @example
 * ```ts
 * assert.ok(FeatureFlag.is({ id: 12, key: 'new-checkout', active: true, rollout_percentage: 20 }));
 * assert.ok(!FeatureFlag.is({ id: 12 })); // a flag needs its key
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const FeatureFlag = t.intersection([
  t.type({ id: t.number, key: t.string }),
  t.partial({
    name: nullable(t.string),
    active: nullable(t.boolean),
    deleted: nullable(t.boolean),
    filters: t.unknown,
    rollout_percentage: nullable(t.number),
    created_at: nullable(t.string),
    tags: nullable(t.array(t.string)),
  }),
]);

/**
 * A session recording row of `/session_recordings/`.
 *
 * @example
 * ```ts
 * assert.ok(SessionRecording.is({ id: '0190b1a4-0000-7000-8000-00000000abcd', recording_duration: 93 }));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const SessionRecording = t.intersection([
  t.type({ id: t.string }),
  t.partial({
    distinct_id: nullable(t.string),
    viewed: nullable(t.boolean),
    recording_duration: nullable(t.number),
    active_seconds: nullable(t.number),
    start_time: nullable(t.string),
    end_time: nullable(t.string),
    click_count: nullable(t.number),
    start_url: nullable(t.string),
    person: t.unknown,
  }),
]);

/**
 * An annotation row of `/annotations/`.
 *
 * @example
 * ```ts
 * assert.ok(Annotation.is({ id: 5, content: 'Deployed v2', date_marker: '2026-01-15T12:00:00Z' }));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const Annotation = t.intersection([
  t.type({ id: t.number }),
  t.partial({
    content: nullable(t.string),
    date_marker: nullable(t.string),
    scope: nullable(t.string),
    creation_type: nullable(t.string),
    deleted: nullable(t.boolean),
    created_at: nullable(t.string),
  }),
]);

/**
 * An experiment row of `/experiments/`.
 *
 * @example
 * ```ts
 * assert.ok(Experiment.is({ id: 9, name: 'Checkout test', feature_flag_key: 'new-checkout', end_date: null }));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const Experiment = t.intersection([
  t.type({ id: t.number }),
  t.partial({
    name: nullable(t.string),
    description: nullable(t.string),
    start_date: nullable(t.string),
    end_date: nullable(t.string),
    feature_flag_key: nullable(t.string),
    archived: nullable(t.boolean),
    parameters: t.unknown,
    created_at: nullable(t.string),
  }),
]);

/**
 * A row of `/property_definitions/`.
 *
 * @example
 * ```ts
 * assert.ok(PropertyDefinition.is({ name: 'amount', property_type: 'Numeric', is_numerical: true }));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const PropertyDefinition = t.intersection([
  t.type({ name: t.string }),
  t.partial({ property_type: nullable(t.string), is_numerical: nullable(t.boolean) }),
]);

/**
 * The query API's answer to a HogQL query: `results` required, everything else optional.
 *
 * @example
 * ```ts
 * const answer = { results: [['$pageview', 400]], columns: ['event', 'count()'], hasMore: false };
 * assert.ok(HogQLResponse.is(answer));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const HogQLResponse = t.intersection([
  t.type({ results: t.array(t.unknown) }),
  t.partial({
    columns: nullable(t.array(t.unknown)),
    types: nullable(t.array(t.unknown)),
    hasMore: nullable(t.boolean),
    limit: nullable(t.number),
    offset: nullable(t.number),
    hogql: nullable(t.string),
    error: nullable(t.string),
    is_cached: nullable(t.boolean),
    query_status: t.unknown,
  }),
]);

/**
 * `drf-exceptions-hog`'s error envelope.
 *
 * @example
 * ```ts
 * const body = { type: 'throttled_error', code: 'throttled', detail: 'Request was throttled.', attr: null };
 * assert.ok(ErrorEnvelope.is(body));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const ErrorEnvelope = t.intersection([
  t.type({ type: t.string, detail: t.string }),
  t.partial({ code: nullable(t.string), attr: nullable(t.string) }),
]);

/**
 * The codec of each entity kind's rows.
 *
 * @example
 * ```ts
 * assert.deepEqual(Object.keys(entityCodecs), [...ENTITY_KINDS]);
 * assert.ok(entityCodecs.feature_flags.is({ id: 1, key: 'beta' }));
 * ```
 *
 * @category codecs
 * @since 0.1.0
 */
export const entityCodecs = {
  events: EventRow,
  insights: Insight,
  persons: Person,
  cohorts: Cohort,
  feature_flags: FeatureFlag,
  session_recordings: SessionRecording,
  annotations: Annotation,
  experiments: Experiment,
} as const;

/** Extra fields the API sends and the codec does not name: kept, typed as unknown. */
type Open<T> = T & { readonly [field: string]: unknown };

/**
 * The decoded row of each entity kind.
 *
 * @category models
 * @since 0.1.0
 */
export interface EntityOf {
  events: Open<t.TypeOf<typeof EventRow>>;
  insights: Open<t.TypeOf<typeof Insight>>;
  persons: Open<t.TypeOf<typeof Person>>;
  cohorts: Open<t.TypeOf<typeof Cohort>>;
  feature_flags: Open<t.TypeOf<typeof FeatureFlag>>;
  session_recordings: Open<t.TypeOf<typeof SessionRecording>>;
  annotations: Open<t.TypeOf<typeof Annotation>>;
  experiments: Open<t.TypeOf<typeof Experiment>>;
}

/** Renders a value for a decode message: short, never a whole object. */
function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** The data path of a decode error: keys that index an intersection's or a union's members are not data. */
function pathOf(context: t.Context): string {
  let path = '';
  for (let i = 1; i < context.length; i++) {
    const parent = (context[i - 1] as t.ContextEntry).type;
    if (parent instanceof t.IntersectionType || parent instanceof t.UnionType) continue;
    const key = (context[i] as t.ContextEntry).key;
    path += /^\d+$/.test(key) ? `[${key}]` : path === '' ? key : `.${key}`;
  }
  return path === '' ? '(root)' : path;
}

const GUARD = { maxDepth: 1000, maxNodes: Number.POSITIVE_INFINITY } as const;
const guarded = new WeakMap<t.Decoder<unknown, unknown>, (value: unknown) => E.Either<DecodeFailure, unknown>>();

/**
 * Decodes `value`, returning it or the list of what was wrong, one line per path
 * (`results[3].id: expected number | string, got null`).
 *
 * The codec runs behind @bulwark/validate's input guard: a value with an own `__proto__` key anywhere
 * (which an io-ts intersection would make the prototype of what it returns) fails before the codec
 * sees it. The guard's size and depth limits are at their widest: answers carry users' own data (a
 * HogQL answer of 50,000 rows, nested properties), and `maxResponseBytes` already bounds them.
 */
export function decode<A>(
  codec: t.Decoder<unknown, A>,
  value: unknown,
): { ok: true; value: A } | { ok: false; errors: string[] } {
  let decoder = guarded.get(codec);
  if (decoder === undefined) {
    decoder = guardedDecoder(codec, GUARD);
    guarded.set(codec, decoder);
  }
  const result = decoder(value);
  if (!E.isLeft(result)) return { ok: true, value: result.right as A };
  const failure = result.left;
  if (failure.reason !== 'invalid') return { ok: false, errors: formatPaths(failure, { maxLines: 3 }) };
  const byPath = new Map<string, string>();
  for (const error of failure.errors) {
    const path = pathOf(error.context);
    if (byPath.has(path)) continue;
    // The expected type is the innermost field's codec, a union named in full (`number | string`).
    let expected = 'unknown';
    for (let i = error.context.length - 1; i >= 0; i--) {
      const entry = error.context[i] as t.ContextEntry;
      expected = entry.type.name;
      const parent = error.context[i - 1]?.type;
      if (!(parent instanceof t.UnionType)) break;
    }
    byPath.set(path, `${path}: expected ${expected}, got ${show(error.value)}`);
  }
  return { ok: false, errors: [...byPath.values()] };
}
