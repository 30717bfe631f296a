/**
 * Small HTTP helpers shared by the fake hosts: bounded body reading, gzip, answers.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzip } from 'node:zlib';

/** Waits `ms` on the fake's clock; with `res`, stops early (resolving false) when its client goes away. */
export type Hold = (ms: number, res?: ServerResponse) => Promise<boolean>;

/** Reads a request body, stopping (and resolving `undefined`) once it passes `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > maxBytes) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Gunzips `body`, refusing output larger than `maxBytes`. */
export function gunzipBounded(body: Buffer, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: maxBytes }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Answers with a plain-text body, as PostHog's Rust capture service does for errors. */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

/** Answers with a JSON body. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Destroys the connection under a request without answering: the client sees a reset. */
export function resetConnection(req: IncomingMessage): void {
  req.socket.destroy();
}

/**
 * Answers `status` with a JSON body, `bytes` at a time every `intervalMs` on the fake's clock (a slow
 * loris), until the whole body is sent or the client goes away.
 */
export async function sendSlowly(
  res: ServerResponse,
  status: number,
  body: unknown,
  fault: { readonly intervalMs?: number; readonly bytes?: number },
  hold: Hold,
): Promise<void> {
  if (res.headersSent || res.destroyed) return;
  const bytes = Buffer.from(JSON.stringify(body));
  const step = Math.max(1, Math.floor(fault.bytes ?? 1));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length) });
  // A wait before every chunk but the first, none after the last (the body is whole then: see the
  // oil-price fake's `dribble`).
  for (let offset = 0; offset < bytes.length; offset += step) {
    if (offset > 0 && !(await hold(fault.intervalMs ?? 1000, res))) return;
    res.write(bytes.subarray(offset, offset + step));
  }
  res.end();
}
