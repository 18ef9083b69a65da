"""What one viewer and one action cost on this machine: the inputs of docs/scaling.md.

Starts its own Redis (AOF on, as in production) and one `socialads serve` process with the
default presence timing, then measures:

1. **lone actions**: ``--lone`` actions, ten in flight, in a campaign nobody else watches:
   what counting one costs the process and Redis, without any fan-out;
2. **idle viewers**: ``--viewers`` viewers connect and join one campaign, in sessions of
   ``--group`` people: the process's RSS per viewer, a session's keys in Redis, and over
   ``--idle`` quiet seconds the Redis commands and the CPU of the process and of Redis;
3. **paced actions**: one more viewer acts ``--actions`` times, each after the coalescer's
   interval, so each action makes one progress round: Redis commands per action, and the
   process's CPU per progress message it delivers;
4. **a busy campaign**: that viewer acts as fast as it can for ``--busy`` seconds: progress
   messages per viewer per second, and what the coalescer costs the process and Redis;
5. **listening**: ``--published`` messages on the Socket.IO queue and on our events channel,
   for a room and a campaign the process has nobody in: what hearing the others costs;

and what stays in Redis: the dedupe entry of each action and a session after everyone left.
Every client connects from 127.0.0.1, so the per-address limits are raised out of reach
(they still run). From a checkout with its venv: ``.venv/bin/python
examples/deploy/capacity.py --viewers 1000``; it prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis as redis_lib
import socketio

from socialads import create_app
from socialads.domain import campaigns
from socialads.domain.accounts import make_brand
from socialads.runtime.embedded_redis import EmbeddedRedis
from socialads.runtime.processes import ServeProcess

HUGE = "[1000000, 1000000]"
LIMITS = {
    name: HUGE
    for name in (
        "ACT_RATE",
        "JOIN_RATE",
        "SAY_RATE",
        "VIEWER_ACT_RATE",
        "VIEWER_JOIN_RATE",
        "VIEWER_SAY_RATE",
        "IP_ACT_RATE",
        "IP_JOIN_RATE",
        "IP_SAY_RATE",
        "IP_CONNECT_RATE",
    )
}
LIMITS["CONNECTIONS_PER_IP"] = "1000000"


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Window:
    """Redis commands (by name) and CPU seconds of the process and of Redis over a span."""

    def __init__(self, redis, pids: dict[str, int]):
        self.redis, self.pids = redis, pids
        redis.config_resetstat()
        self.cpu = {name: proc_cpu(pid) for name, pid in pids.items()}
        self.began = time.perf_counter()

    def close(self) -> dict:
        seconds = time.perf_counter() - self.began
        stats = self.redis.info("commandstats")
        calls = {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}
        cpu = {name: round(proc_cpu(pid) - self.cpu[name], 3) for name, pid in self.pids.items()}
        return {
            "seconds": round(seconds, 2),
            "redis_calls": dict(sorted(calls.items())),
            "redis_calls_total": sum(calls.values()),
            "cpu_seconds": cpu,
        }


async def open_viewer(
    url: str, cid: str, session: str | None, gate: asyncio.Semaphore, counts: dict | None = None
):
    async with gate:
        client = socketio.AsyncClient(reconnection=False)
        if counts is not None:

            @client.on("progress")
            async def _progress(_data):
                counts["progress"] += 1

        await client.connect(url, transports=["websocket"], wait_timeout=30)
        payload = {"campaign": cid, "viewer": "v-" + uuid.uuid4().hex}
        if session:
            payload["session"] = session
        ack = await client.call("join", payload, timeout=30)
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")
        return client, ack["session"]


async def crowd(
    url: str, cid: str, viewers: int, group: int, counts: dict, sessions: list | None = None
) -> list:
    gate = asyncio.Semaphore(50)

    async def one_group(size: int) -> list:
        first, session = await open_viewer(url, cid, None, gate, counts)
        if sessions is not None:
            sessions.append(session)
        rest = await asyncio.gather(
            *(open_viewer(url, cid, session, gate, counts) for _ in range(size - 1))
        )
        return [first, *(client for client, _ in rest)]

    sizes = [min(group, viewers - start) for start in range(0, viewers, group)]
    groups = await asyncio.gather(*(one_group(size) for size in sizes))
    return [client for members in groups for client in members]


async def lone_actions(args, server: ServeProcess, redis, pids: dict, cid: str) -> dict:
    """Actions in a campaign nobody else watches: the cost of counting one, without fan-out."""
    actor, _ = await open_viewer(server.url, cid, None, asyncio.Semaphore(1))
    window = Window(redis, pids)
    for _ in range(args.lone // 10):
        acks = await asyncio.gather(
            *(actor.call("act", {"id": uuid.uuid4().hex}, timeout=30) for _ in range(10))
        )
        if not all(ack.get("ok") for ack in acks):
            raise RuntimeError(f"act refused: {acks}")
    lone = window.close()
    await actor.disconnect()
    actions = args.lone // 10 * 10
    lone["actions"] = actions
    lone["actions_per_second"] = round(actions / lone["seconds"], 1)
    lone["per_action"] = {
        "redis_calls": round(lone["redis_calls_total"] / actions, 1),
        "redis_cpu_us": round(1e6 * lone["cpu_seconds"]["redis"] / actions, 1),
        "serve_cpu_us": round(1e6 * lone["cpu_seconds"]["serve"] / actions, 1),
    }
    return lone


async def measure(
    args, server: ServeProcess, redis_server: EmbeddedRedis, cid: str, lone_cid: str
) -> dict:
    redis = redis_lib.Redis.from_url(redis_server.url)
    pids = {"serve": server.process.pid, "redis": redis_server.process.pid}
    counts = {"progress": 0}
    out: dict = {"lone_actions": await lone_actions(args, server, redis, pids, lone_cid)}

    warm = await crowd(server.url, cid, 20, args.group, {"progress": 0})
    await asyncio.gather(*(client.disconnect() for client in warm))
    await asyncio.sleep(2)
    rss_before = proc_rss_kb(server.process.pid)
    # What the process and Redis spend with nobody connected (watchdog, timers, Redis cron).
    window = Window(redis, pids)
    await asyncio.sleep(args.idle / 2)
    empty = window.close()
    out["no_viewers"] = empty
    began = time.perf_counter()
    window = Window(redis, pids)
    sessions: list[str] = []
    clients = await crowd(server.url, cid, args.viewers, args.group, counts, sessions)
    joins = window.close()
    joined_in = time.perf_counter() - began
    await asyncio.sleep(3)
    rss_after = proc_rss_kb(server.process.pid)
    out["idle"] = {
        "viewers": args.viewers,
        "group": args.group,
        "join_seconds": round(joined_in, 1),
        "rss_kb_before": rss_before,
        "rss_kb_after": rss_after,
        "rss_kb_per_viewer": round((rss_after - rss_before) / args.viewers, 1),
        "session_in_redis": session_keys(redis, cid, sessions[:100]),
        # connect + join (a new session for each group's first), per viewer
        "per_join": {
            "redis_calls": round(joins["redis_calls_total"] / args.viewers, 1),
            "serve_cpu_us": round(1e6 * joins["cpu_seconds"]["serve"] / args.viewers),
            "redis_cpu_us": round(1e6 * joins["cpu_seconds"]["redis"] / args.viewers),
        },
    }
    window = Window(redis, pids)
    await asyncio.sleep(args.idle)
    idle = window.close()
    idle["redis_calls_per_viewer_second"] = round(
        (
            idle["redis_calls_total"] / idle["seconds"]
            - empty["redis_calls_total"] / empty["seconds"]
        )
        / args.viewers,
        4,
    )
    idle["cpu_us_per_viewer_second"] = {
        name: round(
            1e6
            * (
                idle["cpu_seconds"][name] / idle["seconds"]
                - empty["cpu_seconds"][name] / empty["seconds"]
            )
            / args.viewers,
            1,
        )
        for name in pids
    }
    out["idle"]["window"] = idle

    actor, _ = await open_viewer(server.url, cid, None, asyncio.Semaphore(1))
    idle_cpu_rate = idle["cpu_seconds"]["serve"] / idle["seconds"]
    counts["progress"] = 0
    window = Window(redis, pids)
    for _ in range(args.actions):
        ack = await actor.call("act", {"id": uuid.uuid4().hex}, timeout=30)
        if not ack.get("ok"):
            raise RuntimeError(f"act refused: {ack}")
        await asyncio.sleep(0.11)  # past the coalescer's interval: one progress per action
    acts = window.close()
    acts["redis_calls_per_action"] = round(acts["redis_calls_total"] / args.actions, 1)
    acts["actions"] = args.actions
    acts["progress_messages"] = counts["progress"]
    # The process's CPU beyond its idle rate, per progress message it delivered.
    busy_cpu = acts["cpu_seconds"]["serve"] - idle_cpu_rate * acts["seconds"]
    acts["serve_cpu_us_per_progress_message"] = round(
        1e6 * busy_cpu / max(1, counts["progress"]), 1
    )
    out["paced_actions"] = acts

    counts["progress"] = 0
    window = Window(redis, pids)
    done = 0
    deadline = time.perf_counter() + args.busy
    while time.perf_counter() < deadline:
        acks = await asyncio.gather(
            *(actor.call("act", {"id": uuid.uuid4().hex}, timeout=30) for _ in range(10))
        )
        done += sum(1 for ack in acks if ack.get("ok"))
    await asyncio.sleep(0.5)
    busy = window.close()
    busy["actions"] = done
    busy["actions_per_second"] = round(done / busy["seconds"], 1)
    busy["progress_per_viewer_second"] = round(
        counts["progress"] / busy["seconds"] / args.viewers, 2
    )
    busy["serve_cpu_share"] = round(busy["cpu_seconds"]["serve"] / busy["seconds"], 2)
    out["busy_campaign"] = busy
    # Exactly once: every counted action's id stays in the campaign's dedupe set.
    done = f"sa:c:{{{cid}}}:done"
    out["dedupe_bytes_per_action"] = round(redis.memory_usage(done) / redis.scard(done), 1)

    await actor.disconnect()
    out["listening"] = await listening(args, redis, server.process.pid)
    await asyncio.gather(*(client.disconnect() for client in clients))
    await asyncio.sleep(2)
    out["session_in_redis_after_leave"] = session_keys(redis, cid, sessions[:100])
    return out


def session_keys(redis, cid: str, tokens: list[str]) -> dict:
    """What a session's keys hold in Redis, and for how long (a sample of sessions)."""
    total, ttls = 0, set()
    for token in tokens:
        keys = [
            f"sa:session:{token}",
            *redis.scan_iter(match=f"sa:c:{{{cid}}}:s:{token}*", count=1000),
        ]
        for key in keys:
            total += redis.memory_usage(key) or 0
            ttls.add(redis.ttl(key))
    return {
        "bytes": round(total / len(tokens)),
        "ttl_days": sorted({round(ttl / 86400, 1) for ttl in ttls}),
    }


async def listening(args, redis, pid: int) -> dict:
    """What hearing another process costs this one: every process hears every message of
    the Socket.IO queue (presence and chat of every session, here a presence for a room it
    has nobody in) and of our events channel (the totals after every action, here of a
    campaign it has nobody in)."""
    room = "s:" + uuid.uuid4().hex
    members = [{"id": f"m{i}", "name": f"Person {i}"} for i in range(3)]
    queue = json.dumps(
        {
            "method": "emit",
            "event": "presence",
            "namespace": "/",
            "data": [{"members": members, "count": 3}],
            "binary": False,
            "room": room,
            "skip_sid": None,
            "callback": None,
            "host_id": "elsewhere",
        }
    )
    totals = json.dumps({"k": "p", "c": "c_elsewhere", "s": "token", "t": 1, "st": 1})
    out = {}
    for name, channel, message in (
        ("socketio_queue", "sa:socketio", queue),
        ("events_channel", "sa:events", totals),
    ):
        await asyncio.sleep(2)
        quiet_began, quiet_cpu = time.perf_counter(), proc_cpu(pid)
        await asyncio.sleep(2)
        idle_rate = (proc_cpu(pid) - quiet_cpu) / (time.perf_counter() - quiet_began)
        began, cpu = time.perf_counter(), proc_cpu(pid)
        for _ in range(args.published // 500):
            pipe = redis.pipeline(transaction=False)
            for _ in range(500):
                pipe.publish(channel, message)
            pipe.execute()
            await asyncio.sleep(0.05)
        await asyncio.sleep(2)  # until the listener has read them all
        seconds = time.perf_counter() - began
        spent = proc_cpu(pid) - cpu - idle_rate * seconds
        out[name] = {
            "messages": args.published,
            "message_bytes": len(message),
            "cpu_us_per_message": round(1e6 * spent / args.published, 1),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--group", type=int, default=1, help="people per session")
    parser.add_argument("--idle", type=float, default=30, help="seconds of the idle window")
    parser.add_argument(
        "--lone",
        type=int,
        default=2000,
        help="actions in a campaign nobody watches (the counting cost)",
    )
    parser.add_argument("--actions", type=int, default=100)
    parser.add_argument("--busy", type=float, default=10, help="seconds of the busy window")
    parser.add_argument(
        "--published",
        type=int,
        default=20000,
        help="messages published on each channel for the listening figure",
    )
    args = parser.parse_args()
    # Stopped with SIGTERM: still stop the Redis and the process started below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.viewers + 1024)), hard)
    )
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = EmbeddedRedis(Path(tmp) / "redis").start()
        app = create_app({"REDIS_URL": redis_server.url, "MESSAGE_QUEUE": False})
        store = app.extensions["socialads.store"]
        brand = make_brand(store, "Capacity", "capacity@example.test", "password123")
        cid, lone_cid = (
            campaigns.create(
                store,
                brand["brand_id"],
                {
                    "name": name,
                    "activity": "pledge",
                    "goal": 10**9,
                    "status": "live",
                    "cause": {"title": name, "description": "Measuring."},
                },
            ).id
            for name in ("Crowded", "Lone")
        )
        env = {f"SOCIALADS_{name}": value for name, value in LIMITS.items()}
        server = ServeProcess(redis_server.url, Path(tmp), "capacity-secret", **env).start()
        try:
            result = asyncio.run(measure(args, server, redis_server, cid, lone_cid))
        finally:
            server.stop()
            redis_server.stop()
    result["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
