-- Move one job out of a sorted set: to the ready queue, or nowhere (delete).
-- KEYS[1] source sorted set, KEYS[2] ready list
-- ARGV[1] member, ARGV[2] 'ready' or 'delete', ARGV[3] encoded job to push
-- (may differ from the member when the job is reset for a retry)
-- Returns 1 if the job was moved, 0 if it was no longer there.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
if ARGV[2] == 'ready' then
  redis.call('LPUSH', KEYS[2], ARGV[3])
end
return 1
