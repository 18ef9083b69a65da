-- Take a seat in a session's presence, unless the room is full: it already holds `room_size`
-- different people and this viewer is neither among them nor one who was here before (a
-- friend coming back always gets back in; several tabs of one viewer are one person).
-- KEYS and ARGV: seat_keys and seat_args (socialads/store/scripts.py), by name.
-- Returns 1 seated, 0 full.
local size = tonumber(room_size)
if size > 0 and redis.call('SISMEMBER', viewers, viewer) == 0 then
  local live = redis.call('ZRANGEBYSCORE', presence, '(' .. now, '+inf')
  if #live >= size then -- fewer connections than seats: certainly room
    local seen, people = {}, 0
    for i = 1, #live, 500 do
      local part = redis.call('HMGET', members, unpack(live, i, math.min(i + 499, #live)))
      for _, raw in ipairs(part) do
        if raw then
          local someone = cjson.decode(raw)['viewer']
          if not seen[someone] then
            seen[someone] = true
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
redis.call('ZADD', presence, expires, connection)
redis.call('HSET', members, connection, member)
return 1
