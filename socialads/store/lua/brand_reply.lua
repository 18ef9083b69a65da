-- Count a brand reply and, when a viewer was waiting for one, how long they waited.
-- KEYS: 1 session hash (its `waiting_since`: ms of the oldest unanswered viewer message),
--       2 campaign counters, 3 reply latency list (seconds, newest first), 4 median latency
-- ARGV: 1 reply time (ms), 2 how many latencies to keep
-- Returns the seconds waited as a string, or false when nobody was waiting.
redis.call('HINCRBY', KEYS[2], 'brand_replies', 1)
local since = redis.call('HGET', KEYS[1], 'waiting_since')
if not since then
  return false
end
redis.call('HDEL', KEYS[1], 'waiting_since')
local waited = string.format('%.3f', math.max(0, tonumber(ARGV[1]) - tonumber(since)) / 1000)
redis.call('LPUSH', KEYS[3], waited)
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[2]) - 1)
local numbers = {}
for i, value in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  numbers[i] = tonumber(value)
end
table.sort(numbers)
local n = #numbers
local median = numbers[(n + 1) / 2]
if n % 2 == 0 then
  median = (numbers[n / 2] + numbers[n / 2 + 1]) / 2
end
redis.call('SET', KEYS[4], string.format('%.3f', median))
return waited
