-- Drop batches from the index of batches that may be left firing, each only
-- if its score is still the one the sweep read: a recorder that marked the
-- batch again since (it may be claiming a callback) keeps it there.
-- KEYS[1] the firing index (sorted set: batch id -> ms last marked)
-- ARGV pairs: batch id, score read
-- Returns how many were dropped.
local n = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    n = n + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return n
