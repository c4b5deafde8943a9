-- Record the outcomes of held jobs. A job whose member is no longer in the
-- inflight set lost its lease (it was rescued and may be running elsewhere):
-- its outcome is ignored.
-- KEYS[1] inflight, KEYS[2] ready, KEYS[3] scheduled, KEYS[4] retry,
-- KEYS[5] dead, KEYS[6] processed, KEYS[7] processed today, KEYS[8] failed,
-- KEYS[9] failed today, KEYS[10] unique hash, KEYS[11] unique_ttl sorted set,
-- KEYS[12] cancel set, KEYS[13] processed per minute today (hash: HH:MM to
-- count), KEYS[14] failed per minute today
-- ARGV[1] dead set max size, ARGV[2] dead set oldest score kept (unix ms),
-- ARGV[3] daily counter TTL (seconds), ARGV[4] this minute (HH:MM),
-- ARGV[5] per-minute counters' TTL (seconds), then per job six values:
-- op (d done, r retry, x dead, s snooze, q requeue), inflight member,
-- score (unix ms, for r x s), encoded job to store (for r x s q), the unique
-- key the job holds until it finishes (or ''), job id.
-- A job that is done or dead releases its unique key; any outcome but a
-- requeue clears its cancellation mark.
-- Returns {applied, stale}.
local processed, failed, dead, applied, stale = 0, 0, 0, 0, 0
local marks = redis.call('EXISTS', KEYS[12]) == 1
for i = 6, #ARGV, 6 do
  local op = ARGV[i]
  if redis.call('ZREM', KEYS[1], ARGV[i + 1]) == 1 then
    applied = applied + 1
    local ukey = ARGV[i + 4]
    if ukey ~= '' and (op == 'd' or op == 'x') and redis.call('HGET', KEYS[10], ukey) == ARGV[i + 5] then
      redis.call('HDEL', KEYS[10], ukey)
      redis.call('ZREM', KEYS[11], ukey)
    end
    if marks and op ~= 'q' then
      redis.call('SREM', KEYS[12], ARGV[i + 5])
    end
    if op == 'd' then
      processed = processed + 1
    elseif op == 'r' then
      redis.call('ZADD', KEYS[4], ARGV[i + 2], ARGV[i + 3])
      processed = processed + 1
      failed = failed + 1
    elseif op == 'x' then
      redis.call('ZADD', KEYS[5], ARGV[i + 2], ARGV[i + 3])
      processed = processed + 1
      failed = failed + 1
      dead = dead + 1
    elseif op == 's' then
      redis.call('ZADD', KEYS[3], ARGV[i + 2], ARGV[i + 3])
    elseif op == 'q' then
      redis.call('RPUSH', KEYS[2], ARGV[i + 3])
    end
  else
    stale = stale + 1
  end
end
if processed > 0 then
  redis.call('INCRBY', KEYS[6], processed)
  redis.call('INCRBY', KEYS[7], processed)
  redis.call('EXPIRE', KEYS[7], ARGV[3])
  redis.call('HINCRBY', KEYS[13], ARGV[4], processed)
  redis.call('EXPIRE', KEYS[13], ARGV[5])
end
if failed > 0 then
  redis.call('INCRBY', KEYS[8], failed)
  redis.call('INCRBY', KEYS[9], failed)
  redis.call('EXPIRE', KEYS[9], ARGV[3])
  redis.call('HINCRBY', KEYS[14], ARGV[4], failed)
  redis.call('EXPIRE', KEYS[14], ARGV[5])
end
if dead > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. ARGV[2])
  redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -(tonumber(ARGV[1]) + 1))
end
return {applied, stale}
