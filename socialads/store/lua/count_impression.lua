-- Count a widget load: the campaign's impressions, this minute's, and the publisher origin's
-- (bounded: origin_name, origins.lua). One round trip, as the MULTI it replaces.
-- KEYS and ARGV: count_impression_keys and count_impression_args (socialads/store/scripts.py).
redis.call('HINCRBY', counters, 'impressions', 1)
redis.call('HINCRBY', by_origin, origin_name(by_origin, origin), 1)
redis.call('HINCRBY', minute, 'impressions', 1)
redis.call('EXPIRE', minute, SERIES_TTL)
return 1
