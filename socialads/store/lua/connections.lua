-- Admit a Socket.IO connection from an address unless it already holds `cap` live ones.
-- Entries carry an expiry that the owning process's heartbeat pushes forward, so the
-- connections of a process that died stop counting once their expiry passes.
-- KEYS and ARGV: connections_keys and connections_args (socialads/store/scripts.py), by name:
-- times in seconds.
-- Returns 1 admitted, 0 refused.
redis.call('ZREMRANGEBYSCORE', connections, '-inf', now)
if redis.call('ZCARD', connections) >= tonumber(cap) then
  return 0
end
redis.call('ZADD', connections, expires, connection)
redis.call('EXPIREAT', connections, math.ceil(tonumber(expires)) + 1)
return 1
