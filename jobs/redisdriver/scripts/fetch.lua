-- Take up to ARGV[1] ready jobs and hold them under a lease.
-- KEYS[1] ready list, KEYS[2] inflight sorted set, KEYS[3] paused flag
-- ARGV[1] max jobs, ARGV[2] lease deadline (unix ms), ARGV[3] lease token
-- Returns the encoded jobs taken, oldest first, or the number -1 when the
-- queue is paused. Each is held in the inflight set as token .. job, so that
-- only the holder of this lease can complete it.
if redis.call('EXISTS', KEYS[3]) == 1 then
  return -1
end
local jobs = redis.call('RPOP', KEYS[1], ARGV[1])
if not jobs then
  return {}
end
local args = {}
local n = 0
for _, job in ipairs(jobs) do
  args[n + 1] = ARGV[2]
  args[n + 2] = ARGV[3] .. job
  n = n + 2
end
redis.call('ZADD', KEYS[2], unpack(args))
return jobs
