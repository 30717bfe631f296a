import { describe, expect, it } from '@jest/globals';
import {
  definePolicy,
  noop,
  PASS,
  pipeline,
  refuse,
  type Scope,
  type Gate,
  type Outcome,
  type Policy,
  type Task,
} from '@bulwark/core';
import { VirtualClock } from '@bulwark/testkit';

/** A gate that records its entries and exits in `log`. */
function tracing(id: string, log: string[], extra: Partial<Gate> = {}): Policy {
  return definePolicy(id, [
    {
      gate: {
        enter: () => void log.push(`enter ${id}`),
        exit: (_token: unknown, outcome: Outcome) => {
          log.push(`exit ${id} ${outcome.ok ? 'ok' : 'fail'}`);
          return PASS;
        },
        ...extra,
      },
    },
  ]);
}

/** A gate that asks for `times` retries after `delayMs`, sleeping on `clock`. */
function retrying(times: number, delayMs: number, clock: VirtualClock, log: string[]): Policy {
  return definePolicy('retrying', [
    {
      gate: {
        enter: () => ({ left: times }),
        exit: (token: { left: number }, outcome: Outcome, inner: Scope) => {
          log.push(`retry? attempt ${inner.attempt}`);
          if (outcome.ok || token.left === 0 || inner.aborted) return PASS;
          token.left--;
          return delayMs;
        },
        sleep: (ms, signal) => clock.sleep(ms, signal),
      },
    },
  ]);
}

/**
 * `task`, failing the second time it runs. A runner that went back into its gates after the inner part
 * settled would run the task again and again in microtasks, where Jest's timeout (a timer) never
 * fires, until the heap ran out; with this the test fails at once, saying why.
 */
function runsOnce<A>(task: Task<A>): Task<A> {
  let runs = 0;
  return (ctx) => (++runs > 1 ? Promise.reject(new Error('the task ran twice in one call')) : task(ctx));
}

/** An interrupting gate (an aggressive timeout) whose scope aborts with `reason` `ms` after entry. */
function interruptingAfter(ms: number, reason: Error, clock: VirtualClock): Policy {
  return definePolicy('aggressive', [
    {
      gate: {
        scoped: true,
        interrupts: true,
        enter: (ctx: Scope) => {
          const child = ctx.child(true);
          clock.setTimer(() => child.abort(reason), ms);
          return child;
        },
        exit: () => PASS,
      },
    },
  ]);
}

describe('the gate runner', () => {
  it('enters outermost first and exits innermost first, once each', async () => {
    const log: string[] = [];
    const policy = pipeline(tracing('a', log), tracing('b', log), tracing('c', log));
    await expect(policy.execute(async () => log.push('task'))).resolves.toBe(4);
    expect(log).toEqual(['enter a', 'enter b', 'enter c', 'task', 'exit c ok', 'exit b ok', 'exit a ok']);
  });

  it.each([
    ['settles', async (): Promise<string> => 'done'],
    [
      'throws at once',
      (): Promise<string> => {
        throw new Error('sync');
      },
    ],
  ])('exits every gate outside one whose exit throws, when the task %s; they see its error', async (_, task) => {
    const log: string[] = [];
    const broken = new Error('exit failed');
    const throwing = tracing('throwing', log, {
      exit: () => {
        log.push('exit throwing');
        throw broken;
      },
    });
    const policy = pipeline(tracing('outer', log), throwing, tracing('inner', log));
    await expect(policy.execute(task)).rejects.toBe(broken);
    expect(log.slice(-3)).toEqual([expect.stringMatching(/^exit inner/), 'exit throwing', 'exit outer fail']);
  });

  it.each([
    ['alone', false],
    ['behind an interrupting gate', true],
  ])('fails the call with the error of a retry wait that cannot start (%s); outer gates exit', async (_, racing) => {
    const log: string[] = [];
    const clock = new VirtualClock();
    const broken = new Error('clock broken');
    const retryingOnBrokenClock = definePolicy('retrying', [
      {
        gate: {
          enter: () => undefined,
          exit: (_token, outcome) => (outcome.ok ? PASS : 100),
          sleep: () => {
            throw broken;
          },
        },
      },
    ]);
    const parts = [tracing('outer', log), retryingOnBrokenClock];
    if (racing) parts.push(interruptingAfter(1_000, new Error('late'), clock));
    const call = pipeline(...parts).execute(async () => {
      throw new Error('down');
    });
    await expect(clock.run(call)).rejects.toBe(broken);
    expect(log).toEqual(['enter outer', 'exit outer fail']);
  });

  it('retries at once thousands of times without growing the stack', async () => {
    let attempts = 0;
    const againAtOnce = definePolicy('again', [
      { gate: { enter: () => undefined, exit: (_token, outcome) => (outcome.ok ? PASS : 0) } },
    ]);
    // A task that fails synchronously: every attempt is decided in the caller's stack.
    const value = await againAtOnce.execute(() => {
      if (++attempts <= 5_000) throw new Error('not yet');
      return Promise.resolve('done');
    });
    expect(value).toBe('done');
    expect(attempts).toBe(5_001);
  });

  it('does not run the inner part or exit a gate whose enter throws; outer gates see the error', async () => {
    const log: string[] = [];
    const refusal = new Error('full');
    const refusing = tracing('refusing', log, {
      enter: () => {
        throw refusal;
      },
    });
    const policy = pipeline(tracing('outer', log), refusing, tracing('inner', log));
    await expect(policy.execute(async () => log.push('task'))).rejects.toBe(refusal);
    expect(log).toEqual(['enter outer', 'exit outer fail']);
  });

  it('refuses a call whose gate returns a refusal, as a throw would: no inner part, no exit of that gate', async () => {
    const log: string[] = [];
    const refusal = new Error('open');
    let open = true;
    const refusing = tracing('refusing', log, { enter: () => (open ? refuse(refusal) : 0) });
    const policy = pipeline(tracing('outer', log), refusing, tracing('inner', log));
    await expect(policy.execute(async () => log.push('task'))).rejects.toBe(refusal);
    expect(log).toEqual(['enter outer', 'exit outer fail']);
    // The same pipeline's next call, admitted, is not refused by what the last one left behind.
    open = false;
    log.length = 0;
    await expect(policy.execute(async () => 'ran')).resolves.toBe('ran');
    expect(log).toEqual(['enter outer', 'enter inner', 'exit inner ok', 'exit refusing ok', 'exit outer ok']);
  });

  it('lets an outer gate retry a refused call', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    let refusals = 1;
    const refusingOnce = definePolicy('refusing once', [
      {
        gate: { enter: () => (refusals-- > 0 ? refuse(new Error('busy')) : undefined), exit: () => PASS },
      },
    ]);
    const policy = pipeline(retrying(1, 10, clock, log), refusingOnce);
    await expect(clock.run(policy.execute(async (ctx) => ctx.attempt))).resolves.toBe(2);
    expect(log).toEqual(['retry? attempt 1', 'retry? attempt 2']);
  });

  it('re-runs only the gates inside the one that asks for a retry, with a new attempt number', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    let calls = 0;
    const attempts: number[] = [];
    const policy = pipeline(tracing('outer', log), retrying(2, 100, clock, log), tracing('inner', log));
    const result = clock.run(
      policy.execute(async (ctx) => {
        attempts.push(ctx.attempt);
        if (++calls < 3) throw new Error(`fail ${calls}`);
        return 'third time';
      }),
    );
    await expect(result).resolves.toBe('third time');
    expect(attempts).toEqual([1, 2, 3]);
    expect(clock.now()).toBe(200);
    expect(log).toEqual([
      'enter outer',
      'enter inner',
      'exit inner fail',
      'retry? attempt 1',
      'enter inner',
      'exit inner fail',
      'retry? attempt 2',
      'enter inner',
      'exit inner ok',
      'retry? attempt 3',
      'exit outer ok',
    ]);
  });

  it("stops waiting to retry as soon as the caller aborts, rejecting with the caller's reason", async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const controller = new AbortController();
    const policy = pipeline(tracing('outer', log), retrying(5, 10_000, clock, log));
    const call = policy.execute(async () => {
      throw new Error('down');
    }, controller.signal);
    const settled = call.catch((error: unknown) => error);
    await clock.advance(10);
    const reason = new Error('caller left');
    controller.abort(reason);
    expect(await settled).toBe(reason);
    expect(clock.pending).toBe(0);
    expect(log.at(-1)).toBe('exit outer fail');
  });

  it('waits for a gate whose enter returns a promise (a queue)', async () => {
    const log: string[] = [];
    let admit: () => void = () => undefined;
    const queue = definePolicy('queue', [
      {
        gate: {
          waits: true,
          enter: () => new Promise<void>((resolve) => (admit = resolve)),
          exit: () => PASS,
        },
      },
    ]);
    const policy = pipeline(tracing('outer', log), queue);
    const call = policy.execute(runsOnce(async () => 'ran'));
    await Promise.resolve();
    expect(log).toEqual(['enter outer']);
    admit();
    await expect(call).resolves.toBe('ran');
  });

  it('a wait that rejects fails the call: the waiting gate is not exited, the gates outside see the error', async () => {
    const log: string[] = [];
    const full = new Error('queue closed');
    const queue = tracing('queue', log, { waits: true, enter: () => Promise.reject(full) });
    const policy = pipeline(tracing('outer', log), queue, tracing('inner', log));
    await expect(policy.execute(async () => 'never')).rejects.toBe(full);
    expect(log).toEqual(['enter outer', 'exit outer fail']);
  });

  it('after a wait, enters the rest in the waiting gate’s scope (scoped) and races an interrupting gate after it', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const deadline = new Error('deadline');
    let admitted: Scope | undefined;
    const queue = definePolicy('queue', [
      {
        gate: {
          waits: true,
          scoped: true,
          enter: (ctx: Scope) => clock.sleep(10).then(() => (admitted = ctx.child(false, 7))),
          exit: (_token: unknown, outcome: Outcome) => (log.push(`exit queue ${outcome.ok ? 'ok' : 'fail'}`), PASS),
        },
      },
    ]);
    const aggressive = interruptingAfter(100, deadline, clock);
    const attempts: number[] = [];
    const call = pipeline(queue, aggressive).execute(
      runsOnce(async (ctx) => {
        attempts.push(ctx.attempt);
        await clock.sleep(1000);
        return 'late';
      }),
    );
    const settled = call.catch((error: unknown) => error);
    await clock.advance(10);
    // The aggressive gate entered in the scope the queue admitted with (attempt 7).
    expect(admitted).toBeDefined();
    expect(attempts).toEqual([7]);
    await clock.advance(100);
    expect(await settled).toBe(deadline);
    // The queue is outside the interrupting gate: it is exited when the call stops waiting, once.
    expect(log).toEqual(['exit queue fail']);
    await clock.advance(1000);
    expect(log).toEqual(['exit queue fail']);
  });

  it('reuses a frame that waited for calls that do not, and the other way round', async () => {
    let calls = 0;
    const sometimes = definePolicy('sometimes', [
      {
        gate: {
          waits: true,
          enter: () => (++calls % 2 === 0 ? Promise.resolve(calls) : calls),
          exit: () => PASS,
        },
      },
    ]);
    const results: unknown[] = [];
    for (let i = 0; i < 6; i++) results.push(await sometimes.execute(runsOnce(async () => i)));
    expect(results).toEqual([0, 1, 2, 3, 4, 5]);
    const failing = await sometimes
      .execute(runsOnce(async () => Promise.reject(new Error('down'))))
      .catch((e: Error) => e.message);
    expect(failing).toBe('down');
  });

  it('with an interrupting gate, rejects when its scope aborts and leaves the inner part to finish in the background', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const deadline = new Error('deadline');
    const aggressive = interruptingAfter(100, deadline, clock);
    const policy = pipeline(tracing('outer', log), aggressive, tracing('inner', log));
    let taskSignal: AbortSignal | undefined;
    const call = policy.execute(async (ctx) => {
      taskSignal = ctx.signal;
      // Ignores its signal on purpose: the call must not wait for it.
      await clock.sleep(1000);
      log.push('task done');
      return 'late';
    });
    const settled = call.catch((error: unknown) => error);
    await clock.advance(100);
    expect(await settled).toBe(deadline);
    expect(taskSignal?.aborted).toBe(true);
    expect(log).toEqual(['enter outer', 'enter inner', 'exit outer fail']);
    await clock.advance(900);
    // The inner gate is exited when the task really ends, not when the call stopped waiting.
    expect(log).toEqual(['enter outer', 'enter inner', 'exit outer fail', 'task done', 'exit inner ok']);
  });

  it('retries an interrupted inner part while the interrupted one settles in the background, apart', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const deadline = new Error('deadline');
    const aggressive = definePolicy('aggressive', [
      {
        gate: {
          scoped: true,
          interrupts: true,
          enter: (ctx: Scope) => {
            const child = ctx.child(true);
            const timer = clock.setTimer(() => child.abort(deadline), 100);
            child.link = timer;
            return child;
          },
          exit: (child: Scope) => {
            clock.clearTimer(child.link);
            return PASS;
          },
        },
      },
    ]);
    const policy = pipeline(tracing('outer', log), retrying(1, 0, clock, log), aggressive, tracing('inner', log));
    const call = policy.execute(async (ctx) => {
      // The first attempt ignores its deadline and ends late, with a value nobody waits for.
      if (ctx.attempt === 1) await clock.sleep(1000);
      log.push(`task ${ctx.attempt} done`);
      return ctx.attempt;
    });
    const settled = call.then(
      (value) => value,
      (error: unknown) => error,
    );
    await clock.advance(100);
    expect(await settled).toBe(2);
    expect(log).toEqual([
      'enter outer',
      'enter inner',
      'retry? attempt 1',
      'enter inner',
      'task 2 done',
      'exit inner ok',
      'retry? attempt 2',
      'exit outer ok',
    ]);
    await clock.advance(900);
    expect(log.slice(8)).toEqual(['task 1 done', 'exit inner ok']);
    // The runner still works for the calls after (its frames were not mixed up).
    await expect(policy.execute(async () => 'next')).resolves.toBe('next');
  });

  it('turns a synchronous throw of a task into a rejection', async () => {
    const thrown = new Error('sync');
    const task = (): Promise<never> => {
      throw thrown;
    };
    await expect(noop.execute(task)).rejects.toBe(thrown);
    await expect(pipeline(tracing('a', []), tracing('b', [])).execute(task)).rejects.toBe(thrown);
  });
});
