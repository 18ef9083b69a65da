"""Scale: what a process hears as campaigns multiply on a Redis Cluster, Redis CPU per shard,
and one hot campaign on one Redis against three shards (issue #12).

Everything runs on a real cluster started for the figure (``EmbeddedCluster`` in the bench's
temp dir: 3 masters with a replica each, AOF everysec) and, for the one-shard side of the hot
campaign, a ``redis-server`` of its own (``EmbeddedRedis``, AOF everysec as well); campaigns
are created through the project's ``Store``, every other Redis command comes from real
``socialads serve`` processes (the bench's raised limits, ``/metrics`` readable) serving
viewers of the lean client (``bench/sio.py``), each viewer from an address of its own (one
proxy's ``X-Forwarded-For`` believed, ``scale_hot.Crowd``). Redis CPU is ``INFO cpu``'s
``used_cpu_user + used_cpu_sys`` of each node, read before and after a window.

**(a) Heard against campaigns.** ``PROCESSES`` (8) serve processes on the cluster, default
settings. Process 0 holds ``OWN_VIEWERS`` viewers of campaign 0, in one session, only them;
each other campaign has ``OTHER_VIEWERS`` viewers in one session, on two of processes 1..7
(round robin). For N in ``--scale-campaigns`` (1, 10, 50, 200; the campaigns and viewers of a
smaller N stay, more are added), for ``--scale-seconds``: one viewer of campaign 0 acts
``OWN_RATE`` times a second, and one viewer of each other campaign acts, round robin, on a
fixed schedule of ``--scale-rate`` actions a second in all (the same total for every N; none at
N = 1, where there is no other campaign), acks awaited without holding the schedule back. Per
N: bus messages heard by process 0 (``socialads_bus_messages_received_total`` from /metrics,
read before and after the window; and those of campaign channels), the mean of processes 1..7,
actions acknowledged, and each node's Redis CPU in ms per second. A process that hears only
what it serves hears, at every N, its own campaign's actions and its listeners' liveness pings.

**(b) One hot campaign**, on one Redis and on the cluster: see ``bench/scale_hot.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from common import log, ours, stop_all
from scale_hot import (
    HOT_PARTS,
    PROXY_ENV,
    Crowd,
    NodeCpu,
    cluster_nodes,
    hot_campaign,
    new_campaign,
    scrape,
)
from sio import Client, call

from socialads.runtime.embedded_cluster import EmbeddedCluster
from socialads.runtime.embedded_redis import EmbeddedRedis
from socialads.store import Store

PROCESSES = 8
OWN_VIEWERS = 3
OTHER_VIEWERS = 2
OWN_RATE = 2.0  # actions/s in campaign 0, process 0's only campaign
SETTLE = 1.5  # s after the joins (their rosters, their notices) before a window opens
HEARD = "socialads_bus_messages_received_total"
CAMPAIGN_HEARD = 'socialads_bus_messages_by_channel_total{channel="campaign"}'


async def _acts(streams: list[tuple[list[Client], float]], seconds: float, prefix: str):
    """Each stream's clients act in turn at its rate, on a fixed schedule; acks counted."""
    outcomes: list[Counter] = [Counter() for _ in streams]
    pending: list[asyncio.Task] = []

    async def one(client: Client, aid: str, tally: Counter) -> None:
        try:
            ack = await call(client, "act", {"id": aid}, timeout=15)
            tally["ok" if ack.get("ok") else str(ack.get("error", {}).get("code"))] += 1
        except Exception as exc:  # noqa: BLE001 - a timeout or a lost connection: counted
            tally[type(exc).__name__] += 1

    async def stream(index: int, clients: list[Client], rate: float) -> None:
        if not clients or rate <= 0:
            return
        start = time.perf_counter()
        for n in range(int(rate * seconds)):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            aid = f"{prefix}-{index}-{n}"
            pending.append(
                asyncio.create_task(one(clients[n % len(clients)], aid, outcomes[index]))
            )

    await asyncio.gather(*(stream(i, clients, rate) for i, (clients, rate) in enumerate(streams)))
    await asyncio.gather(*pending)
    return [dict(tally) for tally in outcomes]


def _row(n: int, viewers: int, before: list, after: list, seconds: float, args) -> dict:
    """One N's reading of every process's /metrics (before and after the window)."""
    heard = [a.get(HEARD, 0) - b.get(HEARD, 0) for a, b in zip(after, before, strict=True)]
    channel = [
        a.get(CAMPAIGN_HEARD, 0) - b.get(CAMPAIGN_HEARD, 0)
        for a, b in zip(after, before, strict=True)
    ]
    rest, others = heard[1:], len(heard) - 1
    return {
        "campaigns": n,
        "viewers": viewers,
        "seconds": round(seconds, 2),
        "offered": {
            "own": int(OWN_RATE * args.scale_seconds),
            "elsewhere": int(args.scale_rate * args.scale_seconds) if n > 1 else 0,
        },
        "process_0": {
            "heard": int(heard[0]),
            "per_s": round(heard[0] / seconds, 2),
            "campaign_channels": int(channel[0]),
        },
        "processes_1_7_mean": {
            "heard": round(sum(rest) / others, 1),
            "per_s": round(sum(rest) / others / seconds, 2),
            "campaign_channels": round(sum(channel[1:]) / others, 1),
        },
    }


async def _heard(store: Store, servers: list, cpu: NodeCpu, args) -> dict:
    crowd = Crowd(servers)
    brand = store.create_brand("Bench scale")
    loop = asyncio.get_running_loop()
    campaigns: list[str] = []
    actors: list[Client] = []  # campaign k's acting viewer
    out: dict = {}

    async def seat(k: int, cid: str) -> Client:
        places = (
            [0] * OWN_VIEWERS
            if k == 0
            else [1 + (OTHER_VIEWERS * (k - 1) + j) % (PROCESSES - 1) for j in range(OTHER_VIEWERS)]
        )
        first, session = await crowd.join(places[0], cid, f"scale-{k}-0")
        await asyncio.gather(
            *(crowd.join(p, cid, f"scale-{k}-{j}", session) for j, p in enumerate(places[1:], 1))
        )
        return first

    try:
        for n in args.scale_campaigns:
            while len(campaigns) < n:
                k = len(campaigns)
                campaigns.append(
                    await loop.run_in_executor(None, new_campaign, store, brand, f"scale {k}")
                )
            added = await asyncio.gather(*(seat(k, campaigns[k]) for k in range(len(actors), n)))
            actors.extend(added)
            await asyncio.sleep(SETTLE)
            before = [scrape(s.url) for s in servers]
            mark, began = cpu.read(), time.perf_counter()
            streams = [([actors[0]], OWN_RATE), (actors[1:], float(args.scale_rate))]
            own, others = await _acts(streams, args.scale_seconds, f"scale-{n}")
            await asyncio.sleep(0.5)  # the last notices reach their listeners
            spent, seconds = cpu.since(mark), time.perf_counter() - began
            after = [scrape(s.url) for s in servers]
            row = out[str(n)] = _row(n, len(crowd.clients), before, after, seconds, args)
            row["acked"] = {"own": own.get("ok", 0), "elsewhere": others.get("ok", 0)}
            row["refused"] = {k: v for k, v in (own | others).items() if k != "ok"}
            row["redis_ms_per_s"] = {
                name: round(1000 * s / seconds, 2) for name, s in spent.items()
            }
            log(
                f"scale: {n} campaigns: process 0 heard {row['process_0']['heard']} "
                f"({row['process_0']['per_s']}/s), 1..7 {row['processes_1_7_mean']['per_s']}/s; "
                f"acked {row['acked']}"
            )
    finally:
        crowd.close()
    return out


def heard_vs_campaigns(cluster: EmbeddedCluster, nodes: dict, tmp, args) -> dict:
    store, cpu, servers = Store(cluster.url), NodeCpu(nodes), []
    try:
        servers = ours(cluster.url, tmp, PROCESSES, **PROXY_ENV)
        by = asyncio.run(_heard(store, servers, cpu, args))
    finally:
        stop_all(servers)
        cpu.close()
        store.redis.close()
    return {
        "processes": PROCESSES,
        "viewers": f"process 0: {OWN_VIEWERS} of campaign 0 (one session); every other "
        f"campaign: {OTHER_VIEWERS} in one session on two of processes 1..7",
        "actions": f"campaign 0: {OWN_RATE:g}/s; the others: {args.scale_rate}/s in all, round "
        f"robin, for {args.scale_seconds} s per N",
        "by_campaigns": by,
    }


def _attempt(name: str, job) -> dict:
    try:
        return job()
    except Exception as exc:  # noqa: BLE001 - the figure's other parts still run
        log(f"scale {name} failed: {exc!r}")
        return {"error": f"{type(exc).__name__}: {exc}"}


def scale_figure(ctx, args) -> dict:
    out: dict = {"what": __doc__.split("\n\n")[0].replace("\n", " ")}
    cluster = EmbeddedCluster(ctx.tmp / "scale-cluster")
    began, hot_3 = time.monotonic(), {"error": "the cluster did not start"}
    hot_parts = hot_3
    try:
        cluster.start()
        nodes = cluster_nodes(cluster)
        out["cluster"] = {"nodes": nodes, "start_seconds": round(time.monotonic() - began, 1)}
        log(f"scale: cluster {cluster.url} up in {out['cluster']['start_seconds']} s")
        out["heard"] = _attempt("heard", lambda: heard_vs_campaigns(cluster, nodes, ctx.tmp, args))
        hot_3 = _attempt(
            "hot, 3 shards",
            lambda: hot_campaign("3 shards", cluster.url, nodes, ctx.tmp, args, cluster.master_of),
        )
        hot_parts = _attempt(
            "hot, 3 shards, counts in parts",
            lambda: hot_campaign(
                f"3 shards, {HOT_PARTS} parts",
                cluster.url,
                nodes,
                ctx.tmp,
                args,
                cluster.master_of,
                parts=HOT_PARTS,
            ),
        )
    finally:
        cluster.stop()
    single = EmbeddedRedis(ctx.tmp / "scale-single", appendonly=True)
    try:
        single.start()
        one = {f"redis {single.port}": {"port": single.port, "role": "master"}}
        hot_1 = _attempt(
            "hot, 1 shard", lambda: hot_campaign("1 shard", single.url, one, ctx.tmp, args)
        )
    finally:
        single.stop()
    out["hot"] = {"1_shard": hot_1, "3_shards": hot_3, "3_shards_parts": hot_parts}
    return out


# -- the printed table (report.py) ---------------------------------------------------------

HOT_ROWS = (
    ("1_shard", "1 shard"),
    ("3_shards", "3 shards"),
    ("3_shards_parts", f"3 shards, {HOT_PARTS} parts"),
)


def _n(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _heard_rows(heard: dict, rows_of, wrap) -> list[str]:
    by = heard.get("by_campaigns") or {}
    masters = [
        name for name in next(iter(by.values()), {}).get("redis_ms_per_s", {}) if "master" in name
    ]
    rows = []
    for n, row in by.items():
        p0, rest, cpu = row["process_0"], row["processes_1_7_mean"], row["redis_ms_per_s"]
        rows.append(
            [
                n,
                _n(row["viewers"]),
                f"{_n(row['acked']['own'])} / {_n(row['acked']['elsewhere'])}",
                f"{_n(p0['heard'])} ({_n(p0['per_s'], 2)}/s)",
                _n(p0["campaign_channels"]),
                f"{_n(rest['heard'])} ({_n(rest['per_s'], 2)}/s)",
                " / ".join(_n(cpu[m]) for m in masters),
            ]
        )
    header = ["campaigns", "viewers", "acked own/else", "proc 0 heard", "of which campaign"]
    out = rows_of([*header, "procs 1-7 mean heard", "Redis ms/s per master"], rows)
    out += wrap(
        f"{heard.get('viewers')}; {heard.get('actions')}. heard: socialads_bus_messages_received_"
        "total over the window (its campaign channels' share beside it; the rest: liveness "
        "pings and the global channel); Redis: INFO cpu of each master (" + ", ".join(masters) + ")"
    )
    return out


def _hot_row(name: str, hot: dict) -> list[str]:
    if "error" in hot:
        return [name, "—", "—", "—", "—", "—", hot["error"]]
    ceiling, nodes = hot["ceiling"], hot["nodes"]
    b, lat = ceiling["busiest_us"], hot["actions"]["ack_latency_ms"]
    masters = [node for node in nodes.values() if node["role"] == "master"]
    return [
        name,
        _n(hot["joins"]["per_s"]),
        f"{_n(hot['actions']['per_s'])} ({_n(lat['p50'])} / {_n(lat['p99'])} ms)",
        f"{_n(b['join'])} / {_n(b['leave'])} / {_n(b['action'])} / {_n(b['viewer_beat'])}",
        " / ".join(f"{100 * (m['share_of_joins'] or 0):.0f}%" for m in masters),
        " / ".join(f"{100 * (m['share_of_actions'] or 0):.0f}%" for m in masters),
        _n(ceiling["viewers_at_70_percent"]),
    ]


def scale_table(r: dict, rows_of, wrap) -> list[str]:
    out = ["SCALE (a): bus messages heard as campaigns multiply, 8 processes on a 3-master cluster"]
    heard = r.get("heard") or {}
    out += (
        [f"  failed: {heard['error']}"] if "error" in heard else _heard_rows(heard, rows_of, wrap)
    )
    hot = r.get("hot") or {}
    out.append("SCALE (b): one hot campaign, 3 serve processes, on 1 Redis and on 3 shards")
    rows = [_hot_row(label, hot.get(key) or {"error": "not run"}) for key, label in HOT_ROWS]
    header = ["redis", "joins/s", "actions/s (ack p50/p99)", "busiest µs join/leave/act/beat"]
    out += rows_of([*header, "joins' share", "actions' share", "viewers at 70%"], rows)
    for key, _ in HOT_ROWS:
        arithmetic = (hot.get(key) or {}).get("ceiling", {}).get("arithmetic")
        if arithmetic:
            out += wrap(f"{key.replace('_', ' ')}, busiest master: {arithmetic}")
    out += wrap(
        "µs: Redis CPU (INFO cpu) of the busiest master per join (connect + join), leave, action "
        "and viewer heartbeat, idle rate taken off; shares: each master's part of the Redis CPU "
        "of the joins and of the actions (masters in port order); viewers at 70%: concurrent "
        "viewers of one campaign the busiest master carries at 70% of a core with "
        "docs/scaling.md's traffic (a join and a leave per 60 s, an action per 100 s, a "
        "heartbeat per 10 s). The cluster acks an action once a replica has it (WAIT); "
        "actions/s and joins/s are what this machine's processes sustain, not Redis's limit"
    )
    return out
