"""Memory: what one connected, idle viewer costs a process, at 1,000 and 5,000 viewers.

ONE fresh process (socialads, then the baseline); after a warm-up (a few viewers come and
go, so lazy imports and pools are paid for) its ``VmRSS`` is read, then viewers connect
and join (socialads: groups of ``--group-size`` in one campaign, like the fan-out crowd;
baseline: its one room) and sit idle; after each size the RSS is read again, two seconds
after the last join. Per viewer = (RSS now - RSS before any viewer) / viewers. At the
largest size a few actions, one a second, must reach every viewer (``all_reached``): 5,000
viewers on one process means 5,000 that still work, not only 5,000 open sockets.
"""

from __future__ import annotations

import asyncio

from common import baselines, log, nodes, ours, rss_kb, stop_all
from fanout import Crowd, steady


async def one(ctx, kind: str, args) -> dict:
    loop = asyncio.get_running_loop()
    if kind == "ours":
        cid = ctx.campaign("bench memory")
        servers = await loop.run_in_executor(None, lambda: ours(ctx.redis.url, ctx.tmp, 1))
    elif kind == "node":
        cid = None
        servers = await loop.run_in_executor(None, lambda: nodes(ctx.redis.url, ctx.tmp))
    else:
        cid = None
        servers = await loop.run_in_executor(None, lambda: baselines(ctx.redis.url, ctx.tmp, 1))
    pid = servers[0].process.pid
    crowd = Crowd(kind, servers, cid, args.group_size, f"mem-{kind}")
    actor = None
    try:
        warm = Crowd(kind, servers, cid, args.group_size, f"warm-{kind}")
        await warm.grow(10, keep=False)
        warm.close()
        await asyncio.sleep(2)
        before = rss_kb(pid)
        out: dict = {"rss_kb_before": before, "by_viewers": {}}
        for size in sorted(args.memory_viewers):
            seconds = await crowd.grow(size)
            await asyncio.sleep(2)
            now = rss_kb(pid)
            out["by_viewers"][str(size)] = {
                "rss_kb": now,
                "join_seconds_for_new": round(seconds, 2),
                "kb_per_viewer": round((now - before) / size, 1),
            }
            log(
                f"memory {kind}: {size} viewers, RSS {now} KB "
                f"({(now - before) / size:.1f} KB per viewer)"
            )
        actor = await crowd.actor(0)
        out["actions_at_largest"] = await steady(
            crowd, actor, min(args.actions, 5), ctx.redis.process.pid, f"mem-{kind}"
        )
        out["actions_at_largest"]["all_reached"] = out["actions_at_largest"]["missed"] == 0
        return out
    finally:
        if actor:
            actor.close()
        crowd.close()
        await loop.run_in_executor(None, stop_all, servers)


def memory(ctx, args) -> dict:
    out: dict = {
        "what": "VmRSS of the one server process, idle joined viewers",
        "crowd": f"socialads: groups of {args.group_size} in one campaign; baseline and the Node "
        "peer: one room",
    }
    for kind in ("ours", "baseline", "node"):
        log(f"memory: {kind}")
        try:
            out[kind] = asyncio.run(one(ctx, kind, args))
        except Exception as exc:  # noqa: BLE001 - the other still runs
            log(f"memory {kind} failed: {exc!r}")
            out[kind] = {"error": f"{type(exc).__name__}: {exc}"}
    return out
