-- Admit a holder to a limiter if fewer than the limit hold it.
-- KEYS[1] holders: sorted set of holder tokens scored by expiry (unix ms)
-- KEYS[2] rejected: counter of refused acquisitions
-- ARGV[1] now (unix ms), ARGV[2] limit, ARGV[3] token, ARGV[4] expiry (unix ms)
-- Returns 1 when the token was admitted (or already held), 0 when refused.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  redis.call('INCR', KEYS[2])
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
-- The set lives no longer than its last holder, so unused limiters vanish.
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local ttl = tonumber(last[2]) - tonumber(ARGV[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl + 1000)
end
return 1
