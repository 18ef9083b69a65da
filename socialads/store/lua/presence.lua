-- Drop members whose heartbeat expired, then return the live ones.
-- KEYS and ARGV: presence_keys and presence_args (socialads/store/scripts.py), by name.
-- Works in chunks: Lua's unpack() has a limit of a few thousand values.
local CHUNK = 500
local expired = redis.call('ZRANGEBYSCORE', presence, '-inf', now)
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', presence, '-inf', now)
  for i = 1, #expired, CHUNK do
    redis.call('HDEL', members, unpack(expired, i, math.min(i + CHUNK - 1, #expired)))
  end
end
local live = redis.call('ZRANGE', presence, 0, -1)
local found = {}
for i = 1, #live, CHUNK do
  local part = redis.call('HMGET', members, unpack(live, i, math.min(i + CHUNK - 1, #live)))
  for _, member in ipairs(part) do
    found[#found + 1] = member
  end
end
return found
