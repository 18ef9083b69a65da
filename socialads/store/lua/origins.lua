-- The name a publisher origin is counted under in `counts` (origin -> count): its own for the
-- first ORIGINS_KEPT origins, OTHER_ORIGIN after that. Origins are what clients say (a join's
-- payload, a Referer): a flood of made-up ones must grow nothing.
local function origin_name(counts, origin)
  if redis.call('HEXISTS', counts, origin) == 0
      and redis.call('HLEN', counts) >= ORIGINS_KEPT then
    return OTHER_ORIGIN
  end
  return origin
end
