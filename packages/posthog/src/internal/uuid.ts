/**
 * UUIDv7 (RFC 9562) for events: 48 bits of Unix milliseconds from the driver's clock, then random bits
 * from the system's cryptographic generator, drawn in blocks so one event costs no system call.
 *
 * PostHog de-duplicates on the event UUID, so it is assigned once, when the event is captured, and
 * sent unchanged on every retry.
 *
 * @module
 */

import { randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL = Buffer.allocUnsafe(10 * 512);
let offset = POOL.length;

/** A UUIDv7 string for time `nowMs`. */
export function uuidv7(nowMs: number): string {
  if (offset + 10 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const r = offset;
  offset += 10;
  const ms = Math.max(0, Math.floor(nowMs));
  const high = Math.floor(ms / 0x1000000) & 0xffffff;
  const low = ms & 0xffffff;
  const h = (n: number): string => HEX[n] as string;
  return (
    h((high >>> 16) & 0xff) +
    h((high >>> 8) & 0xff) +
    h(high & 0xff) +
    h((low >>> 16) & 0xff) +
    '-' +
    h((low >>> 8) & 0xff) +
    h(low & 0xff) +
    '-' +
    h(0x70 | ((POOL[r] as number) & 0x0f)) +
    h(POOL[r + 1] as number) +
    '-' +
    h(0x80 | ((POOL[r + 2] as number) & 0x3f)) +
    h(POOL[r + 3] as number) +
    '-' +
    h(POOL[r + 4] as number) +
    h(POOL[r + 5] as number) +
    h(POOL[r + 6] as number) +
    h(POOL[r + 7] as number) +
    h(POOL[r + 8] as number) +
    h(POOL[r + 9] as number)
  );
}
