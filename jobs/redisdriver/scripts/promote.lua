-- Move scheduled jobs and retries that are due to their ready queue.
-- KEYS[1] scheduled, KEYS[2] retry, KEYS[3] ready
-- ARGV[1] now (unix ms), ARGV[2] max jobs per set
-- Returns {promoted, next due score or -1}.
local promoted = 0
local nextAt = -1
for k = 1, 2 do
  local members = redis.call('ZRANGEBYSCORE', KEYS[k], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
  for _, m in ipairs(members) do
    redis.call('ZREM', KEYS[k], m)
    redis.call('LPUSH', KEYS[3], m)
  end
  promoted = promoted + #members
  local first = redis.call('ZRANGE', KEYS[k], 0, 0, 'WITHSCORES')
  if first[2] then
    local s = tonumber(first[2])
    if nextAt < 0 or s < nextAt then
      nextAt = s
    end
  end
end
return {promoted, nextAt}
