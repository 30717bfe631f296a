/**
 * @bulwark/validate: decode what a task returns with io-ts, and judge whether it is believable.
 *
 * @module
 */

export { decode } from './decode.js';
export type { DecodeOptions } from './decode.js';
export { DataQualityError, isDataQualityError, isInvalidResult, isValidationError, ValidationError } from './errors.js';
export type { Violation } from './errors.js';
export { freshness, isFresh, timeOf } from './freshness.js';
export { parseJson } from './json.js';
export type { FreshnessOptions, Timestamp } from './freshness.js';
export { maxChange, withinChange } from './max-change.js';
export type { ChangeLimit, LastGood, MaxChangeOptions } from './max-change.js';
export { each, predicate } from './predicate.js';
export type { PredicateOptions } from './predicate.js';
export { range, withinRange } from './range.js';
export type { Bounds, RangeOptions } from './range.js';
export { judge } from './rule.js';
export type { JudgeOptions, Rule, RuleEnvironment, Verdict } from './rule.js';
export { memoryStore, MemoryStore } from './store.js';
export type { KeyValueStore, MemoryStoreOptions } from './store.js';
export { failures, formatPaths, formatTree } from './tree.js';
export type { DecodeFailure, DecodeFailureReason, RenderOptions, TreeStep, ValidationTree } from './tree.js';
export { validate } from './validate.js';
export type {
  InvalidEvent,
  QualityViolationEvent,
  StoreErrorEvent,
  ValidateEvent,
  ValidateOptions,
  ValidatePolicy,
} from './validate.js';
