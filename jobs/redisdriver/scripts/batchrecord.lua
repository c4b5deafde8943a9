-- Record final outcomes of members of a batch (idempotent: sets, not
-- counters), optionally commit it, and claim the callbacks that became due.
-- A success removes an earlier dead outcome (a dead job retried from the
-- dead set may succeed); a dead outcome never overrides a success.
-- KEYS[1] batch meta hash, KEYS[2] members hash, KEYS[3] succeeded set,
-- KEYS[4] dead set
-- ARGV[1] now (unix ms), ARGV[2] '1' to commit, then pairs: member,
-- 's' (succeeded) or 'x' (dead)
-- Returns the callbacks claimed, each once: 'complete' and/or 'success'.
local fired = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
  return fired
end
-- Bulk commands, a chunk at a time (Lua's unpack has a stack limit): a
-- completer flush records up to a thousand outcomes in one call.
local chunk = 500
local succ, dead = {}, {}
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] == 's' then
    succ[#succ + 1] = ARGV[i]
  else
    dead[#dead + 1] = ARGV[i]
  end
end
local function members(list, from, to)
  local out = {}
  local found = redis.call('HMGET', KEYS[2], unpack(list, from, to))
  for k = 1, #found do
    if found[k] then
      out[#out + 1] = list[from + k - 1]
    end
  end
  return out
end
for from = 1, #succ, chunk do
  local m = members(succ, from, math.min(from + chunk - 1, #succ))
  if #m > 0 then
    redis.call('SADD', KEYS[3], unpack(m))
    redis.call('SREM', KEYS[4], unpack(m))
  end
end
for from = 1, #dead, chunk do
  local m = members(dead, from, math.min(from + chunk - 1, #dead))
  if #m > 0 then
    local already = redis.call('SMISMEMBER', KEYS[3], unpack(m))
    local add = {}
    for k = 1, #m do
      if already[k] == 0 then
        add[#add + 1] = m[k]
      end
    end
    if #add > 0 then
      redis.call('SADD', KEYS[4], unpack(add))
    end
  end
end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'committed', '1')
end
local st = redis.call('HMGET', KEYS[1], 'committed', 'cancelled', 'complete', 'success')
if st[1] ~= '1' or st[2] == '1' then
  return fired
end
local total = redis.call('HLEN', KEYS[2])
local s = redis.call('SCARD', KEYS[3])
local d = redis.call('SCARD', KEYS[4])
if (not st[3] or st[3] == '') and s + d >= total then
  redis.call('HSET', KEYS[1], 'complete', 'firing', 'firing_at', ARGV[1])
  fired[#fired + 1] = 'complete'
end
if (not st[4] or st[4] == '') and s >= total then
  redis.call('HSET', KEYS[1], 'success', 'firing', 'firing_at', ARGV[1])
  fired[#fired + 1] = 'success'
end
return fired
