-- Take one token from each bucket, or from none when any of them is empty (buckets.lua).
-- KEYS and ARGV: rate_limit_keys and rate_limit_args (socialads/store/scripts.py): the buckets,
-- and for each bucket its capacity (burst) and refill per second, 2 values per key.
-- Returns 0 when every bucket gave a token, else the milliseconds until all of them can.
return take_tokens(KEYS, ARGV)
