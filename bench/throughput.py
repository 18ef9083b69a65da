"""Throughput: acknowledged, deduplicated actions a second on ONE process, against the bare
ack-only handler on the same stack and against raw redis-py INCR (the physical floor of
counting: one round trip to Redis per action).

Closed loop: ``--clients`` connections each send ``act`` as soon as their previous ack came
back, for ``--seconds``. socialads' clients are joined viewers (groups of
``--group-size``, each action a pledge of a unique id), so every action runs the whole hot
path: validation, the per-connection, per-viewer and per-address limits (raised out of
reach, still evaluated), the count script, the coalesced progress to the group. Afterwards
the campaign total must equal the number of distinct acknowledged ids (``exact``), and a
sample of ids re-sent must all answer ``duplicate`` (``dedupe_checked``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import redis
from common import CpuMeter, baselines, host_port, log, ours, spread_ms, stop_all
from profiling import Profiler
from sio import Client, call, close_all


def redis_floor(url: str, seconds: float, batch: int = 100) -> dict:
    """INCR on one redis-py connection: one round trip each, then pipelined in batches."""
    client = redis.Redis.from_url(url)
    key = "bench:floor:" + uuid.uuid4().hex
    try:
        client.ping()
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(100):
                client.incr(key)
            count += 100
        plain = count / elapsed
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            pipe = client.pipeline(transaction=False)
            for _ in range(batch):
                pipe.incr(key)
            pipe.execute()
            count += batch
        return {
            "incr_per_s": round(plain),
            "pipelined_incr_per_s": round(count / elapsed),
            "pipeline_batch": batch,
            "connections": 1,
            "seconds_each": seconds,
        }
    finally:
        client.delete(key)
        client.close()


async def hammer(clients: list[Client], seconds: float, prefix: str) -> dict:
    """Every client acts as fast as its acks return, for ``seconds``."""
    acked: set[str] = set()
    duplicates, errors = 0, Counter()
    latencies: list[float] = []
    last_total = 0
    stop_at = time.perf_counter() + seconds

    async def fire(index: int, client: Client) -> None:
        nonlocal duplicates, last_total
        n = 0
        while time.perf_counter() < stop_at:
            aid = f"{prefix}{index}-{n}"
            n += 1
            began = time.perf_counter()
            try:
                ack = await call(client, "act", {"id": aid}, timeout=15)
            except Exception as exc:  # noqa: BLE001 - a timeout or a lost connection: counted
                errors[type(exc).__name__] += 1
                continue
            latencies.append(time.perf_counter() - began)
            if ack.get("ok"):
                if ack.get("duplicate"):
                    duplicates += 1
                else:
                    acked.add(aid)
                last_total = max(last_total, int(ack.get("total", 0)))
            else:
                errors[ack.get("error", {}).get("code", "unknown")] += 1

    began = time.perf_counter()
    await asyncio.gather(*(fire(i, c) for i, c in enumerate(clients)))
    elapsed = time.perf_counter() - began
    return {
        "elapsed": elapsed,
        "acked_ids": acked,
        "duplicates": duplicates,
        "errors": dict(errors),
        "latencies": latencies,
        "last_total": last_total,
    }


async def connect(url: str, count: int, join) -> list[Client]:
    host, port = host_port(url)
    clients = await asyncio.gather(*(Client.open(host, port, keep=False) for _ in range(count)))
    for index, client in enumerate(clients):
        ack = await join(index, client)
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")
    return list(clients)


async def run_ours(ctx, args, profiler: Profiler | None) -> dict:
    cid = ctx.campaign("bench throughput")
    loop = asyncio.get_running_loop()
    servers = await loop.run_in_executor(None, lambda: ours(ctx.redis.url, ctx.tmp, 1))
    clients: list[Client] = []
    try:
        sessions: dict[int, str] = {}

        async def join(index: int, client: Client) -> dict:
            group = index // args.group_size
            payload = {"campaign": cid, "viewer": f"bench-t-{index}"}
            if group in sessions:
                payload["session"] = sessions[group]
            ack = await call(client, "join", payload)
            sessions.setdefault(group, ack.get("session"))
            return ack

        clients = await connect(servers[0].url, args.clients, join)
        warm = await hammer(clients, min(1.0, args.seconds / 4), "warm")  # counted, untimed
        pid = servers[0].process.pid
        meter = CpuMeter({"serve": pid, "redis": ctx.redis.process.pid})
        if profiler:
            profiler.start("throughput-ours", pid, args.seconds)
        run = await hammer(clients, args.seconds, "t")
        cpu = meter.stop()
        profile = profiler.finish() if profiler else None
        # Dedupe: every id re-sent must come back `duplicate`, and count nothing.
        sample = sorted(run["acked_ids"])[:100]
        answers = [await call(clients[0], "act", {"id": aid}) for aid in sample]
        redundant = sum(1 for a in answers if a.get("ok") and a.get("duplicate"))
        other = Counter(
            str(a.get("error", {}).get("code") or a)
            for a in answers
            if not (a.get("ok") and a.get("duplicate"))
        )
        warm_and_timed = len(run["acked_ids"]) + len(warm["acked_ids"])
        total = int(ctx.store.stats(cid)["total"])
        return {
            **_summary(run, cpu),
            "clients": args.clients,
            "groups_of": args.group_size,
            "campaign_total": total,
            "distinct_acked_ids": warm_and_timed,
            "exact": total == warm_and_timed,
            "dedupe_checked": f"{redundant}/{len(sample)} re-sent ids answered duplicate"
            + (f"; the others: {dict(other)}" if other else ""),
            "profile": profile,
        }
    finally:
        close_all(clients)
        await loop.run_in_executor(None, stop_all, servers)


async def run_baseline(ctx, args, mode: str) -> dict:
    loop = asyncio.get_running_loop()
    servers = await loop.run_in_executor(None, lambda: baselines(ctx.redis.url, ctx.tmp, 1, mode))
    clients: list[Client] = []
    try:

        async def no_join(_index, _client):
            return {"ok": True}

        clients = await connect(servers[0].url, args.clients, no_join)
        await hammer(clients, min(1.0, args.seconds / 4), "warm")
        meter = CpuMeter({"baseline": servers[0].process.pid, "redis": ctx.redis.process.pid})
        run = await hammer(clients, args.seconds, "t")
        return {**_summary(run, meter.stop()), "clients": args.clients}
    finally:
        close_all(clients)
        await loop.run_in_executor(None, stop_all, servers)


def _summary(run: dict, cpu: dict) -> dict:
    acked = len(run["acked_ids"])
    return {
        "seconds": round(run["elapsed"], 2),
        "acked": acked,
        "actions_per_s": round(acked / run["elapsed"], 1),
        "ack_latency_ms": spread_ms(run["latencies"]),
        "errors": run["errors"],
        "cpu_percent_of_one_core": cpu,
    }


def throughput(ctx, args) -> dict:
    out: dict = {
        "closed_loop": f"{args.clients} connections, each sends the next act when "
        f"its ack is back, {args.seconds}s",
        "server_processes": 1,
    }
    profiler = Profiler(ctx.profile_dir) if ctx.profile_dir else None
    log(f"throughput: redis floor ({args.floor_seconds}s each, plain and pipelined)")
    out["redis_incr"] = redis_floor(ctx.redis.url, args.floor_seconds)
    log(f"throughput: {out['redis_incr']}")
    for name, job in (
        ("baseline_ack", lambda: run_baseline(ctx, args, "ack")),
        ("ours", lambda: run_ours(ctx, args, profiler)),
        ("baseline_incr", lambda: run_baseline(ctx, args, "incr")),
    ):
        log(f"throughput: {name}")
        try:
            out[name] = asyncio.run(job())
            log(
                f"throughput {name}: {out[name]['actions_per_s']} acked/s, p50 "
                f"{out[name]['ack_latency_ms']['p50']} ms"
            )
        except Exception as exc:  # noqa: BLE001 - the others still run
            log(f"throughput {name} failed: {exc!r}")
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    out["baseline_incr"] = {
        **out.get("baseline_incr", {}),
        "what": "INCR and an emit to an empty room per act",
    }
    return out
