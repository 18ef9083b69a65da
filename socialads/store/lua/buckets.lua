-- Token buckets shared by every process (a library: the store puts it in front of the scripts
-- that use it). A bucket is a hash {tokens, stamp}; a missing one is full, and each expires
-- once it would be full again, so idle viewers and addresses cost nothing.
-- take_tokens(keys, rates): take one token from each bucket of `keys`, whose capacity (burst)
-- and refill per second are the pairs of `rates`, or from none of them. Returns 0 when every
-- bucket gave a token, else the milliseconds until all of them can.
local function take_tokens(keys, rates)
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
  local levels = {}
  local wait = 0
  for i, key in ipairs(keys) do
    local capacity, rate = tonumber(rates[2 * i - 1]), tonumber(rates[2 * i])
    local bucket = redis.call('HMGET', key, 'tokens', 'stamp')
    local tokens = tonumber(bucket[1]) or capacity
    local stamp = tonumber(bucket[2]) or now
    tokens = math.min(capacity, tokens + math.max(0, now - stamp) * rate)
    levels[i] = tokens
    if tokens < 1 then
      wait = math.max(wait, (1 - tokens) / rate)
    end
  end
  if wait > 0 then
    return math.max(1, math.ceil(wait * 1000))
  end
  for i, key in ipairs(keys) do
    local capacity, rate = tonumber(rates[2 * i - 1]), tonumber(rates[2 * i])
    redis.call('HSET', key, 'tokens', tostring(levels[i] - 1), 'stamp', tostring(now))
    redis.call('PEXPIRE', key, math.ceil((capacity - levels[i] + 1) / rate * 1000) + 1000)
  end
  return 0
end
