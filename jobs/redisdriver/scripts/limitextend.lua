-- Extend the expiry of holders that still hold a limiter. A holder already
-- dropped as expired is not brought back: its slot may be someone else's.
-- KEYS[1] holders: sorted set of holder tokens scored by expiry (unix ms)
-- KEYS[2] info: hash of holder token to its description
-- ARGV[1] new expiry (unix ms), ARGV[2..] holder tokens
-- Returns how many holders were extended.
local n = 0
for i = 2, #ARGV do
  n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[i])
end
if n > 0 then
  local ttl = tonumber(ARGV[1]) - tonumber(redis.call('TIME')[1]) * 1000
  if ttl > 0 and redis.call('PTTL', KEYS[1]) < ttl + 1000 then
    redis.call('PEXPIRE', KEYS[1], ttl + 1000)
    if redis.call('EXISTS', KEYS[2]) == 1 then
      redis.call('PEXPIRE', KEYS[2], ttl + 1000)
    end
  end
end
return n
