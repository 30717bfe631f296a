/**
 * Real Redis for tests: where it is, whether it answers, unique key prefixes, and a private
 * `redis-server` a test may stop and start (never the shared one).
 *
 * Under `CI=true` a test that needs Redis must fail when Redis is missing; elsewhere it is skipped
 * with one line saying why. Jest's global setup (`scripts/jest-global-setup.ts`) pings Redis once and
 * records the answer in `BULWARK_REDIS` for {@link redisTestsEnabled}.
 *
 * @module
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect } from 'node:net';

/**
 * The Redis tests use: `REDIS_URL`, or `redis://127.0.0.1:6379`.
 *
 * @example
 * ```ts
 * assert.equal(redisUrl(), process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function redisUrl(): string {
  return process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
}

/**
 * Whether tests that need Redis should run: Redis answered the global setup's ping, or we are in CI
 * (where a missing Redis must fail the tests, not skip them).
 *
 * @example
 * ```ts
 * // typecheck-only: it registers Jest tests
 * import { describe } from '@jest/globals';
 * const describeRedis = redisTestsEnabled() ? describe : describe.skip;
 * describeRedis('the Redis store', () => {
 *   // tests that talk to redisUrl()
 * });
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function redisTestsEnabled(): boolean {
  return process.env['BULWARK_REDIS'] !== 'down' || process.env['CI'] === 'true';
}

/**
 * A key prefix no other test run uses: `bulwark-test:<label>:<random>:`.
 *
 * @example
 * ```ts
 * const prefix = uniquePrefix('breaker');
 * assert.match(prefix, /^bulwark-test:breaker:[0-9a-f]{12}:$/);
 * assert.notEqual(prefix, uniquePrefix('breaker'));
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function uniquePrefix(label: string): string {
  return `bulwark-test:${label}:${randomBytes(6).toString('hex')}:`;
}

/**
 * Sends `PING` to the Redis at `url` and says whether it answered `+PONG` within `timeoutMs`.
 * Speaks the protocol directly so that it needs no client library.
 *
 * @example
 * ```ts
 * const port = await freePort(); // nobody listens there
 * assert.equal(await pingRedis(`redis://127.0.0.1:${port}`, 200), false);
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function pingRedis(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port, password, username } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    let answer = '';
    const finish = (up: boolean): void => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => {
      const auth = password
        ? `AUTH ${username ? `${decodeURIComponent(username)} ` : ''}${decodeURIComponent(password)}\r\n`
        : '';
      socket.write(`${auth}PING\r\n`);
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('+PONG')) finish(true);
      else if (answer.includes('-')) finish(false);
    });
  });
}

/**
 * Finds a TCP port nobody listens on, by asking the OS for one.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * const port = await freePort();
 * const server = createServer().listen(port, '127.0.0.1');
 * await new Promise((resolve) => server.once('listening', resolve));
 * server.close();
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A private `redis-server` for tests that must stop Redis mid-run.
 *
 * @category testing
 * @since 0.1.0
 */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL: like a crash, nothing is flushed) and waits until it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty, and waits until it answers. */
  start(): Promise<void>;
  /** Whether it is running. */
  readonly running: boolean;
}

/**
 * Starts a `redis-server` of its own on a free port, with nothing kept on disk.
 *
 * @example
 * ```ts
 * const redis = await startPrivateRedis();
 * try {
 *   assert.ok(await pingRedis(redis.url));
 *   await redis.stop();
 *   assert.equal(await pingRedis(redis.url, 200), false);
 * } finally {
 *   await redis.stop();
 * }
 * ```
 *
 * @category testing
 * @since 0.1.0
 */
export async function startPrivateRedis(options: { binary?: string } = {}): Promise<PrivateRedis> {
  const binary = options.binary ?? process.env['REDIS_SERVER_BIN'] ?? 'redis-server';
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    const spawned = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    child = spawned;
    const failed = new Promise<never>((_, reject) => {
      spawned.once('error', reject);
      spawned.once('exit', (code) => reject(new Error(`${binary} exited with code ${String(code)} before answering`)));
    });
    failed.catch(() => undefined);
    for (let waited = 0; waited < 10_000; waited += 20) {
      if (await Promise.race([pingRedis(url, 200), failed])) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${binary} did not answer on port ${port} within 10 s`);
  };

  const stop = async (): Promise<void> => {
    const running = child;
    if (running === undefined) return;
    child = undefined;
    if (running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    port,
    url,
    stop,
    start,
    get running() {
      return child !== undefined;
    },
  };
}
