-- Append a chat message once per (author, client message id) and number it.
-- KEYS: 1 sent-by-client-id hash, 2 session hash, 3 chat list, 4 campaign counters
-- ARGV: 1 client key, 2 message JSON object without "id" (starts with "{"), 3 history length,
--       4 TTL seconds for the session's keys
-- Returns {1, message JSON} when posted, {0, original message JSON} for a repeated client id,
-- {-1, ''} when the brand closed the session.
local previous = redis.call('HGET', KEYS[1], ARGV[1])
if previous then
  return {0, previous}
end
if redis.call('HEXISTS', KEYS[2], 'closed') == 1 then
  return {-1, ''}
end
local id = redis.call('HINCRBY', KEYS[2], 'msg_seq', 1)
local message = '{"id":' .. id .. ',' .. string.sub(ARGV[2], 2)
redis.call('RPUSH', KEYS[3], message)
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[3]), -1)
redis.call('HSET', KEYS[1], ARGV[1], message)
redis.call('HINCRBY', KEYS[4], 'messages', 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[4])
return {1, message}
