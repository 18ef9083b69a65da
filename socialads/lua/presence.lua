-- Drop members whose heartbeat expired, then return the live ones.
-- KEYS: 1 expiry zset (connection id -> expires at), 2 member hash (connection id -> JSON)
-- ARGV: 1 now (seconds)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
  for i = 1, #expired, 500 do
    redis.call('HDEL', KEYS[2], unpack(expired, i, math.min(i + 499, #expired)))
  end
end
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
if #live == 0 then
  return {}
end
return redis.call('HMGET', KEYS[2], unpack(live))
