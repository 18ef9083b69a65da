-- Count one action exactly once: dedupe by (viewer, client action id), enforce the
-- activity's per-viewer cap, bump campaign and session totals and the activity
-- state and the analytics (engaged viewers, this minute's bucket, the publisher origin's
-- count, friends who acted), then tell the processes serving the campaign about the new
-- totals (on its channel: PUBLISH on one Redis, SPUBLISH in its slot on a cluster). A
-- campaign counted in parts runs it on the keys of the viewer's part, all in that part's slot.
-- It also enforces the activity's "once per key" choices (one vote per poll, one answer per
-- question) and per-viewer cooldowns, and keeps the leaderboard of sessions.
-- KEYS and ARGV: record_action_keys and record_action_args (socialads/store/scripts.py), by name.
-- The bucket keys are the tail of KEYS; ARGV ends with their (capacity, refill per second)
-- pairs, then the (state field, increment) pairs.
-- A group match: each time the number of different people who acted in this session reaches
-- a multiple of match_every, the brand adds match_amount (less if the pool match_pool runs
-- out) to the campaign total, counted in the campaign's and the session's `matched` and in
-- the ledger.
-- Returns {status, campaign total, session total, wait ms, matched}; status ACTION_COUNTED,
-- ACTION_DUPLICATE, ACTION_CAPPED, ACTION_ALREADY_CHOSEN (for that once key),
-- ACTION_COOLING_DOWN (wait ms left), ACTION_SESSION_CLOSED (by the brand) or
-- ACTION_RATE_LIMITED (wait ms until the buckets allow one).
-- A duplicate costs no tokens: a widget re-sending after a reconnect is never limited.
if redis.call('HEXISTS', session, 'closed') == 1 then
  return {ACTION_SESSION_CLOSED, tonumber(redis.call('HGET', counters, 'total') or '0'),
          tonumber(redis.call('HGET', session, 'total') or '0'), 0}
end
if redis.call('SISMEMBER', done_before, member) == 1 then
  return {ACTION_DUPLICATE, tonumber(redis.call('HGET', counters, 'total') or '0'),
          tonumber(redis.call('HGET', session, 'total') or '0'), 0}
end
if redis.call('SADD', done, action) == 0 then
  -- A write, on purpose: the WAIT after this script covers only what this connection wrote,
  -- and the first counting of this action (answered `unavailable` when unconfirmed) came
  -- before it in the replication stream, so a confirmed duplicate is a replicated count.
  redis.call('EXPIRE', done, DEDUPE_TTL)
  return {ACTION_DUPLICATE, tonumber(redis.call('HGET', counters, 'total') or '0'),
          tonumber(redis.call('HGET', session, 'total') or '0'), 0}
end
redis.call('EXPIRE', done, DEDUPE_TTL)  -- kept a week after this viewer's latest action
local function refuse(status, wait)
  redis.call('SREM', done, action)
  return {status, tonumber(redis.call('HGET', counters, 'total') or '0'),
          tonumber(redis.call('HGET', session, 'total') or '0'), wait}
end
local buckets = #KEYS - buckets_at + 1
if buckets > 0 then
  local bucket_keys, bucket_rates = {}, {}
  for i = 1, buckets do
    bucket_keys[i] = KEYS[buckets_at + i - 1]
    bucket_rates[2 * i - 1] = ARGV[rates_at + 2 * i - 2]
    bucket_rates[2 * i] = ARGV[rates_at + 2 * i - 1]
  end
  local wait = take_tokens(bucket_keys, bucket_rates)
  if wait > 0 then
    return refuse(ACTION_RATE_LIMITED, wait)
  end
end
-- The viewer's own state is one hash (`me`), kept VIEWER_TTL after their latest action. What
-- a viewer had before it (campaign-wide hashes that never shrank, and mine:V) moves there at
-- their first action since, and leaves the old places: they shrink as viewers come back.
if redis.call('HEXISTS', me, 'n') == 0 then
  redis.call('HSET', me, 'n', redis.call('HGET', per_viewer, viewer) or '0')
  local friend = redis.call('HGET', friends, viewer)
  if friend then
    redis.call('HSETNX', me, 'f', friend)
  end
  local old = redis.call('HGETALL', choices)
  for i = 1, #old, 2 do
    redis.call('HSETNX', me, 'o:' .. old[i], old[i + 1])
  end
  redis.call('HDEL', per_viewer, viewer)
  redis.call('HDEL', friends, viewer)
  redis.call('HDEL', last_action, viewer)
  redis.call('DEL', choices)
end
redis.call('EXPIRE', me, VIEWER_TTL)
local cap = tonumber(per_viewer_cap)
if cap > 0 and tonumber(redis.call('HGET', me, 'n') or '0') >= cap then
  return refuse(ACTION_CAPPED, 0)
end
local choice_field = 'o:' .. once
if once ~= '' and redis.call('HEXISTS', me, choice_field) == 1 then
  return refuse(ACTION_ALREADY_CHOSEN, 0)
end
local cooldown = tonumber(cooldown_ms)
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if cooldown > 0 then
  local last = tonumber(redis.call('HGET', me, 'last') or '0')
  if now - last < cooldown then
    return refuse(ACTION_COOLING_DOWN, cooldown - (now - last))
  end
  redis.call('HSET', me, 'last', now)
end
if once ~= '' then
  redis.call('HSET', me, choice_field, choice)
end
redis.call('HINCRBY', me, 'n', 1)
local total = redis.call('HINCRBY', counters, 'total', amount)
redis.call('HINCRBY', counters, 'actions', 1)
local session_total = redis.call('HINCRBY', session, 'total', amount)
-- A part's copy of the session: kept as long as a session can be from its first action;
-- each join of the session then keeps it as long as the session (socialads.store.joins).
if tonumber(part_ttl) > 0 and redis.call('TTL', session) < 0 then
  redis.call('EXPIRE', session, part_ttl)
end
redis.call('ZADD', board, session_total, token)
if redis.call('ZCARD', board) > 2 * BOARD_KEPT then  -- trimmed now and then, not every action
  redis.call('ZREMRANGEBYRANK', board, 0, -BOARD_KEPT - 1)
end
local state_values = {}
for i = rates_at + 2 * buckets, #ARGV, 2 do
  state_values[ARGV[i]] = redis.call('HINCRBY', state, ARGV[i], ARGV[i + 1])
end
redis.call('PFADD', engaged, viewer)
redis.call('HINCRBY', minute, 'actions', 1)
redis.call('EXPIRE', minute, SERIES_TTL)
redis.call('HINCRBY', origin_actions, origin_name(origin_actions, origin), 1)
if redis.call('HGET', me, 'f') == '0' then
  redis.call('HSET', me, 'f', 1)
  redis.call('HINCRBY', counters, 'friends_acted', 1)
end
local every = tonumber(match_every)
local matched = 0
if every > 0 and redis.call('SADD', acted, viewer) == 1 then
  local ttl = redis.call('TTL', session)
  if ttl > 0 then
    redis.call('EXPIRE', acted, ttl)
  end
  local people = redis.call('HINCRBY', session, 'people', 1)
  if people % every == 0 then
    local left = tonumber(match_pool) - tonumber(redis.call('HGET', counters, 'matched') or '0')
    matched = math.max(0, math.min(tonumber(match_amount), left))
    if matched > 0 then
      total = redis.call('HINCRBY', counters, 'total', matched)
      redis.call('HINCRBY', counters, 'matched', matched)
      redis.call('HINCRBY', session, 'matched', matched)
      redis.call('LPUSH', ledger, cjson.encode({name = redis.call('HGET', session, 'name') or '',
        amount = matched, people = people, at = now}))
      redis.call('LTRIM', ledger, 0, LEDGER_KEPT - 1)
    end
  end
end
-- The notice carries every number a viewer's progress shows (the campaign total, the
-- session's total, people and matched, the new value of each state counter this action
-- moved), so no process reads them back to tell its viewers.
-- In parts (socialads.store.parts), the numbers are this part's, and `p` says which.
local counts = redis.call('HMGET', session, 'people', 'matched')
local notice = {k = EVENT_PROGRESS, c = campaign, s = token, t = total, st = session_total,
  sp = tonumber(counts[1] or '0'), sm = tonumber(counts[2] or '0'), f = state_values}
if tonumber(part) >= 0 then
  notice.p = tonumber(part)
end
redis.call(publish, channel, cjson.encode(notice))
return {ACTION_COUNTED, total, session_total, 0, matched}
