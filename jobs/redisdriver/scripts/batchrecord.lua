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
for i = 3, #ARGV, 2 do
  local m = ARGV[i]
  if redis.call('HEXISTS', KEYS[2], m) == 1 then
    if ARGV[i + 1] == 's' then
      redis.call('SADD', KEYS[3], m)
      redis.call('SREM', KEYS[4], m)
    elseif redis.call('SISMEMBER', KEYS[3], m) == 0 then
      redis.call('SADD', KEYS[4], m)
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
