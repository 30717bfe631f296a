import { describe, expect, it } from '@jest/globals';
import { pipeline, type Policy, type Task } from '@bulwark/core';
import { policyLaws, policySpec, toPolicy, VirtualClock } from '@bulwark/testkit';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { instrument, jsonLineLogger, jsonLogs, metrics } from '../src/index.js';
import { VERSION } from '../src/internal/version.js';
import { retrying } from './fixtures.js';

const quietLogs = jsonLogs({ logger: jsonLineLogger(() => undefined), level: 'debug' });

describe('laws', () => {
  policyLaws(it, 'instrument(retry)', ({ clock }) =>
    instrument(retrying(2, 100, clock), [metrics({ clock }), quietLogs], { clock }),
  );
  policyLaws(
    it,
    'instrument(retry), concurrent calls',
    ({ clock }) => instrument(retrying(1, 10, clock), [metrics({ clock })], { clock }),
    {
      concurrent: true,
    },
  );

  it('an instrumented policy behaves exactly as the policy, and counts every call once', async () => {
    await fc.assert(
      fc.asyncProperty(
        policySpec,
        fc.array(fc.boolean(), { maxLength: 8 }),
        fc.integer({ min: 1, max: 4 }),
        async (spec, failures, calls) => {
          const run = async (wrap: (p: Policy) => Policy): Promise<{ trace: string[]; results: string[] }> => {
            const trace: string[] = [];
            const policy = wrap(toPolicy(spec, trace, (parts) => pipeline(...parts)));
            let n = 0;
            const task: Task<unknown> = () => {
              const call = n++;
              trace.push(`task${call}`);
              return failures[call] === true ? Promise.reject(new Error(`fail ${call}`)) : Promise.resolve(call);
            };
            const results: string[] = [];
            for (let i = 0; i < calls; i++) {
              results.push(
                await policy.execute(task).then(
                  (v) => `ok:${JSON.stringify(v)}`,
                  (e: unknown) => `err:${(e as Error).message}`,
                ),
              );
            }
            return { trace, results };
          };
          const stats = metrics({ clock: new VirtualClock() });
          try {
            const plain = await run((p) => p);
            const measured = await run((p) => instrument(p, [stats, quietLogs]));
            expect(measured).toEqual(plain);
            const [row] = stats.snapshot().policies;
            expect(row?.calls).toBe(calls);
            expect(row?.failures).toBe(plain.results.filter((r) => r.startsWith('err:')).length);
            expect(row?.latency.count).toBe(calls);
          } finally {
            stats.dispose();
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
