-- Admit a Socket.IO connection from an address unless it already holds `cap` live ones.
-- Entries carry an expiry that the owning process's heartbeat pushes forward, so the
-- connections of a process that died stop counting once their expiry passes.
-- KEYS: 1 the address's connections (zset: connection id -> expires at, seconds)
-- ARGV: 1 now (seconds), 2 connection id, 3 expires at, 4 cap
-- Returns 1 admitted, 0 refused.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('EXPIREAT', KEYS[1], math.ceil(tonumber(ARGV[3])) + 1)
return 1
