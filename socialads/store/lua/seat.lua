-- Take a seat in a session's presence, unless the room is full: it already holds `room size`
-- different people and this viewer is neither among them nor one who was here before (a
-- friend coming back always gets back in; several tabs of one viewer are one person).
-- KEYS: 1 expiry zset (connection id -> expires at), 2 member hash (connection id -> JSON),
--       3 viewers who ever joined the session (set)
-- ARGV: 1 now (seconds), 2 connection id, 3 member JSON, 4 expires at, 5 viewer,
--       6 room size (0 = no limit)
-- Returns 1 seated, 0 full.
local size = tonumber(ARGV[6])
if size > 0 and redis.call('SISMEMBER', KEYS[3], ARGV[5]) == 0 then
  local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
  if #live >= size then -- fewer connections than seats: certainly room
    local seen, people = {}, 0
    for i = 1, #live, 500 do
      local part = redis.call('HMGET', KEYS[2], unpack(live, i, math.min(i + 499, #live)))
      for _, raw in ipairs(part) do
        if raw then
          local viewer = cjson.decode(raw)['viewer']
          if not seen[viewer] then
            seen[viewer] = true
            people = people + 1
          end
        end
      end
    end
    if people >= size then
      return 0
    end
  end
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
