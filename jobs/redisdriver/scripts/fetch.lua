-- Take up to ARGV[1] ready jobs and hold them under a lease.
-- KEYS[1] ready list, KEYS[2] inflight sorted set, KEYS[3] paused flag
-- ARGV[1] max jobs, ARGV[2] lease deadline (unix ms), ARGV[3] lease token,
-- ARGV[4] most jobs of the queue held at once by every process (0: no cap)
-- Returns the encoded jobs taken, oldest first, the number -1 when the queue
-- is paused, or -2 when it holds its cap already. Each is held in the
-- inflight set as token .. job, so that only the holder of this lease can
-- complete it. The inflight set is every held job of the queue, on the
-- queue's slot, so the cap is checked in the same step as the take.
if redis.call('EXISTS', KEYS[3]) == 1 then
  return -1
end
local max = tonumber(ARGV[1])
local cap = tonumber(ARGV[4] or '0')
if cap > 0 then
  local room = cap - redis.call('ZCARD', KEYS[2])
  if room <= 0 then
    return -2
  end
  if room < max then
    max = room
  end
end
local jobs = redis.call('RPOP', KEYS[1], max)
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
