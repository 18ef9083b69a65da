-- Drop members whose heartbeat expired, then return the live ones.
-- KEYS: 1 expiry zset (connection id -> expires at), 2 member hash (connection id -> JSON)
-- ARGV: 1 now (seconds)
-- Works in chunks: Lua's unpack() has a limit of a few thousand values.
local CHUNK = 500
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
  for i = 1, #expired, CHUNK do
    redis.call('HDEL', KEYS[2], unpack(expired, i, math.min(i + CHUNK - 1, #expired)))
  end
end
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
local members = {}
for i = 1, #live, CHUNK do
  local part = redis.call('HMGET', KEYS[2], unpack(live, i, math.min(i + CHUNK - 1, #live)))
  for _, member in ipairs(part) do
    members[#members + 1] = member
  end
end
return members
