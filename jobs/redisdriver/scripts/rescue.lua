-- Return jobs whose lease expired to the front of the ready list.
-- KEYS[1] inflight, KEYS[2] ready
-- ARGV[1] now (unix ms), ARGV[2] max jobs
-- Returns how many jobs were rescued.
-- Each job's rescue count, the last field of its encoding when it has one
-- (appendJob writes it there), goes up by one: the server sends a job
-- rescued too often to the dead set.
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, m in ipairs(members) do
  redis.call('ZREM', KEYS[1], m)
  local sep = string.find(m, '|', 1, true)
  local job = string.sub(m, sep + 1)
  local n = string.match(job, ',"rescues":(%d+)}$')
  if n then
    job = string.sub(job, 1, -(#n + 13)) .. ',"rescues":' .. (tonumber(n) + 1) .. '}'
  else
    job = string.sub(job, 1, -2) .. ',"rescues":1}'
  end
  redis.call('RPUSH', KEYS[2], job)
end
return #members
