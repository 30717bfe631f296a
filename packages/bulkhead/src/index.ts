/**
 * @bulwark/bulkhead: a concurrency limit with a bounded O(1) FIFO queue, abort-aware.
 *
 * @module
 */

export { admission } from './admission.js';
export type { Admission } from './admission.js';
export { bulkhead } from './bulkhead.js';
export type {
  Bulkhead,
  BulkheadAbandonedEvent,
  BulkheadAdmittedEvent,
  BulkheadEvent,
  BulkheadOptions,
  BulkheadQueuedEvent,
  BulkheadRejectedEvent,
} from './bulkhead.js';
export { BulkheadRejectedError, isBulkheadRejectedError } from './errors.js';
