-- Admit a holder to a limiter if fewer than the limit hold it.
-- KEYS[1] holders: sorted set of holder tokens scored by expiry (unix ms)
-- KEYS[2] meta: hash of limit, per (ms), used (unix ms), admitted, rejected
-- KEYS[3] info: hash of holder token to its description
-- ARGV[1] now (unix ms), ARGV[2] limit, ARGV[3] token, ARGV[4] expiry (unix ms),
-- ARGV[5] per (ms, 0 for a concurrency limiter), ARGV[6] holder description
-- ('' keeps none), ARGV[7] how long meta outlives the last use (ms)
-- Returns {1 when the token was admitted (or already held) or 0 when refused,
-- 1 when meta was new (the caller registers the limiter) or 0}.
local fresh = 0
if redis.call('EXISTS', KEYS[2]) == 0 then
  fresh = 1
end
local cutoff = '(' .. ARGV[1]
if redis.call('EXISTS', KEYS[3]) == 1 then
  -- Only concurrency limiters keep descriptions, and they have few holders.
  local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)
  for _, t in ipairs(expired) do
    redis.call('HDEL', KEYS[3], t)
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
redis.call('HSET', KEYS[2], 'limit', ARGV[2], 'per', ARGV[5], 'used', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  return {1, fresh}
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  redis.call('HINCRBY', KEYS[2], 'rejected', 1)
  return {0, fresh}
end
redis.call('HINCRBY', KEYS[2], 'admitted', 1)
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[6])
end
-- The set lives no longer than its last holder, so unused limiters vanish.
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local ttl = tonumber(last[2]) - tonumber(ARGV[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl + 1000)
  if ARGV[6] ~= '' then
    redis.call('PEXPIRE', KEYS[3], ttl + 1000)
  end
end
return {1, fresh}
