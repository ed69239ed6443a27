/** The Lua scripts of `RedisRateLimiter` (run atomically in Redis). */

// Clock: Redis' own TIME, so workers on machines with skewed clocks agree.
// One round of a process: first frees the leases it is done with (and moves the token bucket by
// reserved - actual, never above a full minute), then grants the asked leases in order until one
// cannot start. ARGV: maxInFlight, rpm, tpm, leaseMs, releaseCount, (leaseId, tokenDelta) x
// releaseCount, then (leaseId, tokens to reserve) per asked lease.
// Returns {granted, wait}: wait 0 when every asked lease was granted, -1 when every in-flight
// slot is taken, else the ms to wait for the request or token bucket.
export const LIMIT_ROUND_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxInFlight, rpm, tpm, leaseMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function level(key, rate)
  local state = redis.call('HMGET', key, 'level', 'at')
  local stored, at = tonumber(state[1]), tonumber(state[2])
  if stored == nil then return rate, false end
  return math.min(rate, stored + (now - at) * rate / 60000), true
end
local tokens, tokensKept, tokensChanged = 0, false, false
if tpm > 0 then tokens, tokensKept = level(KEYS[3], tpm) end
local releases = tonumber(ARGV[5])
local index = 6
for _ = 1, releases do
  if maxInFlight > 0 then redis.call('ZREM', KEYS[1], ARGV[index]) end
  local delta = tonumber(ARGV[index + 1])
  if tpm > 0 and delta ~= 0 and tokensKept then
    tokens = math.min(tpm, tokens + delta)
    tokensChanged = true
  end
  index = index + 2
end
local granted, wait = 0, 0
if index <= #ARGV then
  local inFlight, requests = 0, 0
  if maxInFlight > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    inFlight = redis.call('ZCARD', KEYS[1])
  end
  if rpm > 0 then requests = level(KEYS[2], rpm) end
  while index <= #ARGV do
    if maxInFlight > 0 and inFlight >= maxInFlight then wait = -1 break end
    local cost = tonumber(ARGV[index + 1])
    if rpm > 0 and requests < 1 then wait = math.ceil((1 - requests) * 60000 / rpm) end
    if tpm > 0 then
      local need = math.min(cost, tpm)
      if tokens < need then wait = math.max(wait, math.ceil((need - tokens) * 60000 / tpm)) end
    end
    if wait > 0 then break end
    if rpm > 0 then requests = requests - 1 end
    if tpm > 0 then
      tokens = tokens - cost
      tokensChanged = true
    end
    if maxInFlight > 0 then
      redis.call('ZADD', KEYS[1], now + leaseMs, ARGV[index])
      inFlight = inFlight + 1
    end
    granted = granted + 1
    index = index + 2
  end
  if granted > 0 then
    if rpm > 0 then
      redis.call('HSET', KEYS[2], 'level', requests, 'at', now)
      redis.call('PEXPIRE', KEYS[2], 120000)
    end
    if maxInFlight > 0 then redis.call('PEXPIRE', KEYS[1], leaseMs * 2) end
  end
end
if tokensChanged then
  redis.call('HSET', KEYS[3], 'level', tokens, 'at', now)
  redis.call('PEXPIRE', KEYS[3], 120000)
end
return {granted, wait}
`;

// Extends the live leases ARGV[2..]; returns the ids that are gone (expired and removed: such a
// lease is not brought back, and its slot is not reused).
export const LIMIT_RENEW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local leaseMs = tonumber(ARGV[1])
local lost = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', now + leaseMs, ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
redis.call('PEXPIRE', KEYS[1], leaseMs * 2)
return lost
`;
