/** The token a breaker's `enter` returns for a probe (closed calls get a number: their start time or 0). */
export class Probe {
  constructor(
    /** The breaker's generation when admitted: an outcome from an earlier state does not count. */
    readonly generation: number,
    /** When the probe started, on the breaker's clock (ms). */
    readonly start: number,
    /** The fleet lease, when the fleet granted the probe. */
    readonly lease: string | undefined,
    /** The fleet generation the lease was granted in. */
    readonly fleetGeneration: string,
  ) {}
}
