-- Return jobs whose lease expired to the front of their ready queue.
-- KEYS[1] inflight, KEYS[2] ready
-- ARGV[1] now (unix ms), ARGV[2] max jobs
-- Returns how many jobs were rescued.
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, m in ipairs(members) do
  redis.call('ZREM', KEYS[1], m)
  local sep = string.find(m, '|', 1, true)
  redis.call('RPUSH', KEYS[2], string.sub(m, sep + 1))
end
return #members
