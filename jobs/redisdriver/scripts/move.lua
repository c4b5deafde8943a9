-- Move one job that is not running: to the ready queue, to the dead set, or
-- nowhere (delete). A job leaving for good (dead or deleted) releases the
-- unique key it holds until it finishes, and any cancellation mark.
-- KEYS[1] source (the ready list or a sorted set), KEYS[2] ready list,
-- KEYS[3] dead set, KEYS[4] unique hash, KEYS[5] unique_ttl sorted set,
-- KEYS[6] cancel set
-- ARGV[1] member, ARGV[2] 'ready', 'dead' or 'delete', ARGV[3] encoded job to
-- store (may differ from the member: reset for a retry, or with an error),
-- ARGV[4] score in the dead set (unix ms), ARGV[5] unique key to release or
-- '', ARGV[6] job id, ARGV[7] dead set max size, ARGV[8] dead set oldest
-- score kept (unix ms): the dead set is trimmed as completions trim it.
-- Returns 1 if the job was moved, 0 if it was no longer there.
local removed
if KEYS[1] == KEYS[2] then
  removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
else
  removed = redis.call('ZREM', KEYS[1], ARGV[1])
end
if removed == 0 then
  return 0
end
if ARGV[2] == 'ready' then
  redis.call('LPUSH', KEYS[2], ARGV[3])
  return 1
end
if ARGV[2] == 'dead' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[8])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[7]) + 1))
end
if ARGV[5] ~= '' and redis.call('HGET', KEYS[4], ARGV[5]) == ARGV[6] then
  redis.call('HDEL', KEYS[4], ARGV[5])
  redis.call('ZREM', KEYS[5], ARGV[5])
end
redis.call('SREM', KEYS[6], ARGV[6])
return 1
