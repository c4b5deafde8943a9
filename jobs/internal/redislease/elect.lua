-- Take or keep the leadership of one name.
-- KEYS[1] the leader key: the leading token, expiring with the term
-- ARGV[1] the candidate's token
-- ARGV[2] the term in milliseconds
-- Reply: 1 when the candidate leads (elected or renewed), 0 when another does.
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
