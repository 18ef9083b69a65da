-- Count an invite opened: every open, and its session once, on the first open.
-- KEYS: invite_opened_keys (socialads/store/scripts.py), by name.
-- Returns 1 when counted, 0 when the session no longer exists (nothing is created for it).
if redis.call('EXISTS', session) == 0 then
  return 0
end
redis.call('HINCRBY', counters, 'invites_opened', 1)
if redis.call('HINCRBY', session, 'opens', 1) == 1 then
  redis.call('HINCRBY', counters, 'invited_sessions', 1)
end
return 1
