"""Admin stats: the latency of ``GET /api/v1/campaigns/<id>/stats`` once a campaign has
recorded ``--stats-actions`` actions (1,000,000), against the same request on a campaign
with none (reading counters must not grow with history) and against the baseline's
``GET /count`` (one Redis GET behind a bare Flask route, same server stack).

How the million actions are recorded, fast and faithfully: the real ``record_action.lua``
(the very script text the Store registers) runs inside Redis, wrapped in a loop that calls
it for a batch of actions per ``EVAL``. Its keys and arguments are exactly those
``Store.record_action`` builds, captured once for a placeholder viewer, session and
action id (and publisher origin), which the loop replaces for each action: 200,000
viewers in groups of 5 (40,000 sessions), 5 actions each, over 3 publisher origins. So
every counter, set, HyperLogLog and hash the script writes is there, as a million real
calls would leave it; only the Python and network around each call are skipped.
"""

from __future__ import annotations

import json
import time

from common import baselines, log, ours, stop_all, timed_gets

VIEWER, SESSION, ACTION, ORIGIN = "BENCHVIEWER", "BENCHSESSION", "BENCHACTION", "BENCHORIGIN"
ORIGINS = ["https://news.example", "https://blog.example", "https://daily.example"]
VIEWERS_PER_MILLION = 200_000
GROUP = 5
BATCH = 20_000

LOOP = """
local spec = cjson.decode(ARGV[1])
local first, count = tonumber(ARGV[2]), tonumber(ARGV[3])
local viewers, group = tonumber(ARGV[4]), tonumber(ARGV[5])
local function record(KEYS, ARGV)
%s
end
local keys, args = {}, {}
for j, k in ipairs(spec.keys) do keys[j] = k end
for j, a in ipairs(spec.args) do args[j] = a end
for i = first, first + count - 1 do
  local v = i %% viewers
  local viewer = 'bv' .. v
  local session = 'bs' .. math.floor(v / group)
  local origin = spec.origins[(i %% #spec.origins) + 1]
  local values = {BENCHVIEWER = viewer, BENCHSESSION = session, BENCHACTION = 'ba' .. i,
                  BENCHORIGIN = origin}
  for _, s in ipairs(spec.subs) do
    local t = s[3]
    for _, mark in ipairs(s[4]) do t = string.gsub(t, mark, values[mark]) end
    if s[1] == 'k' then keys[s[2]] = t else args[s[2]] = t end
  end
  record(keys, args)
end
return count
"""


def captured_call(store, entry, cid: str) -> tuple[list, list]:
    """The keys and arguments ``Store.record_action`` passes to its script for one pledge."""
    seen: dict = {}
    script = store.scripts.record_action
    real = script.run

    def capture(keys, args):
        seen.update(keys=[str(k) for k in keys], args=[str(a) for a in args])
        return [1, 0, 0, 0, 0]

    effect = entry.activity.effect(entry.settings, None, None)
    script.run = capture
    try:
        store.record_action(
            cid,
            SESSION,
            VIEWER,
            ACTION,
            effect.amount,
            effect.per_viewer_cap,
            effect.state,
            origin=ORIGIN,
            once=effect.once,
            choice=effect.choice,
            cooldown=effect.cooldown,
            match=entry.match,
        )
    finally:
        script.run = real
    return seen["keys"], seen["args"]


def record_many(ctx, cid: str, count: int) -> dict:
    """``count`` actions through the real count script, in batches inside Redis."""
    store = ctx.store
    entry = ctx.app.extensions["socialads.campaigns"].get(cid)
    keys, args = captured_call(store, entry, cid)
    subs = [["k", i + 1, k, _marks(k)] for i, k in enumerate(keys) if _marks(k)]
    subs += [["a", i + 1, a, _marks(a)] for i, a in enumerate(args) if _marks(a)]
    spec = json.dumps({"keys": keys, "args": args, "origins": ORIGINS, "subs": subs})
    # The text the Store registered (record_action.lua and any library it is built with).
    loop = store.redis.register_script(LOOP % store.scripts.record_action.text)
    viewers = max(GROUP, count * VIEWERS_PER_MILLION // 1_000_000)
    began = time.perf_counter()
    for first in range(0, count, BATCH):
        # The script publishes every new total, as it does for real; nobody listens yet.
        loop(keys=keys, args=[spec, first, min(BATCH, count - first), viewers, GROUP])
    return {
        "recorded": count,
        "seconds": round(time.perf_counter() - began, 1),
        "viewers": viewers,
        "sessions": -(-viewers // GROUP),
        "origins": len(ORIGINS),
    }


def _marks(text: str) -> list[str]:
    """The placeholders in a key or argument, for the loop to replace."""
    return [mark for mark in (VIEWER, SESSION, ACTION, ORIGIN) if mark in text]


def stats(ctx, args) -> dict:
    out: dict = {
        "requests": args.stats_requests,
        "how": "sequential GETs on one kept-alive HTTP connection, after 20 untimed ones",
    }
    full = ctx.campaign("bench stats")
    empty = ctx.campaign("bench stats, no actions")
    log(f"stats: recording {args.stats_actions:,} actions through record_action.lua")
    out["seeding"] = record_many(ctx, full, args.stats_actions)
    log(f"stats: recorded in {out['seeding']['seconds']}s")
    counted = ctx.store.stats(full)
    out["seeding"]["stats_total"] = counted["total"]
    out["seeding"]["stats_actions"] = counted["actions"]
    token = ctx.store.create_api_token(ctx.brand_id)
    auth = {"Authorization": f"Bearer {token}"}
    servers = ours(ctx.redis.url, ctx.tmp, 1)
    try:
        url = servers[0].url
        out["ours_at_actions"] = timed_gets(
            url, f"/api/v1/campaigns/{full}/stats", auth, args.stats_requests
        )
        out["ours_no_actions"] = timed_gets(
            url, f"/api/v1/campaigns/{empty}/stats", auth, args.stats_requests
        )
    finally:
        stop_all(servers)
    servers = baselines(ctx.redis.url, ctx.tmp, 1)
    try:
        out["baseline_count"] = timed_gets(servers[0].url, "/count", {}, args.stats_requests)
    finally:
        stop_all(servers)
    log(
        f"stats: p50/p99 {out['ours_at_actions']['p50']}/{out['ours_at_actions']['p99']} ms "
        f"at {args.stats_actions:,}; baseline {out['baseline_count']['p50']}/"
        f"{out['baseline_count']['p99']} ms"
    )
    return out
