-- Count a brand reply and, when a viewer was waiting for one, how long they waited.
-- KEYS and ARGV: brand_reply_keys and brand_reply_args (socialads/store/scripts.py), by name:
-- the session's `waiting_since` is the ms of its oldest unanswered viewer message, `replies`
-- the latencies in seconds (newest first, REPLIES_KEPT of them), `at` the reply's ms.
-- Returns the seconds waited as a string, or false when nobody was waiting.
redis.call('HINCRBY', counters, 'brand_replies', 1)
local since = redis.call('HGET', session, 'waiting_since')
if not since then
  return false
end
redis.call('HDEL', session, 'waiting_since')
local waited = string.format('%.3f', math.max(0, tonumber(at) - tonumber(since)) / 1000)
redis.call('LPUSH', replies, waited)
redis.call('LTRIM', replies, 0, REPLIES_KEPT - 1)
local numbers = {}
for i, value in ipairs(redis.call('LRANGE', replies, 0, -1)) do
  numbers[i] = tonumber(value)
end
table.sort(numbers)
local n = #numbers
local median = numbers[(n + 1) / 2]
if n % 2 == 0 then
  median = (numbers[n / 2] + numbers[n / 2 + 1]) / 2
end
redis.call('SET', reply_median, string.format('%.3f', median))
return waited
