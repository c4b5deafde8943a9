-- Mark a running job for cancellation, if it is still running: the process
-- that holds it sees the mark and cancels the job's context.
-- KEYS[1] inflight sorted set, KEYS[2] cancel set
-- ARGV[1] inflight member, ARGV[2] job id
-- Returns 1 if the job was marked, 0 if it was no longer running.
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('SADD', KEYS[2], ARGV[2])
return 1
