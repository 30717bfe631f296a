/**
 * The ingestion half of the driver: events go into a bounded in-memory queue and leave in gzipped
 * batches, by size (`flushAt`), by time (`flushIntervalMs`, on the injected clock, never keeping the
 * process alive), on `flush()` and on `shutdown()`.
 *
 * What it guarantees: every captured event is either delivered (a 2xx for a batch holding it) or
 * reported in a `dropped` event with the reason, the count and the events themselves. Events are given
 * a UUIDv7 when captured and keep it on every retry, so PostHog can drop the duplicates a lost answer
 * causes. A batch that fails on the network, times out, or gets a 408/429/5xx (after the ingestion
 * policy's own retries) goes back to the front of the queue, in order, for the next flush, which waits
 * at least `flushIntervalMs` and at least what `Retry-After` asked; a `flush()` called sooner than
 * `Retry-After` sends nothing (sooner than `flushIntervalMs` alone, it does send: the caller asked).
 * A batch answered 413 (too large) or 400 (invalid) is split in halves until the offending events
 * stand alone; only those are dropped.
 * Any other 4xx (a wrong project key) drops the batch, reported. When the queue is full the oldest
 * queued event makes room (or the new one is refused, with `overflow: 'drop-newest'`), reported.
 *
 * @module
 */

import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

import {
  MAX_TIMER_DELAY_MS,
  type Clock,
  type Emitter,
  type Policy,
  type PolicyEvent,
  type TimerHandle,
} from '@bulwark/core';

import { PostHogClosedError, isPostHogHttpError } from './errors.js';
import { exchange, type Fetch } from './internal/http.js';
import { Deque } from './internal/deque.js';
import { uuidv7 } from './internal/uuid.js';

const gzipAsync = promisify(gzip);

/**
 * An event to capture.
 *
 * @category models
 * @since 0.1.0
 */
export interface CaptureInput {
  /** The event's name, e.g. `'order placed'` or `'$pageview'`. */
  readonly event: string;
  /** Who did it. */
  readonly distinctId: string;
  readonly properties?: Readonly<Record<string, unknown>>;
  /** When it happened. @default the driver clock's now */
  readonly timestamp?: Date | string;
  /** The event's UUID, if the caller has one (it must be unique). @default a new UUIDv7 */
  readonly uuid?: string;
  /** Groups the event belongs to (`{ company: 'acme' }`), sent as `$groups`. */
  readonly groups?: Readonly<Record<string, string>>;
}

/**
 * An event as it is sent to PostHog (and as `dropped` reports it).
 *
 * @category models
 * @since 0.1.0
 */
export interface CapturedEvent {
  readonly uuid: string;
  readonly event: string;
  readonly distinct_id: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly timestamp: string;
}

/**
 * Why events were dropped: the queue was full, PostHog rejected them for good (a 4xx other than
 * 408/413/429, e.g. a wrong project key or an invalid event), one event alone was too large (413),
 * `shutdown()`'s deadline passed with them still queued, or they were captured after `shutdown()`.
 *
 * @category models
 * @since 0.1.0
 */
export type DropReason = 'queue-full' | 'rejected' | 'too-large' | 'shutdown' | 'closed';

/**
 * What the ingestion half reports.
 *
 * - `dropped`: events that will not be delivered, with the reason, the count, the events (so they can
 *   be written elsewhere) and the error PostHog answered, if any.
 * - `flushed`: a batch was delivered (`count` events, `bytes` on the wire, `durationMs` including the
 *   ingestion policy's retries).
 * - `flush-failed`: a batch could not be delivered now; its events are back in the queue and the next
 *   flush waits `retryInMs`.
 * - `batch-split`: a batch of `size` events was answered `status` (413 or 400) and is sent again in two halves.
 *
 * @category models
 * @since 0.1.0
 */
export type CaptureEvent =
  | {
      readonly type: 'dropped';
      readonly policy: string;
      readonly reason: DropReason;
      readonly count: number;
      readonly events: readonly CapturedEvent[];
      readonly error?: unknown;
    }
  | {
      readonly type: 'flushed';
      readonly policy: string;
      readonly count: number;
      readonly bytes: number;
      readonly durationMs: number;
    }
  | {
      readonly type: 'flush-failed';
      readonly policy: string;
      readonly count: number;
      readonly error: unknown;
      readonly retryInMs: number;
    }
  | { readonly type: 'batch-split'; readonly policy: string; readonly size: number; readonly status: number };

/**
 * What a `flush()` did.
 *
 * @category models
 * @since 0.1.0
 */
export interface FlushResult {
  /** Events delivered by this flush. */
  readonly sent: number;
  /** Events dropped by this flush (rejected or too large). */
  readonly dropped: number;
  /** Events still queued when it ended (after a failure that sent a batch back, or captured meanwhile). */
  readonly queued: number;
  /**
   * Only when a shutdown's deadline ended the flush's wait for a wait PostHog asked for (a 429's
   * `Retry-After`, an open breaker's time to its probe): the milliseconds that were left.
   */
  readonly retryInMs?: number;
}

/**
 * What `shutdown()` did.
 *
 * @category models
 * @since 0.1.0
 */
export interface ShutdownResult {
  /** Events delivered while shutting down. */
  readonly sent: number;
  /** Events dropped while shutting down, including those still queued at the deadline. */
  readonly dropped: number;
  /** Whether the queue was empty before the deadline. */
  readonly drained: boolean;
}

/** One queued event: its UUID and its JSON, made once at capture. */
interface Queued {
  readonly uuid: string;
  readonly json: string;
}

/** What the ingestion half needs from the driver. */
export interface CaptureSettings {
  readonly name: string;
  readonly host: string;
  readonly token: () => string;
  /** Removes the keys from texts a server sent (error details). */
  readonly redact: (text: string) => string;
  readonly fetch: Fetch;
  readonly clock: Clock;
  readonly userAgent: string;
  readonly maxResponseBytes: number;
  readonly flushAt: number;
  readonly flushIntervalMs: number;
  readonly maxBatchSize: number;
  readonly maxBatchBytes: number;
  readonly maxQueueSize: number;
  readonly overflow: 'drop-oldest' | 'drop-newest';
  readonly compression: boolean;
  readonly historicalMigration: boolean;
  readonly superProperties: Readonly<Record<string, unknown>>;
  readonly policy: Policy<PolicyEvent>;
  readonly events: Emitter<CaptureEvent>;
}

type Delivery =
  { readonly ok: true } | { readonly ok: false; readonly undelivered: readonly Queued[]; readonly error: unknown };

/** The event queue and its flushing. */
export class CaptureQueue {
  private readonly queue: Deque<Queued>;
  private readonly url: string;
  private inFlightEvents = 0;
  private requests = 0;
  private running: Promise<FlushResult> | undefined;
  private timer: TimerHandle = undefined;
  /** No timed flush before this time on the clock: the last failure's wait, and at least `flushIntervalMs`. */
  private notBefore = 0;
  /** No flush at all before this time: what the last failure asked (its `retryAfterMs`), no more. */
  private heldUntil = 0;
  private batchSize: number;
  private closed = false;
  private readonly stop = new AbortController();
  private pendingOverflow: Queued[] = [];
  private totals = { captured: 0, sent: 0, dropped: 0 };
  private lastError: unknown = undefined;
  private closing: Promise<ShutdownResult> | undefined;

  constructor(private readonly settings: CaptureSettings) {
    this.queue = new Deque(settings.maxQueueSize);
    this.url = `${new URL(settings.host).origin}/batch/`;
    this.batchSize = settings.maxBatchSize;
  }

  /** Figures for health reports and tests. */
  get stats(): {
    readonly queued: number;
    readonly inFlight: number;
    /** Requests on the wire (or being gzipped) now, ingestion and private API together. */
    readonly activeRequests: number;
    readonly captured: number;
    readonly sent: number;
    readonly dropped: number;
    readonly batchSize: number;
    readonly closed: boolean;
    readonly lastError: unknown;
  } {
    return {
      queued: this.queue.size,
      inFlight: this.inFlightEvents,
      activeRequests: this.requests,
      ...this.totals,
      batchSize: this.batchSize,
      closed: this.closed,
      lastError: this.lastError,
    };
  }

  /** Queues one event; returns its UUID. Throws a `TypeError` for an event that cannot be serialised. */
  capture(input: CaptureInput): string {
    const uuid = input.uuid ?? uuidv7(this.settings.clock.now());
    const timestamp =
      input.timestamp === undefined
        ? new Date(this.settings.clock.now()).toISOString()
        : typeof input.timestamp === 'string'
          ? input.timestamp
          : input.timestamp.toISOString();
    const properties: Record<string, unknown> = { ...input.properties, ...this.settings.superProperties };
    if (input.groups !== undefined) properties['$groups'] = { ...input.groups };
    const json = JSON.stringify({ uuid, event: input.event, distinct_id: input.distinctId, properties, timestamp });
    this.totals.captured++;
    const queued: Queued = { uuid, json };
    if (this.closed) {
      this.report('closed', [queued]);
      return uuid;
    }
    if (this.queue.size + this.inFlightEvents >= this.settings.maxQueueSize) {
      if (this.settings.overflow === 'drop-oldest' && this.queue.size > 0) {
        this.overflow(this.queue.popFront() as Queued);
      } else {
        this.overflow(queued);
        return uuid;
      }
    }
    this.queue.pushBack(queued);
    this.afterEnqueue();
    return uuid;
  }

  private afterEnqueue(): void {
    const { clock, flushAt, flushIntervalMs } = this.settings;
    if (this.running !== undefined) return;
    if (this.queue.size >= flushAt && clock.now() >= this.notBefore) {
      void this.flush();
      return;
    }
    if (this.timer === undefined) this.schedule(Math.max(flushIntervalMs, this.notBefore - clock.now()));
  }

  private schedule(delayMs: number): void {
    const { clock } = this.settings;
    if (this.timer !== undefined) clock.clearTimer(this.timer);
    // Never keeps the process alive: call shutdown() to deliver what is queued before exiting.
    this.timer = clock.setTimer(
      () => {
        this.timer = undefined;
        if (this.queue.size > 0 && !this.closed) void this.flush();
      },
      delayMs,
      false,
    );
  }

  private overflow(event: Queued): void {
    if (this.pendingOverflow.length === 0) {
      // One report per burst: a flood of captures into a full queue makes one event, not thousands.
      queueMicrotask(() => {
        const dropped = this.pendingOverflow;
        this.pendingOverflow = [];
        this.report('queue-full', dropped);
      });
    }
    this.pendingOverflow.push(event);
  }

  private report(reason: DropReason, events: readonly Queued[], error?: unknown): void {
    this.totals.dropped += events.length;
    const { events: emitter, name } = this.settings;
    if (!emitter.active || events.length === 0) return;
    const payloads = events.map((event) => JSON.parse(event.json) as CapturedEvent);
    emitter.emit(
      error === undefined
        ? { type: 'dropped', policy: name, reason, count: events.length, events: payloads }
        : { type: 'dropped', policy: name, reason, count: events.length, events: payloads, error },
    );
  }

  /**
   * Sends everything queued, batch after batch; resolves when the queue is empty or a batch could not
   * be delivered now (it is back in the queue). Never rejects. Concurrent calls share one run. Before
   * the wait the last failure asked for has passed, waits it out first (sending sooner would only be
   * refused again; resolving at once would make a caller's `while (queued) await flush()` spin without
   * ever yielding to the event loop); a shutdown's deadline ends the wait, with `retryInMs` left.
   */
  flush(): Promise<FlushResult> {
    if (this.running !== undefined) return this.running;
    const { clock } = this.settings;
    if (this.timer !== undefined) {
      clock.clearTimer(this.timer);
      this.timer = undefined;
    }
    const heldForMs = this.heldUntil - clock.now();
    const drained =
      heldForMs > 0 && this.queue.size > 0
        ? clock.sleep(heldForMs, this.stop.signal).then(
            () => this.drain(),
            (): FlushResult => ({
              sent: 0,
              dropped: 0,
              queued: this.queue.size,
              retryInMs: Math.max(0, this.heldUntil - clock.now()),
            }),
          )
        : this.drain();
    const run = drained.finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private take(): Queued[] {
    const batch: Queued[] = [];
    let bytes = 0;
    for (let next = this.queue.at(0); next !== undefined && batch.length < this.batchSize; next = this.queue.at(0)) {
      if (batch.length > 0 && bytes + next.json.length > this.settings.maxBatchBytes) break;
      bytes += next.json.length + 1;
      batch.push(this.queue.popFront() as Queued);
    }
    return batch;
  }

  private async drain(): Promise<FlushResult> {
    let sent = 0;
    let dropped = 0;
    while (this.queue.size > 0 && !this.stop.signal.aborted) {
      const batch = this.take();
      this.inFlightEvents += batch.length;
      const sentBefore = this.totals.sent;
      const droppedBefore = this.totals.dropped;
      const delivery = await this.deliver(batch);
      this.inFlightEvents -= batch.length;
      sent += this.totals.sent - sentBefore;
      dropped += this.totals.dropped - droppedBefore;
      if (delivery.ok) continue;
      // Back to the front, in order, for the next flush.
      this.queue.pushFrontAll(delivery.undelivered);
      this.lastError = delivery.error;
      // Any error may say how long to wait: a 429's Retry-After, an open breaker's time to its probe.
      const hint = (delivery.error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
      const retryAfterMs = typeof hint === 'number' && Number.isFinite(hint) ? Math.min(hint, MAX_TIMER_DELAY_MS) : 0;
      const retryInMs = Math.max(this.settings.flushIntervalMs, retryAfterMs);
      const now = this.settings.clock.now();
      this.notBefore = now + retryInMs;
      this.heldUntil = now + retryAfterMs;
      if (!this.closed) this.schedule(retryInMs);
      const { events: emitter, name } = this.settings;
      if (emitter.active) {
        emitter.emit({
          type: 'flush-failed',
          policy: name,
          count: delivery.undelivered.length,
          error: delivery.error,
          retryInMs,
        });
      }
      break;
    }
    return { sent, dropped, queued: this.queue.size };
  }

  /** Delivers `batch`, splitting it on 413/400 down to single events; what is left undelivered comes back. */
  private async deliver(batch: readonly Queued[]): Promise<Delivery> {
    try {
      await this.send(batch);
      this.totals.sent += batch.length;
      this.lastError = undefined;
      return { ok: true };
    } catch (error) {
      if (this.stop.signal.aborted) return { ok: false, undelivered: batch, error };
      if (!isPostHogHttpError(error)) return { ok: false, undelivered: batch, error };
      const status = error.status;
      if (error.retryable) return { ok: false, undelivered: batch, error };
      if (status !== 413 && status !== 400) {
        this.report('rejected', batch, error);
        return { ok: true };
      }
      if (batch.length === 1) {
        this.report(status === 413 ? 'too-large' : 'rejected', batch, error);
        return { ok: true };
      }
      const { events: emitter, name } = this.settings;
      if (emitter.active) emitter.emit({ type: 'batch-split', policy: name, size: batch.length, status });
      const middle = Math.ceil(batch.length / 2);
      // Later batches start smaller after a 413, as posthog-node does.
      if (status === 413) this.batchSize = Math.max(1, Math.min(this.batchSize, batch.length - middle));
      const first = await this.deliver(batch.slice(0, middle));
      if (!first.ok)
        return { ok: false, undelivered: [...first.undelivered, ...batch.slice(middle)], error: first.error };
      return this.deliver(batch.slice(middle));
    }
  }

  private async send(batch: readonly Queued[]): Promise<void> {
    const { settings } = this;
    const started = settings.clock.now();
    let json = `{"api_key":${JSON.stringify(settings.token())},`;
    if (settings.historicalMigration) json += '"historical_migration":true,';
    json += `"sent_at":"${new Date(started).toISOString()}","batch":[`;
    for (let i = 0; i < batch.length; i++) json += (i === 0 ? '' : ',') + (batch[i] as Queued).json;
    json += ']}';
    let body: Buffer;
    this.requests++;
    try {
      body = settings.compression ? await gzipAsync(json) : Buffer.from(json);
    } finally {
      this.requests--;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': settings.userAgent };
    if (settings.compression) headers['content-encoding'] = 'gzip';
    await settings.policy.execute(async (ctx) => {
      this.requests++;
      try {
        await exchange(
          settings.fetch,
          'ingestion',
          this.url,
          { method: 'POST', headers, body, signal: ctx.signal },
          Date.now,
          settings.maxResponseBytes,
          settings.redact,
        );
      } finally {
        this.requests--;
      }
    }, this.stop.signal);
    if (settings.events.active) {
      settings.events.emit({
        type: 'flushed',
        policy: settings.name,
        count: batch.length,
        bytes: body.length,
        durationMs: settings.clock.now() - started,
      });
    }
  }

  /**
   * Stops taking events and delivers what is queued, until the queue is empty or `timeoutMs` passes
   * on the clock; then aborts what is in flight and reports what is left as dropped (`shutdown`).
   */
  shutdown(timeoutMs: number): Promise<ShutdownResult> {
    return (this.closing ??= this.close(timeoutMs));
  }

  private async close(timeoutMs: number): Promise<ShutdownResult> {
    const { clock } = this.settings;
    this.closed = true;
    if (this.timer !== undefined) {
      clock.clearTimer(this.timer);
      this.timer = undefined;
    }
    const sentBefore = this.totals.sent;
    const droppedBefore = this.totals.dropped;
    const deadline = clock.setTimer(() => this.stop.abort(new PostHogClosedError()), timeoutMs, false);
    try {
      while (this.queue.size > 0 || this.running !== undefined) {
        if (this.stop.signal.aborted) break;
        await this.flush();
        if (this.queue.size === 0 || this.stop.signal.aborted) continue;
        // A batch failed for now: wait as asked (or until the deadline), then go again.
        const waitMs = Math.max(0, this.notBefore - clock.now());
        if (this.timer !== undefined) {
          clock.clearTimer(this.timer);
          this.timer = undefined;
        }
        await clock.sleep(waitMs, this.stop.signal).catch(() => undefined);
      }
      if (this.running !== undefined) await this.running;
    } finally {
      clock.clearTimer(deadline);
      if (this.timer !== undefined) clock.clearTimer(this.timer);
      this.timer = undefined;
    }
    const drained = this.queue.size === 0;
    this.report('shutdown', this.queue.drain());
    return { sent: this.totals.sent - sentBefore, dropped: this.totals.dropped - droppedBefore, drained };
  }
}
