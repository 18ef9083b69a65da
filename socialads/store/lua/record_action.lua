-- Count one action exactly once: dedupe by (viewer, client action id), enforce the
-- activity's per-viewer cap, bump campaign and session totals and the activity
-- state and the analytics (engaged viewers, this minute's bucket, the publisher origin's
-- count, friends who acted), then tell every process about the new totals.
-- It also enforces the activity's "once per key" choices (one vote per poll, one answer per
-- question) and per-viewer cooldowns, and keeps the leaderboard of sessions.
-- KEYS: 1 dedupe set, 2 campaign counters, 3 session hash, 4 per-viewer counts, 5 activity state,
--       6 engaged viewers HLL, 7 this minute's bucket hash, 8 actions per origin hash,
--       9 invited friends hash (viewer -> 0, 1 once acted), 10 this viewer's choices hash
--       (once key -> value), 11 last action time per viewer (ms), 12 sessions leaderboard zset,
--       13 viewers who acted in this session (set), 14 the public match ledger (list),
--       15.. the shared rate-limit buckets of this viewer and address (buckets.lua)
-- ARGV: 1 dedupe member, 2 amount, 3 viewer, 4 per-viewer cap (0 = none), 5 channel,
--       6 campaign id, 7 session token, 8 publisher origin, 9 bucket TTL seconds,
--       10 once key ('' = none), 11 the choice stored under it, 12 cooldown ms (0 = none),
--       13 group match: people per unlock (0 = no match), 14 amount per unlock, 15 pool,
--       16 how many buckets (n), 17..16+2n their (capacity, refill per second) pairs,
--       17+2n.. (state field, increment) pairs
-- A group match: each time the number of different people who acted in this session reaches
-- a multiple of ARGV[13], the brand adds ARGV[14] (less if the pool ARGV[15] runs out) to the
-- campaign total, counted in the campaign's and the session's `matched` and in the ledger.
-- Returns {status, campaign total, session total, wait ms, matched}; status 1 counted,
-- 0 duplicate, -1 capped, -2 already chosen for that key, -3 cooling down (wait ms left),
-- -4 the brand closed the session, -5 rate limited (wait ms until the buckets allow one).
-- A duplicate costs no tokens: a widget re-sending after a reconnect is never limited.
if redis.call('HEXISTS', KEYS[3], 'closed') == 1 then
  return {-4, tonumber(redis.call('HGET', KEYS[2], 'total') or '0'),
          tonumber(redis.call('HGET', KEYS[3], 'total') or '0'), 0}
end
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  return {0, tonumber(redis.call('HGET', KEYS[2], 'total') or '0'),
          tonumber(redis.call('HGET', KEYS[3], 'total') or '0'), 0}
end
local function refuse(status, wait)
  redis.call('SREM', KEYS[1], ARGV[1])
  return {status, tonumber(redis.call('HGET', KEYS[2], 'total') or '0'),
          tonumber(redis.call('HGET', KEYS[3], 'total') or '0'), wait}
end
local buckets = tonumber(ARGV[16])
if buckets > 0 then
  local bucket_keys, rates = {}, {}
  for i = 1, buckets do
    bucket_keys[i] = KEYS[14 + i]
    rates[2 * i - 1] = ARGV[15 + 2 * i]
    rates[2 * i] = ARGV[16 + 2 * i]
  end
  local wait = take_tokens(bucket_keys, rates)
  if wait > 0 then
    return refuse(-5, wait)
  end
end
local cap = tonumber(ARGV[4])
if cap > 0 and tonumber(redis.call('HGET', KEYS[4], ARGV[3]) or '0') >= cap then
  return refuse(-1, 0)
end
local once = ARGV[10]
if once ~= '' and redis.call('HEXISTS', KEYS[10], once) == 1 then
  return refuse(-2, 0)
end
local cooldown = tonumber(ARGV[12])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if cooldown > 0 then
  local last = tonumber(redis.call('HGET', KEYS[11], ARGV[3]) or '0')
  if now - last < cooldown then
    return refuse(-3, cooldown - (now - last))
  end
  redis.call('HSET', KEYS[11], ARGV[3], now)
end
if once ~= '' then
  redis.call('HSET', KEYS[10], once, ARGV[11])
end
redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
local total = redis.call('HINCRBY', KEYS[2], 'total', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'actions', 1)
local session_total = redis.call('HINCRBY', KEYS[3], 'total', ARGV[2])
redis.call('ZADD', KEYS[12], session_total, ARGV[7])
for i = 17 + 2 * buckets, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[5], ARGV[i], ARGV[i + 1])
end
redis.call('PFADD', KEYS[6], ARGV[3])
redis.call('HINCRBY', KEYS[7], 'actions', 1)
redis.call('EXPIRE', KEYS[7], ARGV[9])
redis.call('HINCRBY', KEYS[8], ARGV[8], 1)
if redis.call('HGET', KEYS[9], ARGV[3]) == '0' then
  redis.call('HSET', KEYS[9], ARGV[3], 1)
  redis.call('HINCRBY', KEYS[2], 'friends_acted', 1)
end
local every = tonumber(ARGV[13])
local matched = 0
if every > 0 and redis.call('SADD', KEYS[13], ARGV[3]) == 1 then
  local ttl = redis.call('TTL', KEYS[3])
  if ttl > 0 then
    redis.call('EXPIRE', KEYS[13], ttl)
  end
  local people = redis.call('HINCRBY', KEYS[3], 'people', 1)
  if people % every == 0 then
    local left = tonumber(ARGV[15]) - tonumber(redis.call('HGET', KEYS[2], 'matched') or '0')
    matched = math.max(0, math.min(tonumber(ARGV[14]), left))
    if matched > 0 then
      total = redis.call('HINCRBY', KEYS[2], 'total', matched)
      redis.call('HINCRBY', KEYS[2], 'matched', matched)
      redis.call('HINCRBY', KEYS[3], 'matched', matched)
      redis.call('LPUSH', KEYS[14], cjson.encode({name = redis.call('HGET', KEYS[3], 'name') or '',
        amount = matched, people = people, at = now}))
      redis.call('LTRIM', KEYS[14], 0, 9999)
    end
  end
end
redis.call('PUBLISH', ARGV[5], '{"k":"p","c":' .. cjson.encode(ARGV[6]) .. ',"s":' ..
  cjson.encode(ARGV[7]) .. ',"t":' .. total .. ',"st":' .. session_total .. '}')
return {1, total, session_total, 0, matched}
