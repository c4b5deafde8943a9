-- End a leader's term, if the token still leads.
-- KEYS[1] the leader key
-- ARGV[1] the resigning token
-- Reply: 1 when the term ended, 0 when the token did not lead.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
