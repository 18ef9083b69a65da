-- Count a seated connection's join in the campaign's slot, in one step (socialads.store.joins):
-- refused when the brand blocked the viewer (JOIN_BLOCKED, with the block's record) or closed
-- the session (JOIN_CLOSED) since the join was admitted, and then nothing is counted or told.
-- Else one more live viewer of this process (`here_ttl` > 0; 0: a connection joining its own
-- session again), and for a viewer's first join of the session (`first` 1) the joins, per
-- minute and per origin (bounded: origins.lua), and for an invited friend's the invite joins,
-- the session shared and the cycle time; the session kept as long as it now may be; the
-- roster's notice on the campaign's channel.
-- KEYS and ARGV: count_join_keys and count_join_args (socialads/store/scripts.py), by name.
-- Returns {JOIN_COUNTED, invited 0/1, shared 0/1} or {JOIN_BLOCKED, record} or {JOIN_CLOSED}.
local fields = redis.call('HMGET', session, 'leader', 'shared', 'created_at', 'closed')
if fields[4] then
  return {JOIN_CLOSED}
end
local block = redis.call('HGET', blocked, member)
if block then
  return {JOIN_BLOCKED, block}
end
local invited = first == '1' and fields[1] ~= viewer
redis.call('PFADD', viewers, viewer)
local ttl = tonumber(here_ttl)
if ttl > 0 then
  redis.call('HINCRBY', here, process, 1)
  redis.call('HSET', here, process_until, tonumber(now) + ttl)
  redis.call('EXPIRE', here, math.floor(ttl * tonumber(here_kept)) + 1)
end
if invited then
  redis.call('HINCRBY', counters, 'invite_joins', 1)
  redis.call('HSET', session, 'shared', 1)
end
if first == '1' then
  redis.call('HINCRBY', counters, 'joins', 1)
  redis.call('HINCRBY', origin_joins, origin_name(origin_joins, origin), 1)
  redis.call('HINCRBY', minute, 'joins', 1)
  redis.call('EXPIRE', minute, SERIES_TTL)
  if invited and fields[3] then
    redis.call('HINCRBYFLOAT', counters, 'cycle_seconds',
      math.max(0, tonumber(now) - tonumber(fields[3])))
    redis.call('HINCRBY', counters, 'cycle_joins', 1)
  end
end
local shared = fields[2] and 1 or 0
local kept = (invited or shared == 1) and SESSION_TTL or SOLO_SESSION_TTL
redis.call('EXPIRE', session, kept)
redis.call('EXPIRE', acted, kept)
redis.call(publish, channel, notice)
return {JOIN_COUNTED, invited and 1 or 0, shared}
