// Breakers sharing their state through the real Redis: in one process, across child processes, and
// through a Redis that is stopped and started again. These tests run on real time (the fleet's
// propagation delay is a real-time property); each wait polls for a condition with a deadline.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as connectTcp, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import {
  breaker,
  consecutiveFailures,
  isBrokenCircuitError,
  type Breaker,
  type BreakerEvent,
  type BreakerOptions,
  type BreakerSnapshot,
} from '@bulwark/breaker';
import {
  redisBreakerStore,
  RedisStoreError,
  type RedisBreakerStore,
  type RedisClientLike,
} from '@bulwark/breaker/redis';
import {
  redisTestsEnabled,
  redisUrl,
  startPrivateRedis,
  uniquePrefix,
  VirtualClock,
  type PrivateRedis,
} from '@bulwark/testkit';
import { expectTypeOf } from 'expect-type';
import { createClient } from 'redis';

const describeRedis = redisTestsEnabled() ? describe : describe.skip;

type Client = ReturnType<typeof createClient>;

async function connect(url = redisUrl()): Promise<Client> {
  const client = createClient({ url, socket: { reconnectStrategy: () => 50, connectTimeout: 500 } });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Waits until `condition` holds, polling; fails after `timeoutMs`. */
async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
  what = 'condition',
): Promise<number> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return Date.now() - start;
}

/** A TCP proxy to a local port that can be cut (every connection dropped, new ones refused) and restored. */
async function tcpProxy(port: number): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((inbound) => {
    if (!open) {
      inbound.destroy();
      return;
    }
    const outbound = connectTcp({ host: '127.0.0.1', port });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  const dropAll = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    url: `redis://127.0.0.1:${address.port}`,
    cut() {
      open = false;
      dropAll();
    },
    restore() {
      open = true;
    },
    close: () =>
      new Promise((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}

const fail = (): Promise<never> => Promise.reject(new Error('down'));
const ok = async (): Promise<string> => 'ok';
const outcome = (p: Promise<unknown>): Promise<unknown> => p.catch((e: unknown) => e);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function cleanUp(client: Client, prefix: string): Promise<void> {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(keys);
}

describe('redisBreakerStore', () => {
  it('accepts a node-redis 5 client as it is', () => {
    expectTypeOf<Client>().toExtend<RedisClientLike>();
  });

  it('rejects bad options at construction', () => {
    const client = createClient();
    expect(() => redisBreakerStore(client, { syncIntervalMs: 0 })).toThrow(/`syncIntervalMs`/);
    expect(() => redisBreakerStore(client, { commandTimeoutMs: -1 })).toThrow(/`commandTimeoutMs`/);
    expect(() => redisBreakerStore({} as never)).toThrow(/`client`/);
    expect(() => redisBreakerStore(undefined as never)).toThrow(/`client`/);
    // ioredis-shaped (a `status`, no `isReady`): every operation would fail as not ready, for ever.
    const ioredisLike = {
      status: 'ready',
      sendCommand: () => Promise.resolve(null),
      on: () => undefined,
      off: () => undefined,
    };
    expect(() => redisBreakerStore(ioredisLike as never)).toThrow(/`client` to be a node-redis 5 client/);
    const { off: _off, ...withoutOff } = { isReady: true, ...ioredisLike };
    expect(() => redisBreakerStore(withoutOff as never)).toThrow(/`client`/);
    expect(() => redisBreakerStore(client, { clock: {} as never })).toThrow(/`clock.now`/);
    const store = redisBreakerStore(client);
    expect(() => breaker({ name: 'a{b}', store })).toThrow(/`name`/);
    store.close();
  });

  it('gives up on a command Redis does not answer after commandTimeoutMs, and reports it', async () => {
    // A connected client whose commands are never answered: a paused Redis, or a dead connection.
    const silent: RedisClientLike = {
      isReady: true,
      sendCommand: () => new Promise(() => undefined),
      on: () => undefined,
      off: () => undefined,
    };
    const clock = new VirtualClock();
    const store = redisBreakerStore(silent, { clock, commandTimeoutMs: 100, syncIntervalMs: 1000 });
    const shared = breaker({ name: 'silent', store, clock });
    const events: BreakerEvent[] = [];
    shared.onEvent((event) => events.push(event));
    await clock.advance(99);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(events).toEqual([
      {
        type: 'store-error',
        policy: 'silent',
        operation: 'sync',
        error: expect.objectContaining({ reason: 'timeout' }),
      },
    ]);
    expect(shared.health().details['store']).toBe('unreachable');
    shared.dispose();
    store.close();
    expect(clock.pending).toBe(0);
  });
});

describeRedis('breakers sharing one Redis, in one process', () => {
  let clients: Client[] = [];
  let stores: RedisBreakerStore[] = [];
  let breakers: Breaker[] = [];
  const prefix = uniquePrefix('breaker');

  beforeAll(async () => {
    clients = [await connect(), await connect(), await connect()];
  });
  afterEach(() => {
    for (const b of breakers) b.dispose();
    for (const s of stores) s.close();
    breakers = [];
    stores = [];
  });
  afterAll(async () => {
    await cleanUp(clients[0] as Client, prefix);
    for (const c of clients) c.destroy();
  });

  /** One breaker per client ("process"), all with the same name. */
  function fleet(name: string, options: BreakerOptions, syncIntervalMs = 20): Breaker[] {
    stores = clients.map((c) => redisBreakerStore(c, { prefix, syncIntervalMs }));
    breakers = stores.map((store) => breaker({ ...options, name, store }));
    return breakers;
  }

  it('opens everywhere once one member trips, within the sync interval, and records it in Redis', async () => {
    const [a, b, c] = fleet('trip', { strategy: consecutiveFailures(2), halfOpenAfterMs: 60_000 }, 100) as [
      Breaker,
      Breaker,
      Breaker,
    ];
    const seen: BreakerEvent[] = [];
    b.onEvent((e) => seen.push(e));
    await outcome(a.execute(fail));
    await outcome(a.execute(fail));
    expect(a.state).toBe('open');
    const delay = await eventually(() => b.state === 'open' && c.state === 'open', 2000, 'fleet open');
    expect(delay).toBeLessThan(100 + 400); // the interval, plus slack for a busy machine
    expect(seen.find((e) => e.type === 'state-change')).toMatchObject({ from: 'closed', to: 'open', source: 'fleet' });
    const error = await outcome(c.execute(ok));
    expect(isBrokenCircuitError(error)).toBe(true);
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(58_000);
    const state = await (clients[0] as Client).hGetAll(`${prefix}{trip}:state`);
    expect(state['state']).toBe('open');
    expect(b.health().details).toMatchObject({ state: 'open', store: 'reachable' });
  });

  it('runs no probe for a caller that left while the fleet decided on its lease, and gives the lease back', async () => {
    // A client whose answers are held back while `slow` is set: the lease request outlasts the caller.
    const client = clients[0] as Client;
    let slow = false;
    const delayed: RedisClientLike = {
      get isReady() {
        return client.isReady;
      },
      sendCommand: async (args, options) => {
        if (slow) await sleep(300);
        return client.sendCommand(args, options);
      },
      on: (event, listener) => client.on(event, listener),
      off: (event, listener) => client.off(event, listener),
    };
    const store = redisBreakerStore(delayed, { prefix, syncIntervalMs: 5000 });
    stores.push(store);
    const b = breaker({ name: 'left-while-leasing', store, strategy: consecutiveFailures(1), halfOpenAfterMs: 100 });
    breakers.push(b);
    await outcome(b.execute(fail));
    expect(b.state).toBe('open');
    await sleep(150);
    slow = true;
    const caller = new AbortController();
    let ran = false;
    const call = outcome(
      b.execute(async () => {
        ran = true;
        return 'ok';
      }, caller.signal),
    );
    await sleep(50);
    caller.abort(new Error('caller left'));
    expect(await call).toEqual(new Error('caller left'));
    expect(ran).toBe(false);
    // The lease went back (its release was sent while answers were held back): the fleet holds no
    // lease once it lands, and the next caller probes; its success closes the fleet.
    slow = false;
    const leases = `${prefix}{left-while-leasing}:probes`;
    await eventually(async () => (await client.zCard(leases)) === 0, 5000, 'the lease given back');
    expect(await outcome(b.execute(ok))).toBe('ok');
    await eventually(() => b.state === 'closed', 2000, 'closed after the probe');
  });

  it('limits half-open probes across the fleet and closes everywhere when they succeed', async () => {
    const members = fleet('probes', { strategy: consecutiveFailures(1), halfOpenAfterMs: 200, probes: 1 });
    await outcome((members[0] as Breaker).execute(fail));
    await eventually(() => members.every((m) => m.state === 'open'), 2000, 'fleet open');
    await new Promise((resolve) => setTimeout(resolve, 250));
    let running = 0;
    let peak = 0;
    const slowProbe = async (): Promise<string> => {
      peak = Math.max(peak, ++running);
      await new Promise((resolve) => setTimeout(resolve, 100));
      running--;
      return 'ok';
    };
    // Every member tries two calls at once: one probe may go in the whole fleet.
    const results = await Promise.all(
      members.flatMap((m) => [outcome(m.execute(slowProbe)), outcome(m.execute(slowProbe))]),
    );
    expect(peak).toBe(1);
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => isBrokenCircuitError(r))).toHaveLength(5);
    await eventually(() => members.every((m) => m.state === 'closed'), 2000, 'fleet closed');
  });

  it.each([
    ['in another process (the fleet counts it)', 30_000, 1],
    ['in this process, its lease expired (the breaker counts it)', 50, 0],
  ])(
    'a probe of an earlier half-open still running %s counts against `probes`',
    async (_where, probeLeaseMs, prober) => {
      const members = fleet(`stragglers-${prober}`, {
        strategy: consecutiveFailures(1),
        halfOpenAfterMs: 100,
        probes: 2,
        successesToClose: 2,
        probeLeaseMs,
      });
      const [a, b] = [members[0] as Breaker, members[prober] as Breaker];
      await outcome(a.execute(fail));
      await eventually(() => members.every((m) => m.state === 'open'), 2000, 'fleet open');
      await sleep(150);
      let running = 0;
      let peak = 0;
      const probe = (ms: number, failing: boolean) => async (): Promise<string> => {
        peak = Math.max(peak, ++running);
        await sleep(ms);
        running--;
        if (failing) throw new Error('down');
        return 'ok';
      };
      const straggler = outcome(a.execute(probe(1500, false)));
      await outcome(b.execute(probe(20, true))); // fails: the fleet reopens while a's probe runs on
      await sleep(200); // the new wait is over
      const later = await Promise.all([outcome(b.execute(probe(200, false))), outcome(b.execute(probe(200, false)))]);
      expect(later.filter((r) => r === 'ok')).toHaveLength(1);
      expect(later.filter((r) => isBrokenCircuitError(r))).toHaveLength(1);
      expect(peak).toBe(2);
      expect(await straggler).toBe('ok');
    },
  );

  it('with a quorum, one member tripping opens only itself; the fleet opens when enough of them trip', async () => {
    const [a, b, c] = fleet('quorum', { strategy: consecutiveFailures(1), halfOpenAfterMs: 60_000, quorum: 2 }) as [
      Breaker,
      Breaker,
      Breaker,
    ];
    await outcome(a.execute(fail));
    expect(a.state).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(b.state).toBe('closed');
    expect(await b.execute(ok)).toBe('ok');
    expect(c.state).toBe('closed');
    await outcome(b.execute(fail));
    await eventually(() => c.state === 'open', 2000, 'fleet open after quorum');
    expect(isBrokenCircuitError(await outcome(c.execute(ok)))).toBe(true);
  });

  it('isolates and releases the fleet, and a reset anywhere closes it everywhere', async () => {
    const [a, b, c] = fleet('manual', { strategy: consecutiveFailures(1), halfOpenAfterMs: 60_000 }) as [
      Breaker,
      Breaker,
      Breaker,
    ];
    const release = a.isolate();
    await eventually(() => b.state === 'isolated' && c.state === 'isolated', 2000, 'fleet isolated');
    const alsoB = b.isolate();
    release();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(c.state).toBe('isolated'); // b still holds an isolation
    alsoB();
    await eventually(() => [a, b, c].every((m) => m.state === 'closed'), 2000, 'fleet released');
    c.isolate();
    await outcome(a.execute(fail)); // refused: isolated
    await eventually(() => a.state === 'isolated', 2000, 'isolated again');
    a.reset();
    await eventually(() => [a, b, c].every((m) => m.state === 'closed'), 2000, 'fleet reset');
    expect(await c.execute(ok)).toBe('ok');
  });

  it('keeps an isolation taken just after a reset of this breaker, and its release ends it everywhere', async () => {
    const [a, b] = fleet('reset-isolate', {}) as [Breaker, Breaker];
    a.reset(); // the fleet has a state, as it does once anything happened to it
    await sleep(100);
    a.reset();
    const release = a.isolate(); // the reset's answer, with a higher reset count, comes after this
    await eventually(() => b.state === 'isolated', 2000, 'fleet isolated');
    await sleep(100);
    expect(a.state).toBe('isolated');
    release();
    await eventually(() => a.state === 'closed' && b.state === 'closed', 2000, 'fleet released');
    expect(await (clients[0] as Client).sMembers(`${prefix}{reset-isolate}:isolations`)).toEqual([]);
  });

  it('keeps an isolation that reached Redis after a reset elsewhere this breaker had not yet heard of', async () => {
    const name = 'reset-elsewhere';
    const resets = async (): Promise<string | null> =>
      (await (clients[0] as Client).hGet(`${prefix}{${name}}:state`, 'resets')) ?? null;
    const storeB = redisBreakerStore(clients[1] as Client, { prefix, syncIntervalMs: 20 });
    const b = breaker({ name, store: storeB });
    stores = [storeB];
    breakers = [b];
    b.reset();
    await eventually(async () => (await resets()) === '1', 3000, 'the first reset in Redis');
    // a syncs too seldom to hear of b's next reset before its own isolation's answer says so.
    const storeA = redisBreakerStore(clients[0] as Client, { prefix, syncIntervalMs: 60_000 });
    const a = breaker({ name, store: storeA });
    stores.push(storeA);
    breakers.push(a);
    await sleep(100); // a's first sync: one reset so far
    b.reset();
    await eventually(async () => (await resets()) === '2', 3000, 'the second reset in Redis');
    const release = a.isolate();
    await eventually(() => b.state === 'isolated', 2000, 'fleet isolated');
    release();
    await eventually(() => b.state === 'closed', 2000, 'fleet released');
    expect(a.state).toBe('closed');
  });

  /**
   * A breaker named `name`, then one restored from a snapshot of `machine` beside it (another
   * "process"). With `known`, the first resets the fleet first, so that it has a (closed) state.
   */
  async function restoredBeside(
    name: string,
    machine: BreakerSnapshot['machine'],
    known: boolean,
  ): Promise<{ plain: Breaker; restored: Breaker }> {
    const options = { name, halfOpenAfterMs: 60_000, maxHalfOpenAfterMs: 600_000 };
    stores = clients.slice(0, 2).map((c) => redisBreakerStore(c, { prefix, syncIntervalMs: 20 }));
    const plain = breaker({ ...options, store: stores[0] as RedisBreakerStore });
    breakers = [plain];
    if (known) {
      plain.reset();
      await eventually(
        async () => (await (clients[0] as Client).exists(`${prefix}{${name}}:state`)) === 1,
        3000,
        'the fleet known to Redis',
      );
    }
    const restored = breaker({
      ...options,
      store: stores[1] as RedisBreakerStore,
      initial: { version: 1, name, machine },
    });
    breakers.push(restored);
    return { plain, restored };
  }

  it.each([
    ['has no state for it', false],
    ['is closed', true],
  ])(
    'restores an open snapshot for what is left of its wait and its backoff when the fleet %s, and the fleet follows',
    async (_fleet, known) => {
      const machine = { state: 'open', untilMs: Date.now() + 2000, openings: 3 } as const;
      const { plain, restored } = await restoredBeside(`restored-open-${String(known)}`, machine, known);
      await eventually(() => plain.state === 'open', 2000, 'fleet open');
      await sleep(100);
      for (const b of [restored, plain]) {
        expect(b.state).toBe('open');
        expect(b.health().details['retryAfterMs']).toBeLessThanOrEqual(2000);
        expect(b.health().details['openings']).toBe(3);
      }
    },
  );

  it('restores an isolated snapshot by following the fleet: isolated while an isolation stands, closed when it ends', async () => {
    const { plain, restored } = await restoredBeside('restored-isolated', { state: 'isolated', holders: 1 }, true);
    // The fleet is not isolated: the snapshot's isolation (its own or one it followed) is not asserted.
    await eventually(() => restored.state === 'closed', 2000, 'following a closed fleet');
    // An isolation taken elsewhere is followed, and its release ends it for the restored breaker too.
    const release = plain.isolate();
    await eventually(() => restored.state === 'isolated', 2000, 'following the isolation');
    release();
    await eventually(() => plain.state === 'closed' && restored.state === 'closed', 2000, 'released everywhere');
  });

  it('restored from a snapshot taken while following an isolation, lets the isolating process release the fleet', async () => {
    const name = 'restored-follower';
    stores = clients.slice(0, 2).map((c) => redisBreakerStore(c, { prefix, syncIntervalMs: 20 }));
    const isolating = breaker({ name, store: stores[0] as RedisBreakerStore });
    const follower = breaker({ name, store: stores[1] as RedisBreakerStore });
    breakers = [isolating, follower];
    const release = isolating.isolate();
    await eventually(() => follower.state === 'isolated', 2000, 'following');
    const saved = follower.snapshot();
    follower.dispose();
    const restored = breaker({ name, store: stores[1] as RedisBreakerStore, initial: saved });
    breakers.push(restored);
    await sleep(100);
    expect(restored.state).toBe('isolated');
    release();
    await eventually(() => isolating.state === 'closed' && restored.state === 'closed', 2000, 'released everywhere');
  });

  it('reopens the fleet with a longer wait when a probe fails', async () => {
    const [a, b] = fleet('backoff', {
      strategy: consecutiveFailures(1),
      halfOpenAfterMs: 150,
      maxHalfOpenAfterMs: 10_000,
      backoffFactor: 4,
    }) as [Breaker, Breaker];
    await outcome(a.execute(fail));
    await eventually(() => b.state === 'open', 2000, 'open');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await outcome(b.execute(fail)); // b's probe fails
    await eventually(() => a.state === 'open' && (a.health().details['openings'] as number) === 2, 2000, 'reopened');
    expect(a.health().details['retryAfterMs']).toBeGreaterThan(300);
  });
});

/** A breaker in a child process. */
class Member {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (reply: Record<string, unknown>) => void>();
  private next = 0;
  readonly changes: Record<string, unknown>[] = [];

  constructor(config: object) {
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@bulwark/source',
        join(__dirname, 'fixtures', 'fleet-member.ts'),
        JSON.stringify(config),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'], cwd: join(__dirname, '..') },
    );
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (message['event'] === 'state-change') this.changes.push(message);
      else this.waiting.get(message['id'] as number)?.(message);
    });
  }

  send(command: object): Promise<Record<string, unknown>> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin?.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  call(outcome: 'ok' | 'fail', latencyMs = 0): Promise<string> {
    return this.send({ cmd: 'call', outcome, latencyMs }).then((r) => r['result'] as string);
  }

  async ready(): Promise<void> {
    await this.send({ cmd: 'state' });
  }

  exit(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin?.write(`${JSON.stringify({ cmd: 'exit', id: -1 })}\n`);
    });
  }
}

describeRedis('breakers sharing one name in separate processes', () => {
  const prefix = uniquePrefix('breaker-fleet');
  let client: Client;
  let members: Member[] = [];

  beforeAll(async () => {
    client = await connect();
  });
  afterEach(async () => {
    await Promise.all(members.map((m) => m.exit()));
    members = [];
  });
  afterAll(async () => {
    await cleanUp(client, prefix);
    client.destroy();
  });

  async function start(name: string, options: object, count = 3): Promise<Member[]> {
    members = Array.from({ length: count }, () => new Member({ url: redisUrl(), prefix, name, options }));
    await Promise.all(members.map((m) => m.ready()));
    return members;
  }

  it('trip together within the sync interval, probe one at a time across the fleet, and recover together', async () => {
    const [a, b, c] = (await start('fleet', { strategy: consecutiveFailures(3), halfOpenAfterMs: 600, probes: 1 })) as [
      Member,
      Member,
      Member,
    ];
    expect(await b.call('ok')).toBe('ok');
    for (let i = 0; i < 3; i++) expect(await a.call('fail')).toBe('fail');
    const opened = a.changes.find((e) => e['to'] === 'open');
    expect(opened).toBeDefined();
    const [bOpen, cOpen] = await Promise.all([
      b.send({ cmd: 'wait-state', state: 'open', timeoutMs: 2000 }),
      c.send({ cmd: 'wait-state', state: 'open', timeoutMs: 2000 }),
    ]);
    expect(bOpen['state']).toBe('open');
    expect(cOpen['state']).toBe('open');
    // How late the others learnt of it: the sync interval (100 ms) plus a round trip, on a busy machine.
    for (const learnt of [bOpen, cOpen]) {
      expect((learnt['changedAt'] as number) - (opened?.['at'] as number)).toBeLessThan(100 + 400);
    }
    expect(await c.call('ok')).toBe('BrokenCircuit');

    await new Promise((resolve) => setTimeout(resolve, 700));
    // Two slow calls from each process at once: one probe in the fleet.
    const results = await Promise.all([a, b, c, a, b, c].map((m) => m.call('ok', 300)));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'BrokenCircuit')).toHaveLength(5);
    for (const m of [a, b, c]) {
      expect((await m.send({ cmd: 'wait-state', state: 'closed', timeoutMs: 2000 }))['state']).toBe('closed');
    }
    expect(await c.call('ok')).toBe('ok');
  }, 20_000);

  it('with a quorum of 2, open the fleet only when two processes have tripped', async () => {
    const [a, b, c] = (await start('quorum', {
      strategy: consecutiveFailures(1),
      halfOpenAfterMs: 60_000,
      quorum: 2,
    })) as [Member, Member, Member];
    expect(await a.call('fail')).toBe('fail');
    expect(await a.call('ok')).toBe('BrokenCircuit'); // a protects itself
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await c.call('ok')).toBe('ok'); // one sick process does not open the fleet
    expect(await b.call('fail')).toBe('fail');
    expect((await c.send({ cmd: 'wait-state', state: 'open', timeoutMs: 2000 }))['state']).toBe('open');
    expect(await c.call('ok')).toBe('BrokenCircuit');
  }, 20_000);
});

describeRedis('a Redis that goes away and comes back', () => {
  let redis: PrivateRedis;
  const prefix = uniquePrefix('breaker-outage');

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  interface Pair {
    a: Breaker;
    b: Breaker;
    clientA: Client;
    clientB: Client;
    /** Between `a` and Redis (with `partition`): cut it and restore it. */
    proxy: Awaited<ReturnType<typeof tcpProxy>> | undefined;
  }

  /**
   * Two breakers with these options on the private Redis, each with a client and a store of its own;
   * with `partition`, `a` talks to Redis through a proxy the test can cut. Cleans up after `body`.
   */
  async function pair(
    options: BreakerOptions & { name: string },
    body: (pair: Pair) => Promise<void>,
    partition = false,
  ): Promise<void> {
    const proxy = partition ? await tcpProxy(redis.port) : undefined;
    const clientA = await connect(proxy?.url ?? redis.url);
    const clientB = await connect(redis.url);
    const storeA = redisBreakerStore(clientA, { prefix, syncIntervalMs: 20, commandTimeoutMs: 200 });
    const storeB = redisBreakerStore(clientB, { prefix, syncIntervalMs: 20, commandTimeoutMs: 200 });
    const a = breaker({ ...options, store: storeA });
    const b = breaker({ ...options, store: storeB });
    try {
      await body({ a, b, clientA, clientB, proxy });
    } finally {
      a.dispose();
      b.dispose();
      storeA.close();
      storeB.close();
      clientA.destroy();
      clientB.destroy();
      await proxy?.close();
    }
  }

  it('keeps working on local state, says so once, never throws, and tells Redis what it missed when it returns', async () => {
    const options = { name: 'outage', strategy: consecutiveFailures(2), halfOpenAfterMs: 60_000 };
    await pair(options, async ({ a, b }) => {
      const events: BreakerEvent[] = [];
      a.onEvent((e) => events.push(e));
      expect(await a.execute(ok)).toBe('ok');
      await redis.stop();
      await eventually(() => events.some((e) => e.type === 'store-error'), 2000, 'store-error');
      expect(a.health()).toMatchObject({ status: 'degraded', details: { store: 'unreachable' } });
      // Calls go on, on local state.
      expect(await a.execute(ok)).toBe('ok');
      await outcome(a.execute(fail));
      await outcome(a.execute(fail));
      expect(a.state).toBe('open');
      expect(isBrokenCircuitError(await outcome(a.execute(ok)))).toBe(true);
      const errors = events.filter((e) => e.type === 'store-error');
      // The outage once (from the sync or the client), then each decision that could not be shared.
      const operations = errors.map((e) => (e.type === 'store-error' ? e.operation : ''));
      expect(operations[0]).toBe('sync');
      expect(operations.slice(1).every((op) => op !== 'sync')).toBe(true);
      expect(errors.every((e) => e.type === 'store-error' && e.error !== undefined)).toBe(true);
      expect(b.state).toBe('closed');

      await redis.start();
      await eventually(() => events.some((e) => e.type === 'store-recovered'), 5000, 'store-recovered');
      // a's trip reached the fleet after all: b learns of it.
      await eventually(() => b.state === 'open', 5000, 'b opens after Redis returned');
      expect(a.health().details['store']).toBe('reachable');
    });
  }, 30_000);

  it('restores an open state Redis lost in a restart', async () => {
    const options = { name: 'restart', strategy: consecutiveFailures(1), halfOpenAfterMs: 60_000 };
    await pair(options, async ({ a, b, clientA, clientB }) => {
      await outcome(a.execute(fail));
      await eventually(() => b.state === 'open', 2000, 'fleet open');
      await redis.stop();
      await redis.start(); // empty: the fleet's state is gone
      await new Promise((resolve) => setTimeout(resolve, 300));
      await eventually(() => clientA.isReady && clientB.isReady, 5000, 'clients reconnected');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(a.state).toBe('open');
      expect(b.state).toBe('open');
      expect((await clientA.hGetAll(`${prefix}{restart}:state`))['state']).toBe('open');
    });
  }, 30_000);

  it('delivers a release made while cut off from Redis once it is back (a partition, not a restart)', async () => {
    await pair(
      { name: 'partition' },
      async ({ a, b, proxy }) => {
        const release = a.isolate();
        await eventually(() => b.state === 'isolated', 2000, 'fleet isolated');
        proxy?.cut();
        await eventually(() => a.health().details['store'] === 'unreachable', 2000, 'a cut off');
        release();
        expect(a.state).toBe('closed');
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(b.state).toBe('isolated'); // the fleet has not heard of the release
        proxy?.restore();
        await eventually(() => b.state === 'closed', 5000, 'the release reaches the fleet');
        expect(await b.execute(ok)).toBe('ok');
        expect(a.health().details['store']).toBe('reachable');
      },
      true,
    );
  }, 30_000);

  it('keeps an isolation taken after a reset while cut off from Redis; both reach it in order, and the release too', async () => {
    await pair(
      { name: 'queued' },
      async ({ a, b, proxy }) => {
        a.reset(); // the fleet has a state
        await sleep(100);
        proxy?.cut();
        await eventually(() => a.health().details['store'] === 'unreachable', 2000, 'a cut off');
        a.reset();
        const release = a.isolate();
        proxy?.restore();
        await eventually(() => b.state === 'isolated', 5000, 'the isolation reaches the fleet');
        await sleep(100);
        expect(a.state).toBe('isolated');
        release();
        await eventually(() => a.state === 'closed' && b.state === 'closed', 2000, 'fleet released');
      },
      true,
    );
  }, 30_000);

  it('reports a reply that is not a fleet view as a typed store error, without crashing', async () => {
    const fake: RedisClientLike = {
      isReady: true,
      sendCommand: () => Promise.resolve(['open', 'not a number', 'x']),
      on: () => undefined,
      off: () => undefined,
    };
    const store = redisBreakerStore(fake);
    const b = breaker({ name: 'garbage', store });
    const errors: unknown[] = [];
    b.onEvent((e) => {
      if (e.type === 'store-error') errors.push(e.error);
    });
    await eventually(() => errors.length > 0 || b.health().details['store'] === 'unreachable', 2000, 'store error');
    expect(b.health().details['store']).toBe('unreachable');
    expect(await b.execute(ok)).toBe('ok');
    b.dispose();
    store.close();
    const direct = redisBreakerStore(fake);
    const link = direct.attach('x', {} as never, { onView: () => undefined, onError: () => undefined });
    const error = await outcome(link.trip(1000, 1));
    direct.close();
    expect(error).toBeInstanceOf(RedisStoreError);
    expect(error).toMatchObject({ reason: 'bad-reply' });
  });
});
