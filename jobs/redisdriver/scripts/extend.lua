-- Extend the leases of held jobs. Only members still held are touched, so a
-- rescued job is not brought back into the inflight set.
-- KEYS[1] inflight
-- ARGV[1] new lease deadline (unix ms), ARGV[2..] inflight members
-- Returns how many leases were extended.
local n = 0
for i = 2, #ARGV do
  n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[i])
end
return n
