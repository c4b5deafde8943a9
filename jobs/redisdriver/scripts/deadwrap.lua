-- Move an undecodable entry from the inflight set to the dead set, wrapped
-- in a job record that says why.
-- KEYS[1] inflight, KEYS[2] dead, KEYS[3] failed, KEYS[4] failed today
-- ARGV[1] inflight member, ARGV[2] score (unix ms), ARGV[3] wrapped job,
-- ARGV[4] daily counter TTL (seconds)
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  redis.call('INCR', KEYS[3])
  redis.call('INCR', KEYS[4])
  redis.call('EXPIRE', KEYS[4], ARGV[4])
  return 1
end
return 0
