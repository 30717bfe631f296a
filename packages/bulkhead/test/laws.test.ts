import { describe, it } from '@jest/globals';
import { policyLaws, settle } from '@bulwark/testkit';
import fc from 'fast-check';

import { admission, bulkhead, isBulkheadRejectedError } from '../src/index.js';

policyLaws(it, 'bulkhead', ({ clock }) => bulkhead({ capacity: 2, queueSize: 3, clock }));
policyLaws(it, 'bulkhead (calls at once)', ({ clock }) => bulkhead({ capacity: 2, queueSize: 2, clock }), {
  concurrent: true,
});
policyLaws(it, 'bulkhead (no queue, calls at once)', ({ clock }) => bulkhead({ capacity: 1, clock }), {
  concurrent: true,
});

describe('admission (the pure decision)', () => {
  it('runs only with a free slot and an empty queue, queues only with room, rejects otherwise', () => {
    fc.assert(
      fc.property(
        fc.nat(20),
        fc.nat(20),
        fc.integer({ min: 1, max: 20 }),
        fc.nat(20),
        (running, queued, capacity, size) => {
          const decision = admission(running, queued, capacity, size);
          if (decision === 'run') return running < capacity && queued === 0;
          if (decision === 'queue') return (running >= capacity || queued > 0) && queued < size;
          return (running >= capacity || queued > 0) && queued >= size;
        },
      ),
    );
  });
});

/** One step of a generated scenario. */
type Step =
  | { readonly kind: 'submit'; readonly abortable: boolean }
  | { readonly kind: 'finish'; readonly pick: number; readonly ok: boolean }
  | { readonly kind: 'abort'; readonly pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('submit' as const), abortable: fc.boolean() }),
  fc.record({ kind: fc.constant('finish' as const), pick: fc.nat(), ok: fc.boolean() }),
  fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }),
);

describe('bulkhead laws (against a model, over generated scenarios)', () => {
  it('running <= capacity, queued <= queueSize, admitted calls run once each in FIFO order, aborted waiters never run', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        // Small queues, and some long enough to make the ring grow, compact its holes and shrink.
        fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 17, max: 48 })),
        fc.array(step, { maxLength: 160 }),
        async (capacity, queueSize, steps) => {
          const pool = bulkhead({ capacity, queueSize });
          // The model: ids of calls running and waiting, in order.
          const running: number[] = [];
          const waiting: number[] = [];
          const started: number[] = [];
          const expectedStarts: number[] = [];
          const finishers = new Map<number, (ok: boolean) => void>();
          const controllers = new Map<number, AbortController>();
          const settled = new Map<number, 'ok' | 'failed' | 'rejected' | 'aborted'>();
          let next = 0;

          const check = (label: string): void => {
            const ok =
              pool.running === running.length &&
              pool.queued === waiting.length &&
              pool.running <= capacity &&
              pool.queued <= queueSize &&
              JSON.stringify(started) === JSON.stringify(expectedStarts);
            if (!ok) {
              throw new Error(
                `${label}: bulkhead ${pool.running}/${pool.queued}, model ${running.length}/${waiting.length}; started ${JSON.stringify(started)} expected ${JSON.stringify(expectedStarts)}`,
              );
            }
          };

          for (const s of steps) {
            if (s.kind === 'submit') {
              const id = next++;
              const controller = s.abortable ? new AbortController() : undefined;
              if (controller !== undefined) controllers.set(id, controller);
              const call = pool.execute(
                () =>
                  new Promise<number>((resolve, reject) => {
                    started.push(id);
                    finishers.set(id, (ok) => (ok ? resolve(id) : reject(new Error(`call ${id} failed`))));
                  }),
                controller?.signal,
              );
              call.then(
                () => settled.set(id, 'ok'),
                (error: unknown) =>
                  settled.set(
                    id,
                    isBulkheadRejectedError(error) ? 'rejected' : error === 'aborted' ? 'aborted' : 'failed',
                  ),
              );
              const decision = admission(running.length, waiting.length, capacity, queueSize);
              if (decision === 'run') {
                running.push(id);
                expectedStarts.push(id);
              } else if (decision === 'queue') waiting.push(id);
            } else if (s.kind === 'finish') {
              if (running.length === 0) continue;
              const id = running.splice(s.pick % running.length, 1)[0] as number;
              finishers.get(id)?.(s.ok);
              const head = waiting.shift();
              if (head !== undefined) {
                running.push(head);
                expectedStarts.push(head);
              }
            } else {
              const abortable = waiting.filter((id) => controllers.has(id));
              if (abortable.length === 0) continue;
              const id = abortable[s.pick % abortable.length] as number;
              waiting.splice(waiting.indexOf(id), 1);
              controllers.get(id)?.abort('aborted');
            }
            await settle();
            check(`after ${s.kind}`);
          }
          // Let everything finish: every admitted call runs exactly once.
          while (running.length > 0) {
            const id = running.shift() as number;
            finishers.get(id)?.(true);
            const head = waiting.shift();
            if (head !== undefined) {
              running.push(head);
              expectedStarts.push(head);
            }
            await settle();
          }
          check('at the end');
          if (new Set(started).size !== started.length) throw new Error('a call ran twice');
          for (const [id, outcome] of settled) {
            if (outcome === 'aborted' && started.includes(id)) throw new Error(`aborted waiter ${id} ran`);
          }
          if (settled.size !== next) throw new Error(`${next - settled.size} calls never settled`);
        },
      ),
      { numRuns: 200 },
    );
  });
});
