-- Add members to a batch, unless its completion callback was claimed or it
-- was cancelled: a member added then would never be counted.
-- KEYS[1] batch meta hash, KEYS[2] batch members hash (member -> queue)
-- ARGV pairs: member (job id, or batch:<id> for a child batch), queue
-- Returns 'ok', 'finished' or 'missing'.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'missing'
end
local st = redis.call('HMGET', KEYS[1], 'cancelled', 'complete')
if st[1] == '1' or (st[2] and st[2] ~= '') then
  return 'finished'
end
-- One HSET per chunk of pairs (Lua's unpack has a stack limit).
for from = 1, #ARGV, 1000 do
  redis.call('HSET', KEYS[2], unpack(ARGV, from, math.min(from + 999, #ARGV)))
end
return 'ok'
