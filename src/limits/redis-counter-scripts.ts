import { createHash } from 'node:crypto'

/**
 * The Lua scripts of the Redis counter store. Redis runs a script atomically (no other command
 * interleaves), so reading every counter and then writing all or none of them inside one script
 * is the same all-or-nothing decision as the memory adapter's synchronous run — in one round
 * trip, whatever the number of instances. The GCRA arithmetic mirrors `gcra.ts` line by line.
 *
 * Numbers: Lua numbers are doubles; every value here is an integer below 2^53 (see gcra.ts), and
 * is written with '%d' because Lua's tostring keeps only 14 significant digits.
 * Requires Redis ≥ 7.0 (PEXPIRETIME; SET … PXAT needs 6.2).
 */

export interface LuaScript {
  readonly source: string
  readonly sha: string
}

/** A script with its SHA-1, the name EVALSHA calls it by. */
export function lua (source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

// ARGV[1] is the caller's clock in epoch ms, or '' for the Redis server's TIME (the default: one
// clock for every instance, whatever their own skew).
const common = `
local function clock ()
  local now = tonumber(ARGV[1])
  if now then return now end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int (x) return string.format('%d', x) end
local function drainMs (debt, tick)
  if debt <= 0 or tick == 0 then return 0 end
  return math.ceil(debt / tick)
end
-- gcra.ts gcraDebt: the stored 'at:debt:tick', drained to now, in the current ticks.
local function debtOf (key, now, tick)
  local s = redis.call('GET', key)
  if not s or tick == 0 then return 0 end
  local at, debt, was = string.match(s, '^(%-?%d+):(%d+):(%d+)$')
  at, debt, was = tonumber(at), tonumber(debt), tonumber(was)
  if not at or debt <= 0 then return 0 end
  if was ~= tick then
    if was == 0 then return 0 end
    debt = math.ceil(debt * tick / was)
  end
  local elapsed = now - at
  if elapsed > 0 then debt = debt - elapsed * tick end
  if debt > 0 then return debt end
  return 0
end
-- A fully replenished key is deleted; otherwise it lives exactly until it would be.
local function writeDebt (key, now, debt, tick)
  if debt > 0 then
    redis.call('SET', key, int(now) .. ':' .. int(debt) .. ':' .. int(tick), 'PX', int(drainMs(debt, tick)))
  else
    redis.call('DEL', key)
  end
end
-- A budget counter whose period is over reads as 0 even before Redis expires it (caller clocks).
local function spentOf (key, now)
  local exp = redis.call('PEXPIRETIME', key)
  if exp > 0 and exp <= now then return 0, exp end
  return tonumber(redis.call('GET', key) or '0'), exp
end
`

/**
 * KEYS: one counter per check, then the reservation's open marker.
 * ARGV: clock, reservation id, marker TTL ms, then 8 per check:
 * kind (g = GCRA, c = concurrency, b = budget), limit, windowMs, resetAt or '', cost, tick, interval, tolerance.
 * Returns: ok (1/0), then per check: pass (1/0), remaining, resetMs, retryAfterMs (−1 = never).
 */
export const acquireScript = lua(common + `
local now = clock()
local n = #KEYS - 1
local ok = true
local ctx = {}
for i = 1, n do
  local b = 3 + (i - 1) * 8
  local c = { kind = ARGV[b + 1], limit = tonumber(ARGV[b + 2]), window = tonumber(ARGV[b + 3]), resetAt = tonumber(ARGV[b + 4]),
    cost = tonumber(ARGV[b + 5]), tick = tonumber(ARGV[b + 6]), interval = tonumber(ARGV[b + 7]), tol = tonumber(ARGV[b + 8]), retry = 0 }
  local key = KEYS[i]
  if c.kind == 'g' then
    c.debt = debtOf(key, now, c.tick)
    local needed = c.debt + c.cost * c.interval
    c.pass = needed <= c.tol
    if not c.pass then
      if c.cost * c.interval > c.tol then c.retry = -1 else c.retry = math.ceil((needed - c.tol) / c.tick) end
    end
  elseif c.kind == 'c' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now))
    c.held = redis.call('ZCARD', key)
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    c.wait = 0
    if first[2] then c.earliest = tonumber(first[2]); c.wait = c.earliest - now end
    c.pass = c.cost <= c.limit and c.held + c.cost <= c.limit
    if c.cost > c.limit then c.retry = -1 elseif not c.pass then c.retry = c.wait end
  else
    c.ended = c.resetAt ~= nil and c.resetAt <= now
    c.spent = spentOf(key, now)
    if c.ended then c.spent = 0 end
    c.resetMs = 0
    if c.resetAt then c.resetMs = math.max(0, c.resetAt - now) end
    c.pass = c.cost <= c.limit and c.spent + c.cost <= c.limit
    if not c.pass then
      if c.cost > c.limit or not c.resetAt then c.retry = -1 else c.retry = c.resetMs end
    end
  end
  if not c.pass then ok = false end
  ctx[i] = c
end
local out = { ok and 1 or 0 }
for i = 1, n do
  local c, key = ctx[i], KEYS[i]
  local remaining, resetMs
  if c.kind == 'g' then
    local debt = c.debt
    if ok then
      debt = debt + c.cost * c.interval
      writeDebt(key, now, debt, c.tick)
    end
    remaining = math.max(0, math.floor((c.tol - debt) / c.interval))
    resetMs = drainMs(debt, c.tick)
  elseif c.kind == 'c' then
    if ok then
      redis.call('ZADD', key, int(now + c.window), ARGV[2])
      if redis.call('PTTL', key) < c.window then redis.call('PEXPIRE', key, int(c.window)) end
      remaining = c.limit - c.held - c.cost
      resetMs = c.window
      if c.earliest then resetMs = math.min(c.earliest - now, c.window) end
    else
      remaining = c.limit - c.held
      resetMs = c.wait
    end
  else
    local spent = c.spent
    if ok then
      spent = spent + c.cost
      if c.ended then
      elseif c.resetAt then redis.call('SET', key, int(spent), 'PXAT', int(c.resetAt))
      else redis.call('SET', key, int(spent)) end
    end
    remaining = math.max(0, c.limit - spent)
    resetMs = c.resetMs
  end
  out[#out + 1] = c.pass and 1 or 0
  out[#out + 1] = remaining
  out[#out + 1] = resetMs
  out[#out + 1] = c.retry
end
if ok then redis.call('SET', KEYS[n + 1], '1', 'PX', ARGV[3]) end
return out
`)

/**
 * KEYS: the reservation's open marker, then one counter per check.
 * ARGV: clock, reservation id, then 6 per check: kind, reserved cost, actual or '', resetAt or '', tick, interval.
 * Deleting the marker is the idempotence: only the first settle finds it. Returns, per budget
 * settled: check index (1-based), spend before, spend after.
 */
export const settleScript = lua(common + `
if redis.call('DEL', KEYS[1]) == 0 then return {} end
local now = clock()
local out = {}
for i = 1, #KEYS - 1 do
  local b = 2 + (i - 1) * 6
  local kind, cost, actual, resetAt = ARGV[b + 1], tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])
  local tick, interval = tonumber(ARGV[b + 5]), tonumber(ARGV[b + 6])
  local key = KEYS[i + 1]
  if kind == 'c' then
    redis.call('ZREM', key, ARGV[2])
  elseif kind == 'g' then
    if actual and actual ~= cost then
      local debt = debtOf(key, now, tick) + (actual - cost) * interval
      if debt < 0 then debt = 0 end
      if debt > 9007199254740991 then debt = 9007199254740991 end
      writeDebt(key, now, debt, tick)
    end
  else
    if not actual then actual = cost end
    local spent, exp = spentOf(key, now)
    -- Only the counter of the reservation's own period, still running: PXAT was exactly resetAt.
    if exp ~= -2 and exp == (resetAt or -1) and not (exp > 0 and exp <= now) then
      local before = math.max(0, spent - cost)
      redis.call('SET', key, int(before + actual), 'KEEPTTL')
      out[#out + 1] = i
      out[#out + 1] = before
      out[#out + 1] = before + actual
    end
  end
end
return out
`)

/** KEYS: budget counters. ARGV: clock. Returns each one's spend (0 when absent or over). */
export const peekScript = lua(common + `
local now = clock()
local out = {}
for i = 1, #KEYS do out[i] = spentOf(KEYS[i], now) end
return out
`)
