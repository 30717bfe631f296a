/**
 * @bulwark/posthog: a PostHog driver that stays inside the published rate limits and loses no events.
 *
 * @module
 */

export { posthog } from './posthog.js';
export { isRetryablePostHogFailure } from './retrying.js';
export type { PostHog, PostHogOptions } from './posthog.js';
export type { ColumnType, ListOptions, QueryOptions, QueryResult } from './api.js';
export type { CaptureEvent, CaptureInput, CapturedEvent, DropReason, FlushResult, ShutdownResult } from './capture.js';
export {
  Annotation,
  Cohort,
  ErrorEnvelope,
  EventRow,
  Experiment,
  FeatureFlag,
  HogQLResponse,
  Insight,
  Page,
  Person,
  PropertyDefinition,
  SessionRecording,
  entityCodecs,
} from './codecs.js';
export type { EntityOf } from './codecs.js';
export {
  PostHogClosedError,
  PostHogDecodeError,
  PostHogHttpError,
  PostHogNetworkError,
  isPostHogClosedError,
  isPostHogDecodeError,
  isPostHogHttpError,
  isPostHogNetworkError,
} from './errors.js';
export type { PostHogHost } from './errors.js';
export { ENTITY_KINDS, bucketOf } from './kinds.js';
export { POSTHOG_API_LIMITS } from './limits.js';
export type { PostHogRate } from './limits.js';
export type { ApiBucket, EntityKind, Field } from './kinds.js';
export type { Fetch } from './internal/http.js';
