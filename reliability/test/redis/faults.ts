// What can go wrong with a Redis, done to a private redis-server (never the shared one): it stops, it
// stops answering for a while, it refuses writes, and it holds keys of the wrong type.
import type { PrivateRedis } from '@bulwark/testkit';
import { createClient } from 'redis';

export interface RedisFault {
  readonly name: string;
  /** Starts the fault; `keys` are the ones the component under test reads and writes next. */
  start(redis: PrivateRedis, keys: readonly string[]): Promise<void>;
  /** Ends it: Redis answers correctly again (it may have lost its data). */
  end(redis: PrivateRedis, keys: readonly string[]): Promise<void>;
  /** For a fault that ends by itself: how long it lasts from `start`, in wall-clock ms. */
  readonly lastsMs?: number;
}

/** Runs commands on a connection of its own, closed afterwards. */
async function admin(url: string, ...commands: readonly string[][]): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (const command of commands) await client.sendCommand([...command]);
  } finally {
    client.destroy();
  }
}

/** How long Redis stops answering in the `slow` fault, in ms: several times every component's timeout. */
export const PAUSE_MS = 3000;

export const FAULTS: readonly RedisFault[] = [
  {
    name: 'stopped mid-run, then restarted empty',
    start: (redis) => redis.stop(),
    end: (redis) => redis.start(),
  },
  {
    // Every client's commands wait until the pause ends: to a caller, a Redis far slower than its timeouts.
    name: 'not answering for 3 s (CLIENT PAUSE)',
    start: (redis) => admin(redis.url, ['CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL']),
    lastsMs: PAUSE_MS,
    // A command sent now is answered once the pause is over.
    end: (redis) => admin(redis.url, ['PING']),
  },
  {
    name: 'refusing writes (maxmemory 1, noeviction)',
    start: (redis) =>
      admin(redis.url, ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'], ['CONFIG', 'SET', 'maxmemory', '1']),
    end: (redis) => admin(redis.url, ['CONFIG', 'SET', 'maxmemory', '0']),
  },
  {
    name: 'answering WRONGTYPE (its keys hold lists)',
    start: (redis, keys) =>
      admin(
        redis.url,
        ...keys.flatMap((key) => [
          ['DEL', key],
          ['LPUSH', key, 'not yours'],
        ]),
      ),
    end: (redis, keys) => admin(redis.url, ['DEL', ...keys]),
  },
];
