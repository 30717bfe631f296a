/**
 * The fleet's state machine, in Lua, run atomically by Redis: one script, one operation per call.
 *
 * Keys (one hash tag, so all four live in one cluster slot):
 *   KEYS[1] state hash: state (closed | open | half-open), gen, until (ms), openings, successes, resets
 *   KEYS[2] probe leases: sorted set, member = lease id, score = expiry (ms); a lease outlives the
 *           half-open it was granted in, until its probe reports or it expires
 *   KEYS[3] trip votes:   sorted set, member = breaker id, score = time of the vote (ms)
 *   KEYS[4] isolations:   set of holder ids; the fleet is isolated while it is not empty
 * ARGV: op, member, halfOpenAfterMs, maxHalfOpenAfterMs, backoffFactor, probes, successesToClose,
 *       quorum, quorumWindowMs, probeLeaseMs, stateTtlMs, a1, a2
 *       (trip and seed: a1 = the open wait left in ms, a2 = openings; probe-done: outcome, generation)
 *
 * Time is Redis's own (TIME), so clocks of the processes may disagree without harm: a process is told
 * how long remains of an open wait, never when it ends. Every reply is the fleet's view:
 *   { state (isolated when isolations exist), gen, remainingMs, openings, resets, known, granted }.
 * `gen` changes with every transition and only grows (it is at least the server time in µs), so a
 * state rebuilt after it expired or after a restart never repeats an old generation.
 */
export const FLEET_SCRIPT = `
local op, member = ARGV[1], ARGV[2]
local base, maxWait, factor = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local probes, toClose = tonumber(ARGV[6]), tonumber(ARGV[7])
local quorum, quorumWindow = tonumber(ARGV[8]), tonumber(ARGV[9])
local leaseMs, ttl = tonumber(ARGV[10]), tonumber(ARGV[11])
local sk, pk, vk, ik = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])

local h = redis.call('HMGET', sk, 'state', 'gen', 'until', 'openings', 'successes', 'resets')
local known = h[1] ~= false
local state = h[1] or 'closed'
local gen = tonumber(h[2] or '0')
local untilMs = tonumber(h[3] or '0')
local openings = tonumber(h[4] or '0')
local successes = tonumber(h[5] or '0')
local resets = tonumber(h[6] or '0')

local function fmt(n) return string.format('%.0f', n) end

local function save(newState)
  state = newState
  gen = math.max(gen + 1, nowUs)
  redis.call('HSET', sk, 'state', state, 'gen', fmt(gen), 'until', fmt(untilMs), 'openings', fmt(openings),
    'successes', fmt(successes), 'resets', fmt(resets))
  redis.call('PEXPIRE', sk, ttl)
  known = true
end

-- Neither opening nor closing drops probe leases: a probe of an earlier half-open still running keeps
-- its slot until it reports or its lease expires.
local function openFor(wait, n)
  openings = n
  untilMs = now + wait
  successes = 0
  redis.call('DEL', vk)
  save('open')
end

local function open(n)
  local wait = base * (factor ^ (n - 1))
  if wait > maxWait then wait = maxWait end
  openFor(wait, n)
end

local function close()
  openings, untilMs, successes = 0, 0, 0
  redis.call('DEL', vk)
  save('closed')
end

local function isolated() return redis.call('SCARD', ik) > 0 end

local function view(granted)
  local effective = state
  if isolated() then effective = 'isolated' end
  local remaining = 0
  if state == 'open' and untilMs > now then remaining = untilMs - now end
  return { effective, fmt(gen), fmt(remaining), fmt(openings), fmt(resets), known and 1 or 0, granted and 1 or 0 }
end

if op == 'sync' then
  return view(false)
elseif op == 'trip' then
  if state == 'closed' and not isolated() then
    redis.call('ZADD', vk, now, member)
    redis.call('ZREMRANGEBYSCORE', vk, '-inf', now - quorumWindow)
    redis.call('PEXPIRE', vk, quorumWindow)
    -- The vote that makes the quorum says how long its voter stays open (what is left of a restored
    -- snapshot's wait, with its openings); a fresh trip says a whole first wait.
    if redis.call('ZCARD', vk) >= quorum then
      openFor(tonumber(ARGV[12]), math.max(1, tonumber(ARGV[13])))
    end
  end
  return view(false)
elseif op == 'withdraw' then
  redis.call('ZREM', vk, member)
  return view(false)
elseif op == 'probe' then
  if state == 'closed' or isolated() then return view(false) end
  if state == 'open' then
    if now < untilMs then return view(false) end
    successes = 0
    save('half-open')
  end
  redis.call('ZREMRANGEBYSCORE', pk, '-inf', now)
  if redis.call('ZCARD', pk) >= probes then return view(false) end
  redis.call('ZADD', pk, now + leaseMs, member)
  redis.call('PEXPIRE', pk, leaseMs)
  return view(true)
elseif op == 'probe-done' then
  redis.call('ZREM', pk, member)
  local outcome, grantedIn = ARGV[12], ARGV[13]
  if state ~= 'half-open' or fmt(gen) ~= grantedIn or outcome == 'release' or isolated() then
    return view(false)
  end
  if outcome == 'failure' then
    open(openings + 1)
  else
    successes = successes + 1
    if successes >= toClose then close() else redis.call('HSET', sk, 'successes', fmt(successes)) end
  end
  return view(false)
elseif op == 'isolate' then
  redis.call('SADD', ik, member)
  save(state)
  return view(false)
elseif op == 'release' then
  if redis.call('SREM', ik, member) == 1 then
    if isolated() then save(state) else close() end
  end
  return view(false)
elseif op == 'reset' then
  redis.call('DEL', ik, pk, vk)
  resets = resets + 1
  close()
  return view(false)
elseif op == 'seed' then
  if not known then openFor(tonumber(ARGV[12]), math.max(1, tonumber(ARGV[13]))) end
  return view(false)
end
return redis.error_reply('ERR @bulwark/breaker: unknown fleet operation ' .. tostring(op))
`;
