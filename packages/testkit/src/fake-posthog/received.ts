/**
 * What the fake ingestion host received, counted by event UUID: each UUID once, and the deliveries
 * beyond the first (retries of a request whose answer was lost) counted apart as duplicates.
 *
 * @module
 */

/**
 * One event as the fake ingestion host recorded it (its first delivery).
 *
 * @category testing
 * @since 0.1.0
 */
export interface IngestedEvent {
  readonly uuid: string | undefined;
  readonly event: string;
  readonly distinctId: string;
  readonly properties: Readonly<Record<string, unknown>>;
  /** The event's timestamp as sent, or the server's time (ISO 8601) when it sent none. */
  readonly timestamp: string;
  /** The project token it was sent with. */
  readonly token: string;
  /** When the fake received it, on the fake's clock (ms). */
  readonly receivedAt: number;
  readonly historicalMigration: boolean;
}

/**
 * The events a fake ingestion host received.
 *
 * @example
 * ```ts
 * import { startFakePostHog } from '@bulwark/testkit/fake-posthog';
 * const fake = await startFakePostHog();
 * const event = { event: 'signed up', distinct_id: 'user-1', uuid: '0190b1a4-0000-7000-8000-000000000042' };
 * const send = () =>
 *   fetch(`${fake.ingestionUrl}/batch/`, {
 *     method: 'POST',
 *     headers: { 'content-type': 'application/json' },
 *     body: JSON.stringify({ api_key: 'phc_test', batch: [event] }),
 *   });
 * await send();
 * await send(); // a retry that resends the same UUID
 * assert.equal(fake.received.unique, 1);
 * assert.equal(fake.received.duplicates, 1);
 * assert.equal(fake.received.deliveriesOf(event.uuid), 2);
 * await fake.close();
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export class ReceivedEvents {
  private readonly byUuid = new Map<string, { readonly event: IngestedEvent; deliveries: number }>();
  private readonly ordered: IngestedEvent[] = [];
  private deliveryCount = 0;
  private withoutUuidCount = 0;

  /** @internal Records one delivery of `event`. */
  record(event: IngestedEvent): void {
    this.deliveryCount += 1;
    if (event.uuid === undefined) {
      this.withoutUuidCount += 1;
      this.ordered.push(event);
      return;
    }
    const seen = this.byUuid.get(event.uuid);
    if (seen !== undefined) {
      seen.deliveries += 1;
      return;
    }
    this.byUuid.set(event.uuid, { event, deliveries: 1 });
    this.ordered.push(event);
  }

  /** Distinct events received: one per UUID, plus each event sent without a UUID. */
  get unique(): number {
    return this.byUuid.size + this.withoutUuidCount;
  }

  /** Every delivery, duplicates included. */
  get deliveries(): number {
    return this.deliveryCount;
  }

  /** Deliveries of a UUID already received. */
  get duplicates(): number {
    return this.deliveryCount - this.unique;
  }

  /** Events that came without a UUID (they cannot be told apart from their duplicates). */
  get withoutUuid(): number {
    return this.withoutUuidCount;
  }

  /** Whether an event with this UUID arrived. */
  has(uuid: string): boolean {
    return this.byUuid.has(uuid);
  }

  /** How many times the event with this UUID arrived (0 if never). */
  deliveriesOf(uuid: string): number {
    return this.byUuid.get(uuid)?.deliveries ?? 0;
  }

  /** The events in the order they first arrived. */
  list(): readonly IngestedEvent[] {
    return this.ordered;
  }
}
