/**
 * The Lua script behind the Redis store: one per limiter, its limits written into it as constants.
 *
 * Redis is single-threaded, so what a script costs there bounds the throughput of every process that
 * shares it. A script made for one set of limits reads no limits from its arguments and runs no loop
 * over them: for a token bucket, 4.8 us in Redis against 6.5 us for the general script, which stays
 * for limiters of more than {@link MAX_COMPILED_LIMITS} limits. Both take the same first four
 * arguments, keys and replies; both keep the reservation model of `limits.ts`.
 *
 * @module
 */

import { createHash } from 'node:crypto';

import type { Limit, SlidingWindow, TokenBucket } from '../limits.js';

/** A script, its SHA1 for EVALSHA, and the arguments it takes after the first four. */
export interface LimitScript {
  readonly text: string;
  readonly sha: string;
  readonly limitArgs: readonly string[];
}

/** The most limits written into a script (each takes a Lua local or two; Lua allows 200). */
export const MAX_COMPILED_LIMITS = 32;

// KEYS[1]: the hash (last reservation, bucket times), KEYS[2]: the sorted set (window reservations).
// ARGV: now ('' for Redis TIME), maxWaitMs, member id, reply ('w' or 't', with 'p' appended to prune
// the set by age), #buckets, (interval, tolerance)*, #windows, (limit, windowMs)*.
// Returns the wait (0: at once) or -retryAfter; with reply 't', { that, now }. A number that may be
// fractional (an admission's wait, a limiter clock's `now`) is replied as a string when it is: Redis
// truncates a Lua number in a reply to an integer, which would start a call before its reservation.
// A refusal's retryAfter is already whole (rounded up).
//
// Why it looks like this: Redis is single-threaded, so the script's cost there bounds the throughput
// of every process sharing it; each redis.call() costs about 0.5-1 us and a string.format about 0.5
// us, against about 1 us for the EVALSHA of an empty script, and returning a table about 0.4 us. So
// the hash is read with one HMGET and written with one HSET; numbers go to redis.call as numbers
// (Redis writes them with 17 significant digits: exact), formatted here only when fractional; the
// set is trimmed by rank only when the largest window was full, and by age on one decision in
// PRUNE_EVERY of each process (entries older than every window never constrain a decision: pruning
// them only saves memory, and the rank and the key's TTL bound it meanwhile); and a limiter of
// windows alone keeps no hash: its last reservation is the set's highest score (reservations are
// added in time order, and trimming takes the oldest).
const GENERAL = `
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
end
local nb = tonumber(ARGV[5])
local h
local last
if nb == 0 then
  local newest = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  last = tonumber(newest[2])
else
  if nb == 1 then
    h = redis.call('HMGET', KEYS[1], 'last', 'b1')
  else
    local fields = { 'last' }
    for b = 1, nb do fields[b + 1] = 'b' .. b end
    h = redis.call('HMGET', KEYS[1], unpack(fields))
  end
  last = tonumber(h[1])
end
local at = now
if last and last > at then at = last end
local tats = {}
local i = 6
for b = 1, nb do
  local tat = tonumber(h[b + 1])
  tats[b] = tat
  if tat then
    local from = tat - tonumber(ARGV[i + 1])
    if from > at then at = from end
  end
  i = i + 2
end
local nw = tonumber(ARGV[i])
i = i + 1
local maxW, maxL, full = 0, 0, false
for w = 1, nw do
  local l, win = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  if win > maxW then maxW = win end
  local e = redis.call('ZREVRANGE', KEYS[2], l - 1, l - 1, 'WITHSCORES')
  if l > maxL then
    maxL = l
    full = e[2] ~= nil
  elseif l == maxL and e[2] then
    full = true
  end
  if e[2] and tonumber(e[2]) + win > at then at = tonumber(e[2]) + win end
  i = i + 2
end
local function reply(wait)
  if wait % 1 ~= 0 then wait = string.format('%.17g', wait) end
  if ARGV[4] == 'w' or ARGV[4] == 'wp' then return wait end
  if now % 1 ~= 0 then return { wait, string.format('%.17g', now) } end
  return { wait, now }
end
local wait = at - now
local r = math.ceil(wait)
while now + r < at do r = r + 1 end
if at > now and wait > tonumber(ARGV[2]) then return reply(-r) end
if at <= now then at = now end
r = at - now
if nb > 0 then
  local ttl = at - now
  local set = { 'last', at }
  i = 6
  for b = 1, nb do
    local tat = tats[b]
    if not tat or tat < at then tat = at end
    tat = tat + tonumber(ARGV[i])
    set[2 * b + 1] = 'b' .. b
    set[2 * b + 2] = tat
    if tat - now > ttl then ttl = tat - now end
    i = i + 2
  end
  redis.call('HSET', KEYS[1], unpack(set))
  redis.call('PEXPIRE', KEYS[1], math.ceil(ttl) + 1)
end
if nw > 0 then
  redis.call('ZADD', KEYS[2], at, ARGV[3])
  if ARGV[4] == 'wp' or ARGV[4] == 'tp' then
    local cut = now - maxW
    if cut % 1 ~= 0 then cut = string.format('%.17g', cut) end
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. cut)
  end
  if full then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(maxL + 1)) end
  redis.call('PEXPIRE', KEYS[2], math.ceil(at + maxW - now) + 1)
end
return reply(r)
`;

/** Redis time in milliseconds, or the limiter's from ARGV[1]. */
const NOW = `local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
end`;

/** From the earliest time `at` the limits allow: the reply, and the refusal when the wait is too long. */
const DECIDE = `local wait = at - now
local r = math.ceil(wait)
while now + r < at do r = r + 1 end
if at > now and wait > tonumber(ARGV[2]) then
  if ARGV[4] == 'w' or ARGV[4] == 'wp' then return -r end
  if now % 1 ~= 0 then return { -r, string.format('%.17g', now) } end
  return { -r, now }
end
if at <= now then at = now end
r = at - now`;

/** The reply of an admission (no closure for it: a function defined in the script is made on every run). */
const ADMIT = `if r % 1 ~= 0 then r = string.format('%.17g', r) end
if ARGV[4] == 'w' or ARGV[4] == 'wp' then return r end
if now % 1 ~= 0 then return { r, string.format('%.17g', now) } end
return { r, now }`;

/** A number as a Lua literal: JavaScript's shortest form reads back as the same double. */
function lit(n: number): string {
  return String(n);
}

const intervalOf = (b: TokenBucket): number => b.intervalMs / b.rate;
const toleranceOf = (b: TokenBucket): number => (b.burst - 1) * intervalOf(b);

/** The script for `limits`. */
export function limitScript(limits: readonly Limit[]): LimitScript {
  const buckets = limits.filter((l): l is TokenBucket => l.kind === 'token-bucket');
  const windows = limits.filter((l): l is SlidingWindow => l.kind === 'sliding-window');
  const constants = [...buckets.flatMap((b) => [intervalOf(b), toleranceOf(b)]), ...windows.map((w) => w.windowMs)];
  if (limits.length > MAX_COMPILED_LIMITS || !constants.every(Number.isFinite)) {
    const limitArgs = [
      String(buckets.length),
      ...buckets.flatMap((b) => [String(intervalOf(b)), String(toleranceOf(b))]),
      String(windows.length),
      ...windows.flatMap((w) => [String(w.limit), String(w.windowMs)]),
    ];
    return { text: GENERAL, sha: sha1(GENERAL), limitArgs };
  }
  const lua: string[] = [NOW, 'local at = now'];
  if (buckets.length > 0) {
    lua.push(`local h = redis.call('HMGET', KEYS[1], 'last'${buckets.map((_, i) => `, 'b${i + 1}'`).join('')})`);
    lua.push('local last = tonumber(h[1])');
  } else {
    // Windows alone keep no hash: the last reservation is the set's highest score.
    lua.push("local last = tonumber(redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2])");
  }
  lua.push('if last and last > at then at = last end');
  buckets.forEach((b, i) => {
    const tat = `tat${i + 1}`;
    const tolerance = lit(toleranceOf(b));
    lua.push(`local ${tat} = tonumber(h[${i + 2}])`);
    lua.push(`if ${tat} and ${tat} - ${tolerance} > at then at = ${tat} - ${tolerance} end`);
  });
  // Windows of one limit constrain through the same entry (the limit-th newest reservation): read it
  // once, with the longest of their windows.
  const longest = new Map<number, number>();
  for (const w of windows) longest.set(w.limit, Math.max(longest.get(w.limit) ?? 0, w.windowMs));
  const entries = [...longest];
  entries.forEach(([limit, windowMs], i) => {
    const e = `e${i + 1}`;
    lua.push(`local ${e} = tonumber(redis.call('ZREVRANGE', KEYS[2], ${limit - 1}, ${limit - 1}, 'WITHSCORES')[2])`);
    lua.push(`if ${e} and ${e} + ${lit(windowMs)} > at then at = ${e} + ${lit(windowMs)} end`);
  });
  lua.push(DECIDE);
  if (buckets.length > 0) {
    lua.push('local ttl = at - now');
    buckets.forEach((b, i) => {
      const tat = `tat${i + 1}`;
      lua.push(`if not ${tat} or ${tat} < at then ${tat} = at end`);
      lua.push(`${tat} = ${tat} + ${lit(intervalOf(b))}`);
      lua.push(`if ${tat} - now > ttl then ttl = ${tat} - now end`);
    });
    lua.push(`redis.call('HSET', KEYS[1], 'last', at${buckets.map((_, i) => `, 'b${i + 1}', tat${i + 1}`).join('')})`);
    lua.push("redis.call('PEXPIRE', KEYS[1], math.ceil(ttl) + 1)");
  }
  if (windows.length > 0) {
    const maxW = Math.max(...windows.map((w) => w.windowMs));
    const maxL = Math.max(...windows.map((w) => w.limit));
    // The set holds more than the largest limit only if that limit's entry was there.
    const full = `e${entries.findIndex(([limit]) => limit === maxL) + 1} ~= nil`;
    lua.push(`redis.call('ZADD', KEYS[2], at, ARGV[3])`);
    lua.push(`if ARGV[4] == 'wp' or ARGV[4] == 'tp' then
  local cut = now - ${lit(maxW)}
  if cut % 1 ~= 0 then cut = string.format('%.17g', cut) end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. cut)
end`);
    lua.push(`if ${full} then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, ${lit(-(maxL + 1))}) end`);
    lua.push(`redis.call('PEXPIRE', KEYS[2], math.ceil(at + ${lit(maxW)} - now) + 1)`);
  }
  lua.push(ADMIT);
  const text = `${lua.join('\n')}\n`;
  return { text, sha: sha1(text), limitArgs: [] };
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
