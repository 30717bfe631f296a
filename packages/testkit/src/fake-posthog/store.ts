/**
 * The fake private API's data: seeded entities of the kinds the API lists, persons made by `$identify`
 * and `$set`, and property definitions learnt from the events the ingestion host received.
 *
 * Seeded entities are deterministic (index-based ids, names and dates), so tests can assert on them.
 *
 * @module
 */

import type { IngestedEvent, ReceivedEvents } from './received.js';

/**
 * The kinds of entity the fake lists (the eight the driver reads).
 *
 * @category testing
 * @since 0.1.0
 */
export type FakeEntityKind =
  | 'events'
  | 'insights'
  | 'persons'
  | 'cohorts'
  | 'feature_flags'
  | 'session_recordings'
  | 'annotations'
  | 'experiments';

/** Kinds whose entities are seeded and kept as plain records. */
export type SeededKind = Exclude<FakeEntityKind, 'events' | 'persons'>;

type Json = Record<string, unknown>;

const EPOCH = Date.UTC(2026, 0, 1);
const iso = (offsetMinutes: number): string => new Date(EPOCH + offsetMinutes * 60_000).toISOString();
const user = {
  id: 1,
  uuid: '0190b1a4-0000-7000-8000-000000000001',
  distinct_id: 'owner',
  first_name: 'Ada',
  email: 'ada@example.com',
};

/**
 * Makes the `i`-th seeded entity of `kind`, shaped like the real API's list rows.
 *
 * @example
 * ```ts
 * import { seedEntity } from '@bulwark/testkit/fake-posthog';
 * const flag = seedEntity('feature_flags', 0) as { id: number; key: string };
 * assert.equal(flag.id, 1);
 * assert.equal(typeof flag.key, 'string');
 * assert.deepEqual(seedEntity('feature_flags', 0), flag); // deterministic
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function seedEntity(kind: SeededKind | 'persons', i: number): Json {
  const id = i + 1;
  switch (kind) {
    case 'insights':
      return {
        id,
        short_id: `ins${id.toString(36).padStart(5, '0')}`,
        name: `Insight ${id}`,
        derived_name: `Pageview count ${id}`,
        description: '',
        query: {
          kind: 'InsightVizNode',
          source: { kind: 'TrendsQuery', series: [{ kind: 'EventsNode', event: '$pageview' }] },
        },
        filters: {},
        created_at: iso(i),
        created_by: user,
        last_modified_at: iso(i + 1),
        saved: true,
        deleted: false,
        favorited: false,
        tags: [],
      };
    case 'cohorts':
      return {
        id,
        name: `Cohort ${id}`,
        description: '',
        groups: [],
        filters: { properties: { type: 'AND', values: [] } },
        deleted: false,
        is_calculating: false,
        is_static: i % 2 === 0,
        count: 10 * id,
        created_by: user,
        created_at: iso(i),
        last_calculation: iso(i + 5),
        errors_calculating: 0,
      };
    case 'feature_flags':
      return {
        id,
        name: `Flag ${id}`,
        key: `flag-${id}`,
        filters: { groups: [{ properties: [], rollout_percentage: (id * 7) % 101 }] },
        deleted: false,
        active: i % 3 !== 0,
        created_by: user,
        created_at: iso(i),
        is_simple_flag: true,
        rollout_percentage: (id * 7) % 101,
        ensure_experience_continuity: false,
        experiment_set: [],
        tags: [],
      };
    case 'annotations':
      return {
        id,
        content: `Deployed release ${id}`,
        date_marker: iso(i * 60),
        creation_type: 'USR',
        dashboard_item: null,
        created_by: user,
        created_at: iso(i),
        updated_at: iso(i),
        deleted: false,
        scope: 'project',
      };
    case 'experiments':
      return {
        id,
        name: `Experiment ${id}`,
        description: '',
        start_date: iso(i * 60),
        end_date: null,
        feature_flag_key: `experiment-${id}`,
        feature_flag: { id: 10_000 + id, key: `experiment-${id}` },
        parameters: {
          feature_flag_variants: [
            { key: 'control', rollout_percentage: 50 },
            { key: 'test', rollout_percentage: 50 },
          ],
        },
        filters: {},
        archived: false,
        created_by: user,
        created_at: iso(i),
        updated_at: iso(i),
      };
    case 'session_recordings':
      return {
        id: `0190b1a4-${id.toString(16).padStart(4, '0')}-7000-8000-00000000${id.toString(16).padStart(4, '0')}`,
        distinct_id: `user-${id}`,
        viewed: false,
        recording_duration: 30 + id,
        active_seconds: 20 + id,
        inactive_seconds: 10,
        start_time: iso(i * 10),
        end_time: iso(i * 10 + 1),
        click_count: id,
        keypress_count: 2 * id,
        mouse_activity_count: 3 * id,
        console_log_count: 0,
        console_warn_count: 0,
        console_error_count: 0,
        start_url: `https://example.com/page/${id}`,
        person: { id, distinct_ids: [`user-${id}`], properties: {} },
      };
    case 'persons':
      return {
        id,
        uuid: `0190b1a4-0000-7000-9000-${id.toString(16).padStart(12, '0')}`,
        name: `user-${id}`,
        distinct_ids: [`user-${id}`],
        properties: { email: `user-${id}@example.com` },
        created_at: iso(i),
        is_identified: true,
      };
  }
}

/** The ClickHouse-ish type PostHog gives a property, inferred from a value. */
function propertyType(value: unknown): string {
  if (typeof value === 'number') return 'Numeric';
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return 'DateTime';
  return 'String';
}

/**
 * The fake private API's data.
 *
 * @example
 * ```ts
 * import { startFakePostHog } from '@bulwark/testkit/fake-posthog';
 * const fake = await startFakePostHog({ entities: { cohorts: 2 } });
 * fake.data.entities('cohorts').push({ id: 99, name: 'Added by the test' }); // rows are mutable
 * const page = await fetch(`${fake.apiUrl}/api/projects/@current/cohorts/`, {
 *   headers: { authorization: `Bearer ${fake.personalApiKey}` },
 * });
 * const body = (await page.json()) as { count: number };
 * assert.equal(body.count, 3);
 * await fake.close();
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export class FakeData {
  private readonly seeded = new Map<SeededKind, Json[]>();
  private readonly personList: Json[] = [];
  private readonly personByDistinctId = new Map<string, Json>();
  private readonly eventProperties = new Map<string, string>();
  private readonly personProperties = new Map<string, string>();
  private readonly eventNames = new Map<string, number>();

  constructor(
    counts: Partial<Record<SeededKind | 'persons', number>>,
    readonly received: ReceivedEvents,
  ) {
    for (const kind of [
      'insights',
      'cohorts',
      'feature_flags',
      'annotations',
      'experiments',
      'session_recordings',
    ] as const) {
      this.seeded.set(
        kind,
        Array.from({ length: counts[kind] ?? 3 }, (_, i) => seedEntity(kind, i)),
      );
    }
    for (let i = 0; i < (counts.persons ?? 3); i++) this.addPerson(seedEntity('persons', i));
  }

  /** The seeded entities of `kind` (mutable: tests may add or change rows). */
  entities(kind: SeededKind): Json[] {
    return this.seeded.get(kind) as Json[];
  }

  /** Every person, oldest first. */
  persons(): readonly Json[] {
    return this.personList;
  }

  /** Adds a person row; its `distinct_ids` point at it. */
  addPerson(person: Json): void {
    this.personList.push(person);
    const ids = Array.isArray(person['distinct_ids']) ? (person['distinct_ids'] as unknown[]) : [];
    for (const id of ids) if (typeof id === 'string') this.personByDistinctId.set(id, person);
    const properties = person['properties'];
    if (typeof properties === 'object' && properties !== null) {
      for (const [name, value] of Object.entries(properties)) this.personProperties.set(name, propertyType(value));
    }
  }

  /** Learns from one received event: its name, its properties, and `$set`/`$set_once` on its person. */
  ingest(event: IngestedEvent): void {
    this.eventNames.set(event.event, (this.eventNames.get(event.event) ?? 0) + 1);
    for (const [name, value] of Object.entries(event.properties)) {
      if (name !== '$set' && name !== '$set_once') this.eventProperties.set(name, propertyType(value));
    }
    const set = event.properties['$set'];
    const setOnce = event.properties['$set_once'];
    if (event.event !== '$identify' && set === undefined && setOnce === undefined) return;
    let person = this.personByDistinctId.get(event.distinctId);
    if (person === undefined) {
      const id = this.personList.length + 1;
      person = {
        id,
        uuid: `0190b1a4-0000-7000-a000-${id.toString(16).padStart(12, '0')}`,
        name: event.distinctId,
        distinct_ids: [event.distinctId],
        properties: {},
        created_at: event.timestamp,
        is_identified: event.event === '$identify',
      };
      this.addPerson(person);
    }
    const properties = person['properties'] as Json;
    if (typeof setOnce === 'object' && setOnce !== null) {
      for (const [name, value] of Object.entries(setOnce)) {
        if (!Object.hasOwn(properties, name))
          Object.defineProperty(properties, name, { value, enumerable: true, writable: true, configurable: true });
        this.personProperties.set(name, propertyType(value));
      }
    }
    if (typeof set === 'object' && set !== null) {
      for (const [name, value] of Object.entries(set)) {
        Object.defineProperty(properties, name, { value, enumerable: true, writable: true, configurable: true });
        this.personProperties.set(name, propertyType(value));
      }
    }
  }

  /** Property definitions (`type` event or person), sorted by name, shaped like `/property_definitions/` rows. */
  propertyDefinitions(type: 'event' | 'person'): Json[] {
    const source = type === 'event' ? this.eventProperties : this.personProperties;
    return [...source.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, propertyType], i) => ({
        id: `${type}-${i + 1}`,
        name,
        property_type: propertyType,
        is_numerical: propertyType === 'Numeric',
        is_seen_on_filtered_events: null,
        tags: [],
        type: type === 'event' ? 1 : 2,
      }));
  }

  /** Event definitions, shaped like `/event_definitions/` rows. */
  eventDefinitions(): Json[] {
    return [...this.eventNames.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, volume], i) => ({
        id: `event-${i + 1}`,
        name,
        volume_30_day: volume,
        query_usage_30_day: 0,
        tags: [],
      }));
  }
}
