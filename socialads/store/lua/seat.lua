-- Take a seat in a session's presence, unless the room is full: it already holds `room_size`
-- different people and this viewer is neither among them nor one who was here before (a
-- friend coming back always gets back in; several tabs of one viewer are one person).
-- KEYS and ARGV: seat_keys and seat_args (socialads/store/scripts.py), by name.
-- Returns SEAT_FULL, SEAT_BACK (seated, joined before) or SEAT_FIRST (seated, their first
-- join of this session: counted once, by the call that gets it).
-- The room's keys were kept beside the session's hash before they had a slot of their own:
-- on one Redis (`before` given), who ever joined moves here at the session's next join, and
-- the old presence (connections of processes from before) goes.
if before_at <= #KEYS and redis.call('EXISTS', KEYS[before_at + 2]) == 1 then
  redis.call('SUNIONSTORE', viewers, viewers, KEYS[before_at + 2])
  redis.call('DEL', KEYS[before_at], KEYS[before_at + 1], KEYS[before_at + 2])
end
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
      return SEAT_FULL
    end
  end
end
redis.call('ZADD', presence, expires, connection)
redis.call('HSET', members, connection, member)
local first = redis.call('SADD', viewers, viewer) == 1
-- Kept like a solo session until the join's own count says longer: a join that fails after
-- this seat leaves no room key for ever.
for _, key in ipairs({presence, members, viewers}) do
  if redis.call('TTL', key) < 0 then
    redis.call('EXPIRE', key, SOLO_SESSION_TTL)
  end
end
if first then
  return SEAT_FIRST
end
return SEAT_BACK
