-- Count an invite opened: every open, and its session once, on the first open.
-- KEYS: 1 session hash, 2 campaign counters
-- Returns 1 when counted, 0 when the session no longer exists (nothing is created for it).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[2], 'invites_opened', 1)
if redis.call('HINCRBY', KEYS[1], 'opens', 1) == 1 then
  redis.call('HINCRBY', KEYS[2], 'invited_sessions', 1)
end
return 1
