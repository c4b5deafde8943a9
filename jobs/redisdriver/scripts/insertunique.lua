-- Insert jobs that carry a unique key, each only if no job of the queue holds
-- its key; taking the key and storing the job are one step.
-- KEYS[1] unique hash, KEYS[2] unique_ttl sorted set, KEYS[3] ready list,
-- KEYS[4] scheduled sorted set
-- ARGV[1] now (unix ms), then per job five values: unique key, job id,
-- encoded job, due time (unix ms; 0 = ready now), key expiry (unix ms; 0 =
-- held until the job finishes).
-- Returns, per job, '' when it was stored (or already was: running the call
-- twice is harmless) or the id of the job that holds its key.
local now = tonumber(ARGV[1])
-- Keys held for a time are swept here, a few per call, rather than by a timer.
for _, k in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('HDEL', KEYS[1], k)
  redis.call('ZREM', KEYS[2], k)
end
local out = {}
for i = 2, #ARGV, 5 do
  local key, id = ARGV[i], ARGV[i + 1]
  local holder = redis.call('HGET', KEYS[1], key)
  if holder then
    local exp = redis.call('ZSCORE', KEYS[2], key)
    if exp and tonumber(exp) <= now then
      holder = false
    end
  end
  if holder and holder ~= id then
    out[#out + 1] = holder
  else
    if not holder then
      redis.call('HSET', KEYS[1], key, id)
      local expiry = tonumber(ARGV[i + 4])
      if expiry > 0 then
        redis.call('ZADD', KEYS[2], expiry, key)
      else
        redis.call('ZREM', KEYS[2], key)
      end
      local due = tonumber(ARGV[i + 3])
      if due > 0 then
        redis.call('ZADD', KEYS[4], due, ARGV[i + 2])
      else
        redis.call('LPUSH', KEYS[3], ARGV[i + 2])
      end
    end
    out[#out + 1] = ''
  end
end
return out
