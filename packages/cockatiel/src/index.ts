/**
 * @bulwark/cockatiel: move from cockatiel to Bulwark one policy at a time.
 *
 * @module
 */

export { fromCockatiel } from './from-cockatiel.js';
export type { FromCockatielOptions } from './from-cockatiel.js';
export { toCockatiel } from './to-cockatiel.js';
export type { CockatielPolicy } from './to-cockatiel.js';
