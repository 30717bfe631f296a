/**
 * Structured logs: one JSON record per call outcome and per policy event worth a line, each with the
 * call's correlation id (the Flask seed's request ids), through a {@link Logger} that pino fits as it
 * is (`logger.info(record, message)`), and console too.
 *
 * Every record passes through the {@link Redactor} before it reaches the logger: strings, error
 * messages, stacks and causes, and object keys that name secrets. Records below the configured level
 * are never built.
 *
 * @module
 */

import { type Context, type Json, type Outcome, type PolicyEvent } from '@bulwark/core';
import { optionChecker, type OptionChecker } from '@bulwark/core/options';

import { redactorOf } from './health.js';
import type { SinkBinding, TelemetrySink } from './instrument.js';
import { errorTag } from './internal/error-tag.js';
import { eventFields } from './internal/events.js';
import type { RedactOptions, Redactor } from './redact.js';
import { formatDuration } from './report.js';

const check: OptionChecker = optionChecker('@bulwark/telemetry');

/**
 * Severity of a log record.
 *
 * @since 0.1.0
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * A structured log record: JSON-safe and redacted.
 *
 * @since 0.1.0
 */
export type LogRecord = { readonly [field: string]: Json };

/**
 * Where log records go. pino's loggers fit as they are; so does `console` (which prints the record
 * with `util.inspect` rather than as JSON: use {@link jsonLineLogger} for JSON lines without pino).
 *
 * @since 0.1.0
 */
export interface Logger {
  debug(record: LogRecord, message: string): void;
  info(record: LogRecord, message: string): void;
  warn(record: LogRecord, message: string): void;
  error(record: LogRecord, message: string): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const RANK: Readonly<Record<LogLevel | 'off', number>> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

/**
 * A {@link Logger} that writes one JSON object per line: `{"level","time","msg",…record}`.
 *
 * @param write - Receives each line, newline included.
 * @default write: process.stdout.write
 * @example
 * ```ts
 * const lines: string[] = [];
 * const logger = jsonLineLogger((line) => lines.push(line), () => 0);
 * logger.warn({ policy: 'db', correlationId: 'req-1' }, 'db failed');
 * assert.equal(lines[0], '{"level":"warn","time":"1970-01-01T00:00:00.000Z","msg":"db failed","policy":"db","correlationId":"req-1"}\n');
 * ```
 *
 * @since 0.1.0
 */
export function jsonLineLogger(
  write: (line: string) => void = (line) => void process.stdout.write(line),
  now: () => number = Date.now,
): Logger {
  check.func('write', write, undefined);
  check.func('now', now, undefined);
  // A clock that returns no time must not make every line throw: such a line says `time: null`.
  const timeOf = (ms: unknown): string | null =>
    typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
  const line =
    (level: LogLevel) =>
    (record: LogRecord, message: string): void =>
      write(`${JSON.stringify({ level, time: timeOf(now()), msg: message, ...record })}\n`);
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/**
 * The level each kind of event is logged at, by event type; `off` drops it.
 *
 * @since 0.1.0
 */
export type LogLevels = { readonly [kind: string]: LogLevel | 'off' };

/**
 * The default levels of events: retries, waits and cache staleness at `info`; rejections, timeouts,
 * give-ups, breaker state changes, validation failures at `warn`; store errors at `error`; cache
 * hits and misses, a retry's `success` and other events at `debug`.
 *
 * @example
 * ```ts
 * assert.equal(DEFAULT_LOG_LEVELS['state-change'], 'warn');
 * const quieter = jsonLogs({ levels: { ...DEFAULT_LOG_LEVELS, retry: 'debug' } });
 * assert.equal(typeof quieter.bind, 'function');
 * ```
 *
 * @since 0.1.0
 */
export const DEFAULT_LOG_LEVELS: LogLevels = {
  retry: 'info',
  success: 'debug',
  'give-up': 'warn',
  rejected: 'warn',
  timeout: 'warn',
  'state-change': 'warn',
  'store-error': 'error',
  stale: 'info',
  invalid: 'warn',
  'quality-violation': 'warn',
  waited: 'info',
  queued: 'debug',
  admitted: 'debug',
  hit: 'debug',
  miss: 'debug',
  refresh: 'debug',
};

/**
 * Options of {@link jsonLogs}.
 *
 * @since 0.1.0
 */
export interface JsonLogsOptions {
  /**
   * Where records go.
   * @default jsonLineLogger() (JSON lines on stdout)
   */
  readonly logger?: Logger;
  /**
   * The least severe level written; records below it are never built.
   * @default 'info'
   */
  readonly level?: LogLevel;
  /**
   * Levels per event type, merged over {@link DEFAULT_LOG_LEVELS}; event types not listed there log
   * at `debug`.
   * @default DEFAULT_LOG_LEVELS
   */
  readonly levels?: LogLevels;
  /**
   * Levels of the record written when a call ends, by outcome.
   * @default { success: 'debug', failure: 'warn' }
   */
  readonly callLevels?: { readonly success?: LogLevel | 'off'; readonly failure?: LogLevel | 'off' };
  /**
   * Fields added to every record (a service name, an environment); redacted like the rest.
   * @default {}
   */
  readonly fields?: { readonly [field: string]: Json };
  /**
   * How secrets are removed (a {@link Redactor}, or its options, e.g. `{ secrets: [apiKey] }`).
   * @default redactor()
   */
  readonly redact?: Redactor | RedactOptions;
}

/**
 * The JSON logs sink: a record per call outcome and per policy event, with the call's correlation id.
 *
 * A call's record: `{ policy, correlationId, outcome: 'success' | 'failure', durationMs, attempt, error? }`.
 * An event's record: `{ policy, source, event, correlationId?, …the event's fields }` (e.g. `attempt`,
 * `delayMs`, `from`, `to`, `retryAfterMs`, `error`).
 *
 * @throws TypeError or RangeError when an option is malformed.
 * @example
 * ```ts
 * import { noop } from '@bulwark/core';
 * const lines: string[] = [];
 * const logs = jsonLogs({ logger: jsonLineLogger((line) => lines.push(line)), redact: { secrets: ['opa_live_abcdef123456'] } });
 * const client = instrument(noop, [logs], { name: 'oilprice' });
 * await client
 *   .execute(async () => Promise.reject(new Error('401 for key opa_live_abcdef123456')), { correlationId: 'req-7' })
 *   .catch(() => undefined);
 * const record = JSON.parse(lines[0] ?? '{}') as { correlationId: string; error: { message: string } };
 * assert.equal(record.correlationId, 'req-7');
 * assert.equal(record.error.message, '401 for key [REDACTED]');
 * ```
 *
 * @since 0.1.0
 */
export function jsonLogs(options: JsonLogsOptions = {}): TelemetrySink {
  check.object('options', options);
  const logger = options.logger ?? jsonLineLogger();
  for (const level of LEVELS) {
    if (typeof (logger as Partial<Logger>)?.[level] !== 'function') {
      check.fail('logger', 'a logger with debug, info, warn and error methods', logger);
    }
  }
  const threshold = RANK[check.oneOf('level', options.level, 'info', LEVELS)];
  const given = check.object('levels', options.levels) as LogLevels;
  for (const [kind, level] of Object.entries(given)) check.oneOf(`levels.${kind}`, level, 'off', [...LEVELS, 'off']);
  const levels: LogLevels = { ...DEFAULT_LOG_LEVELS, ...given };
  const callLevels = check.object('callLevels', options.callLevels) as NonNullable<JsonLogsOptions['callLevels']>;
  const enabled = (level: LogLevel | 'off'): LogLevel | undefined =>
    level !== 'off' && RANK[level] >= threshold ? level : undefined;
  const successLevel = enabled(check.oneOf('callLevels.success', callLevels.success, 'debug', [...LEVELS, 'off']));
  const failureLevel = enabled(check.oneOf('callLevels.failure', callLevels.failure, 'warn', [...LEVELS, 'off']));
  const redact = redactorOf(options.redact);
  const fields = redact.value(check.object('fields', options.fields)) as LogRecord;

  /** The level an event type logs at, or undefined when it is off or below the threshold. */
  const levelOf = (type: string): LogLevel | undefined =>
    enabled(Object.prototype.hasOwnProperty.call(levels, type) ? (levels[type] ?? 'debug') : 'debug');

  const write = (level: LogLevel, record: Record<string, Json>, message: string): void => {
    logger[level]({ ...fields, ...record }, redact.text(message));
  };

  return {
    bind(policy) {
      const name = redact.text(policy);
      const binding: SinkBinding = {
        end(context: Context, durationMs: number, outcome: Outcome) {
          const level = outcome.ok ? successLevel : failureLevel;
          if (level === undefined) return;
          const record: Record<string, Json> = {
            policy: name,
            correlationId: redact.text(context.correlationId),
            outcome: outcome.ok ? 'success' : 'failure',
            durationMs: Math.round(durationMs * 1000) / 1000,
            attempt: context.attempt,
          };
          if (!outcome.ok) record['error'] = redact.error(outcome.value);
          const message = outcome.ok
            ? `${name} succeeded in ${formatDuration(durationMs)}`
            : `${name} failed with ${errorTag(outcome.value)} after ${formatDuration(durationMs)}`;
          write(level, record, message);
        },
        event(event: PolicyEvent) {
          const level = levelOf(event.type);
          if (level === undefined) return;
          // Built raw, then redacted whole: errors among the fields become error records.
          const record: Record<string, unknown> = { policy: name, source: event.policy, event: event.type };
          if (event.context !== undefined) record['correlationId'] = event.context.correlationId;
          for (const [key, value] of eventFields(event)) if (!(key in record)) record[key] = value;
          write(level, redact.value(record) as Record<string, Json>, `${event.policy}: ${event.type}`);
        },
      };
      return binding;
    },
  };
}
