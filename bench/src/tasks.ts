/**
 * The tasks the suites measure policies around, shared so that every suite's failure path is the
 * same one.
 */

/** A task that fails three times, then succeeds: one call of a retry makes four attempts. */
export function flaky(): () => Promise<number> {
  // One error, made once: a stack trace per attempt would dwarf what is measured.
  const error = new Error('flaky');
  let calls = 0;
  return async () => {
    if (++calls % 4 !== 0) throw error;
    return 1;
  };
}

/** The baseline of a failure path: `task` retried at once until it succeeds, by hand. */
export function retriedByHand(task: () => Promise<number>): () => Promise<number> {
  return async () => {
    for (;;) {
      try {
        return await task();
      } catch {
        // retried at once
      }
    }
  };
}
