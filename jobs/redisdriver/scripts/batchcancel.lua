-- Cancel a batch: its callbacks never fire and no member is added. Its keys
-- expire after the retention.
-- KEYS[1] batch meta hash, KEYS[2] members hash, KEYS[3] succeeded set,
-- KEYS[4] dead set
-- ARGV[1] retention (seconds)
-- Returns {'missing'}, or 'ok' followed by pairs member, queue of the
-- members that have not finished.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'missing'}
end
redis.call('HSET', KEYS[1], 'cancelled', '1')
local out = {'ok'}
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  if redis.call('SISMEMBER', KEYS[3], all[i]) == 0 and redis.call('SISMEMBER', KEYS[4], all[i]) == 0 then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
for i = 1, 4 do
  redis.call('EXPIRE', KEYS[i], ARGV[1])
end
return out
