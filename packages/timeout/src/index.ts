/**
 * @bulwark/timeout: cooperative and aggressive timeouts that share one timer per duration.
 *
 * @module
 */

export { isTimeoutError, TimeoutError } from './errors.js';
export { timeout } from './timeout.js';
export type { Timeout, TimeoutEvent, TimeoutOptions, TimeoutStrategy } from './timeout.js';
