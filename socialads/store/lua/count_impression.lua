-- Count a widget load: the campaign's impressions, this minute's, and the publisher origin's,
-- by name for the first ORIGINS_KEPT origins and under OTHER_ORIGIN after that (the origin is
-- what the Referer says: a flood of made-up ones grows nothing). One round trip, as the
-- MULTI it replaces. record_action.lua bounds the actions' origins the same way.
-- KEYS and ARGV: count_impression_keys and count_impression_args (socialads/store/scripts.py).
redis.call('HINCRBY', counters, 'impressions', 1)
local name = origin
if redis.call('HEXISTS', by_origin, name) == 0
    and redis.call('HLEN', by_origin) >= ORIGINS_KEPT then
  name = OTHER_ORIGIN
end
redis.call('HINCRBY', by_origin, name, 1)
redis.call('HINCRBY', minute, 'impressions', 1)
redis.call('EXPIRE', minute, SERIES_TTL)
return 1
