/**
 * Combinators callable data-first (`cap(schedule, 1_000)`) or data-last (`pipe(schedule, cap(1_000))`),
 * as Effect's `dual` does: one line without fp-ts, a pipeline with it.
 *
 * @module
 */

/**
 * A combinator with one parameter, in both call styles.
 *
 * @category models
 * @since 0.1.0
 */
export interface Combinator<D, P> {
  /** Data-last: the combinator, to apply later (with `pipe`, or by calling it on the data). */
  (param: P): (data: D) => D;
  /** Data-first: the data with the combinator applied. */
  (data: D, param: P): D;
}

/**
 * Makes a {@link Combinator}. Both arguments are checked, the parameter at once in both styles, so a
 * bad one fails where it is written rather than where the combinator is later applied.
 */
export function dual<D, P>(
  checkData: (data: unknown) => D,
  checkParam: (param: unknown) => P,
  build: (data: D, param: P) => D,
): Combinator<D, P> {
  function combinator(...args: [unknown] | [unknown, unknown]): D | ((data: D) => D) {
    if (args.length >= 2) return build(checkData(args[0]), checkParam(args[1]));
    const param = checkParam(args[0]);
    return (data: D) => build(checkData(data), param);
  }
  return combinator as Combinator<D, P>;
}
