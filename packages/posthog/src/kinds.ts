/**
 * The eight entity kinds the driver reads, where each lives on the private API, and which of
 * PostHog's throttle buckets its requests count against.
 *
 * @module
 */

import type * as t from 'io-ts';

import { entityCodecs } from './codecs.js';

/**
 * An entity kind the driver can list and describe.
 *
 * @category models
 * @since 0.1.0
 */
export type EntityKind =
  | 'events'
  | 'insights'
  | 'persons'
  | 'cohorts'
  | 'feature_flags'
  | 'session_recordings'
  | 'annotations'
  | 'experiments';

/**
 * Every entity kind, in a stable order.
 *
 * @example
 * ```ts
 * assert.equal(ENTITY_KINDS.length, 8);
 * assert.ok(ENTITY_KINDS.includes('feature_flags'));
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export const ENTITY_KINDS: readonly EntityKind[] = Object.freeze([
  'events',
  'insights',
  'persons',
  'cohorts',
  'feature_flags',
  'session_recordings',
  'annotations',
  'experiments',
]);

/**
 * PostHog's throttle buckets on the private API: ClickHouse-backed reads (`analytics`: 240/min and
 * 1,200/hour), the query endpoint (`query`: 240/min and 2,400/hour), everything else (`crud`: 480/min
 * and 4,800/hour).
 *
 * @category models
 * @since 0.1.0
 */
export type ApiBucket = 'analytics' | 'query' | 'crud';

/**
 * The bucket each resource of the private API counts against, as PostHog's viewsets assign their
 * throttle classes: events, persons, session recordings and insights hit ClickHouse.
 *
 * @example
 * ```ts
 * assert.equal(bucketOf('events'), 'analytics'); // 240/minute, 1,200/hour
 * assert.equal(bucketOf('query'), 'query');
 * assert.equal(bucketOf('feature_flags'), 'crud');
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export function bucketOf(resource: string): ApiBucket {
  switch (resource) {
    case 'events':
    case 'persons':
    case 'session_recordings':
    case 'insights':
      return 'analytics';
    case 'query':
      return 'query';
    default:
      return 'crud';
  }
}

/**
 * A field of an entity kind: a column the API always has, or a property PostHog has seen on events
 * or persons (named `properties.<name>`, as HogQL names it).
 *
 * @category models
 * @since 0.1.0
 */
export interface Field {
  readonly name: string;
  /** For columns, the codec's type (`string`, `number | null`); for properties, PostHog's property type (`String`, `Numeric`, `Boolean`, `DateTime`). */
  readonly type: string;
  readonly source: 'column' | 'property';
}

/** Property names of an io-ts `type`/`partial` (or intersection of them), with their type names. */
function propsOf(codec: t.Mixed): [string, string][] {
  const withTypes = codec as unknown as { types?: t.Mixed[]; props?: Record<string, t.Mixed> };
  if (withTypes.props !== undefined) return Object.entries(withTypes.props).map(([name, c]) => [name, c.name]);
  return (withTypes.types ?? []).flatMap(propsOf);
}

/** The columns each kind's rows have, from its codec. */
export function columnsOf(kind: EntityKind): Field[] {
  return propsOf(entityCodecs[kind]).map(([name, type]) => ({ name, type, source: 'column' as const }));
}
