/**
 * The client's own connection pool: up to `connections` sockets, of which `keepAlive` stay open
 * between requests, the way `max_keepalive_connections` bounds idle connections in httpx (where the
 * seed's "100 connections, 20 kept alive" comes from): a busy connection is always reused, and only
 * one beyond `keepAlive` that goes idle is closed.
 *
 * Asking for `Connection: close` on every request beyond `keepAlive` in flight (what this replaced)
 * closed busy connections too: under sustained load nearly every request opened a new TCP
 * connection, about half the throughput at 50 and 100 callers (BENCHMARKS.md).
 *
 * undici's `Pool` makes one `Client` (one socket) per connection as load needs them and hands a
 * request to the first client in the order they were made that is free. So the first `keepAlive`
 * clients keep undici's usual keep-alive, and are preferred; the others close their socket after
 * {@link OVERFLOW_IDLE_MS} without a request (they reconnect if load comes back).
 *
 * @module
 */

import { Client, Pool, type Dispatcher } from 'undici';

/** How long a connection beyond `keepAlive` may stay idle before it closes, in milliseconds. */
export const OVERFLOW_IDLE_MS = 1000;

/** A pool of at most `connections` sockets to `origin`, keeping at most `keepAlive` of them open when idle. */
export function keepAlivePool(origin: string, connections: number, keepAlive: number): Pool {
  let kept = 0;
  const factory = (url: URL, options: object): Dispatcher => {
    if (kept >= keepAlive) {
      return new Client(url, { ...options, keepAliveTimeout: OVERFLOW_IDLE_MS, keepAliveMaxTimeout: OVERFLOW_IDLE_MS });
    }
    kept++;
    const client = new Client(url, options);
    // The pool drops a client whose connection failed; the next one it makes may be kept instead.
    client.once('connectionError', () => kept--);
    return client;
  };
  return new Pool(origin, { connections, factory });
}
