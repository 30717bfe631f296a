// Bounds waits on real I/O (loopback HTTP, Redis) so a hang fails the test with a message instead of
// stalling it. The bound only detects hangs: no assertion depends on how long anything took.

/** Thrown when a promise has not settled within the bound. */
export class Hung extends Error {
  constructor(readonly boundMs: number) {
    super(`still pending after ${boundMs} ms of wall time: hung`);
    this.name = 'Hung';
  }
}

/** Settles as `promise` does, or rejects with {@link Hung} when it is still pending after `boundMs`. */
export function settleWithin<A>(promise: Promise<A>, boundMs: number): Promise<A> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Hung(boundMs)), boundMs);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}
