/**
 * @bulwark/telemetry: see what the policies are doing. Attach with `instrument(policy, sinks)`;
 * in-process metrics, JSON logs and the health report are here, OpenTelemetry and Prometheus on
 * their own entry points (`@bulwark/telemetry/opentelemetry`, `@bulwark/telemetry/prometheus`) so
 * that neither library is loaded unless used.
 *
 * @module
 */

export { healthHandler, healthReport, worstStatus } from './health.js';
export type {
  ComponentHealth,
  HealthHandlerOptions,
  HealthReport,
  HealthReportOptions,
  HealthSnapshot,
} from './health.js';
export { instrument } from './instrument.js';
export type { InstrumentedPolicy, InstrumentOptions, SinkBinding, TelemetrySink } from './instrument.js';
export { DEFAULT_LOG_LEVELS, jsonLineLogger, jsonLogs } from './logs.js';
export type { JsonLogsOptions, Logger, LogLevel, LogLevels, LogRecord } from './logs.js';
export { metrics } from './metrics.js';
export type { LatencySummary, MetricsOptions, MetricsSink, MetricsSnapshot, PolicyMetrics } from './metrics.js';
export { hideSecrets, REDACTED, redactor, SECRET_KEYS } from './redact.js';
export type { ErrorRecord, RedactOptions, Redactor } from './redact.js';
export { formatDuration, renderReport } from './report.js';
