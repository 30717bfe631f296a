/**
 * Failure paths: how much a call refused by an open breaker costs, against a bare async call that
 * rejects (what the call would have cost had it gone out and failed at once), for Bulwark's breaker,
 * cockatiel 3's and opossum 9's. Each breaker is opened the way production opens it, by failures
 * (5 in a row; opossum by its error percentage), with an hour before it half-opens, and is checked
 * to have stayed open and run no task while it was measured.
 *
 * A refusal builds an error (Bulwark's `BrokenCircuitError`, cockatiel's `BrokenCircuitError`,
 * opossum's `Error('Breaker is open')`), so the baseline rejects with a new `Error` too; the
 * calibration case rejects with one made in advance, to show what building an error costs.
 */

import { breaker, consecutiveFailures } from '@bulwark/breaker';
import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleAll } from 'cockatiel';
import CircuitBreaker from 'opossum';

import { compare, compareAllocation, compareCpuTime, type Case, type Suite } from '../harness.js';

const HOUR_MS = 3_600_000;
const ignore = (): undefined => undefined;

export const failuresSuite: Suite = {
  name: 'failures',
  run: async (ctx) => {
    const premade = new Error('down');
    /** A dependency that fails at once: each call builds its own error, as a failed request would. */
    const rejecting = async (): Promise<never> => {
      throw new Error('down');
    };
    /** The same, behind the breakers, counting the calls that reach it. */
    let calls = 0;
    const failing = (): Promise<never> => {
      calls++;
      return rejecting();
    };

    const bulwark = breaker({ strategy: consecutiveFailures(5), halfOpenAfterMs: HOUR_MS });
    const bulwarkWrapped = bulwark.wrap(failing);
    const cockatiel = circuitBreaker(handleAll, { halfOpenAfter: HOUR_MS, breaker: new ConsecutiveBreaker(5) });
    // opossum opens on an error percentage over its rolling window once `volumeThreshold` calls were seen.
    const opossum = new CircuitBreaker(failing, {
      timeout: false,
      resetTimeout: HOUR_MS,
      errorThresholdPercentage: 50,
      volumeThreshold: 5,
    });
    for (let i = 0; i < 5; i++) {
      await bulwark.execute(failing).catch(ignore);
      await cockatiel.execute(failing).catch(ignore);
      await opossum.fire().catch(ignore);
    }
    const open = (): string[] => [
      ...(bulwark.state === 'open' ? [] : [`bulwark is ${bulwark.state}`]),
      ...(cockatiel.state === CircuitState.Open ? [] : [`cockatiel is ${CircuitState[cockatiel.state]}`]),
      ...(opossum.opened ? [] : ['opossum is not open']),
    ];
    if (open().length > 0) throw new Error(`failures: a breaker did not open: ${open().join(', ')}`);
    calls = 0;

    const baseline: Case = { name: 'bare async call rejecting with a new Error', run: () => rejecting().catch(ignore) };
    const cases: Case[] = [
      {
        name: 'bare async call rejecting with a premade error (calibration)',
        run: async () => {
          try {
            await Promise.reject(premade);
          } catch {
            // Caught as every other case's rejection is.
          }
        },
      },
      { name: 'bulwark consecutiveFailures(5), open: execute', run: () => bulwark.execute(failing).catch(ignore) },
      { name: 'bulwark consecutiveFailures(5), open: wrap(fn)(…)', run: () => bulwarkWrapped().catch(ignore) },
      { name: 'cockatiel 3 ConsecutiveBreaker(5), open: execute', run: () => cockatiel.execute(failing).catch(ignore) },
      { name: 'opossum 9, open: fire()', run: () => opossum.fire().catch(ignore) },
    ];
    try {
      const figures = [
        ...(await compare('failures, open breaker', baseline, cases, ctx)),
        ...(await compareCpuTime('failures, open breaker, cpu (tight loop)', baseline, cases, ctx.quick)),
        ...(await compareAllocation('failures, open breaker, memory', baseline, cases, ctx)),
      ];
      // A breaker that let a call through, or closed, was not measuring refusals.
      if (calls > 0 || open().length > 0) {
        throw new Error(`failures: a breaker let ${calls} calls through or closed: ${open().join(', ')}`);
      }
      return figures;
    } finally {
      bulwark.dispose();
      opossum.shutdown();
    }
  },
};
