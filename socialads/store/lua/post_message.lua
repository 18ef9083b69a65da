-- Append a chat message once per (author, client message id) and number it.
-- KEYS and ARGV: post_message_keys and post_message_args (socialads/store/scripts.py), by name;
-- `message` is a JSON object without "id" (it starts with "{").
-- Returns {POST_POSTED, message JSON}, {POST_REPEATED, original message JSON} for a repeated
-- client id, or {POST_SESSION_CLOSED, ''} when the brand closed the session.
local previous = redis.call('HGET', sent, client_key)
if previous then
  return {POST_REPEATED, previous}
end
if redis.call('HEXISTS', session, 'closed') == 1 then
  return {POST_SESSION_CLOSED, ''}
end
local id = redis.call('HINCRBY', session, 'msg_seq', 1)
local numbered = '{"id":' .. id .. ',' .. string.sub(message, 2)
redis.call('RPUSH', chat, numbered)
redis.call('LTRIM', chat, -tonumber(keep), -1)
redis.call('HSET', sent, client_key, numbered)
redis.call('HINCRBY', counters, 'messages', 1)
redis.call('EXPIRE', sent, SESSION_TTL)
redis.call('EXPIRE', chat, SESSION_TTL)
return {POST_POSTED, numbered}
