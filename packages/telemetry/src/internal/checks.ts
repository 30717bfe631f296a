/**
 * Shape checks for options, taking `unknown` so that a failed check does not narrow the option's
 * declared type (the option checker then throws naming it).
 */

/** Whether `value` is an array whose every item passes `item`. */
export function isArrayOf(
  value: unknown,
  item: (item: unknown, index: number, all: readonly unknown[]) => boolean,
): boolean {
  return Array.isArray(value) && value.every((v, i, all) => item(v, i, all));
}

/** Whether `value` is a strictly increasing array of positive finite numbers (histogram bucket bounds). */
export function isIncreasingPositive(value: unknown): boolean {
  return isArrayOf(
    value,
    (b, i, all) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > (all[i - 1] as number)),
  );
}
