-- Mark a claimed batch callback fired. Once the completion callback fired,
-- every key of the batch expires after the retention.
-- KEYS[1] batch meta hash, KEYS[2] members hash, KEYS[3] succeeded set,
-- KEYS[4] dead set
-- ARGV[1] event ('complete' or 'success'), ARGV[2] retention (seconds)
-- Returns 1.
if redis.call('HGET', KEYS[1], ARGV[1]) == 'firing' then
  redis.call('HSET', KEYS[1], ARGV[1], 'fired')
end
if redis.call('HGET', KEYS[1], 'complete') == 'fired' then
  for i = 1, 4 do
    redis.call('EXPIRE', KEYS[i], ARGV[2])
  end
end
return 1
