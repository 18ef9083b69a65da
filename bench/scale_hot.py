"""The hot campaign of ``make bench --only scale`` (``bench/scale.py``), and what the scale
figure's two parts share: Redis CPU read node by node, a process's /metrics, viewers joining.

**One campaign driven hard, on one Redis and on the 3-master cluster** (there twice: its
counts in one slot, and in ``HOT_PARTS`` parts, ``socialads.store.parts``). Driven end to end:
``HOT_PROCESSES`` real ``socialads serve`` processes (the bench's raised limits, the heartbeat
every ``HOT_HEARTBEAT`` s) and viewers of the lean client (``bench/sio.py``), so Redis gets
exactly what serve processes send it, whatever the key layout under ``socialads/store`` is
now. A fresh pledge campaign; a few warm-up viewers on every process; then four phases, the
Redis CPU of every node (``INFO cpu``: ``used_cpu_user + used_cpu_sys``) read around each:

1. **joins**: ``--hot-viewers`` new viewers connect and join (a solo session each, with a
   publisher origin, as the widget does; each from an address of its own, ``Crowd``),
   ``HOT_CONCURRENCY`` at a time, round robin over the processes: joins/s, and Redis µs per
   join (the connect's admission, the Socket.IO handshake, ``join``, the first presence and
   the roster);
2. **idle**: they all stay, for whole heartbeats (as many as fit ``--hot-seconds``, at least 2):
   Redis µs per viewer per heartbeat (presence refreshed and re-read, connection counts, the
   campaign's totals once a beat per process: what a quiet viewer costs);
3. **actions**: ``HOT_ACTORS`` of them act in a closed loop (the next act once its ack is back,
   as ``throughput.py``) for ``--hot-seconds``, every other viewer watching (progress): acked
   actions/s, Redis µs per action (the group commit shares round trips under this load);
4. **leaves**: every viewer disconnects, until each process's ``socialads_viewers`` and
   ``socialads_connections`` read 0 (and a second more): Redis µs per leave.

Phases 1, 3 and 4 have the idle rate of 2 taken off for the viewers held meanwhile (phase 1:
half the new ones, phase 4: half the leavers). Process CPU (``/proc``) of the serve processes,
and the bench's own, are given for 1 and 3: on a small machine they, not Redis, set the rates.
On the cluster an action is acknowledged once its master's replica has it (``ACK_REPLICAS``
"auto": ``WAIT`` 1), on one Redis at once. Each node's figures are in ``nodes``; the cluster's
``campaign_master`` is where the campaign's counters hash is now.

**The ceiling**: per master, the Redis µs a viewer of the campaign costs per second in the
traffic model of ``docs/scaling.md`` (a join and a leave every T = 60 s, a = 1 action per 100 s,
a heartbeat every 10 s as by default): beat / 10 + (join + leave) / 60 + action / 100. The
busiest master at 70% of one core carries 700,000 µs / that many concurrent viewers.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
import uuid

import redis
from common import CpuMeter, host_port, log, ours, spread_ms, stop_all
from sio import Client, call, close_all
from throughput import hammer

from socialads.config import Defaults
from socialads.store import Store

METRICS_TOKEN = "bench-metrics"  # noqa: S105 - /metrics of the bench's own processes
ORIGIN = "https://news.example"
HOT_PROCESSES = 3
HOT_PARTS = 4  # the parts of the hot campaign's counts in its third run
HOT_HEARTBEAT = 2  # s: the hot run's heartbeat (the default is 10), measured per beat
HOT_CONCURRENCY = 32  # joins in flight
HOT_ACTORS = 32  # closed-loop actors among the viewers
VIEW_SECONDS = 60  # T of docs/scaling.md: a viewer joins (and leaves) every T seconds
ACTIONS_PER_VIEWER_S = 0.01  # a of docs/scaling.md
MODEL_BEAT = Defaults.HEARTBEAT_INTERVAL  # s between a viewer's heartbeats by default
CORE_SHARE = 0.7  # of one core, the busiest shard's budget
# The bench's processes believe one proxy's X-Forwarded-For: each viewer has its own address.
PROXY_ENV = {"SOCIALADS_METRICS_TOKEN": METRICS_TOKEN, "SOCIALADS_TRUSTED_PROXIES": "1"}


def scrape(url: str) -> dict[str, float]:
    """Every series of a process's /metrics, by name (labels included)."""
    request = urllib.request.Request(  # noqa: S310 - our own process on 127.0.0.1
        url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as page:  # noqa: S310
        text = page.read().decode()
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                found[name] = float(value)
            except ValueError:
                continue
    return found


class NodeCpu:
    """Redis CPU seconds (INFO cpu: used_cpu_user + used_cpu_sys) of named nodes."""

    def __init__(self, nodes: dict[str, dict]):  # name -> {"port", "role"}
        self.nodes = nodes
        self.clients = {
            name: redis.Redis(host="127.0.0.1", port=node["port"]) for name, node in nodes.items()
        }

    def read(self) -> dict[str, float]:
        out = {}
        for name, client in self.clients.items():
            info = client.info("cpu")
            out[name] = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        return out

    def since(self, mark: dict[str, float]) -> dict[str, float]:
        now = self.read()
        return {name: now[name] - mark[name] for name in mark}

    def masters(self) -> list[str]:
        return [name for name, node in self.nodes.items() if node["role"] == "master"]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def cluster_nodes(cluster) -> dict[str, dict]:
    """Every node of an EmbeddedCluster, masters first, named by port and role."""
    nodes = {}
    masters = cluster.masters()
    for port in masters:
        nodes[f"master {port}"] = {"port": port, "role": "master"}
    for port in masters:
        for replica in cluster.replicas_of(port):
            nodes[f"replica {replica} (of {port})"] = {"port": replica, "role": "replica"}
    return nodes


def new_campaign(store: Store, brand: str, name: str, parts: int | None = None) -> str:
    """A live pledge campaign, its counts in ``parts`` parts (socialads.store.parts)."""
    from socialads.domain import campaigns

    body = {"name": name, "activity": "pledge", "cause": {"title": "Plant trees"}}
    return campaigns.create(store, brand, {**body, "goal": 10**9, "status": "live"}, parts).id


class Crowd:
    """Viewers of the lean client, joined to campaigns on given processes; each from an
    address of its own, as a reverse proxy says (``X-Forwarded-For``, ``PROXY_ENV``), so the
    per-address keys spread over the shards as real viewers' do, not all in 127.0.0.1's slot."""

    def __init__(self, servers: list, concurrency: int = HOT_CONCURRENCY):
        self.addresses = [host_port(server.url) for server in servers]
        self.gate = asyncio.Semaphore(concurrency)
        self.clients: list[Client] = []
        self.opened = 0

    async def join(self, server: int, cid: str, viewer: str, session: str | None = None):
        """A new viewer on process ``server``: its client and its session."""
        host, port = self.addresses[server]
        self.opened += 1
        n = self.opened
        forwarded = {"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}
        async with self.gate:
            client = await Client.open(host, port, keep=False, headers=forwarded)
            self.clients.append(client)
            payload = {"campaign": cid, "viewer": viewer, "origin": ORIGIN}
            if session:
                payload["session"] = session
            ack = await call(client, "join", payload)
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")
        return client, ack["session"]

    def close(self) -> None:
        close_all(self.clients)
        self.clients = []


def _wait_gone(servers: list, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        figures = [scrape(server.url) for server in servers]
        if all(
            f.get("socialads_viewers") == 0 and f.get("socialads_connections") == 0 for f in figures
        ):
            time.sleep(1.0)  # the last leaves' Redis writes follow the registries' update
            return
        time.sleep(0.1)
    raise RuntimeError(f"viewers still connected {timeout}s after every client closed")


def _less_idle(spent: dict, idle: dict, viewer_seconds: float, units: int) -> dict:
    """µs per unit of each node, less the idle rate (CPU s per viewer-second) meanwhile."""
    return {
        name: round(max(0.0, cpu - idle[name] * viewer_seconds) / units * 1e6, 1)
        for name, cpu in spent.items()
    }


def _shares(spent: dict, masters: list[str]) -> dict:
    total = sum(spent[name] for name in masters)
    return {name: round(spent[name] / total, 3) if total > 0 else None for name in masters}


async def _phases(servers: list, cid: str, cpu: NodeCpu, args) -> dict:
    crowd = Crowd(servers)
    count, loop = len(servers), asyncio.get_running_loop()
    pids = {f"serve_{i}": server.process.pid for i, server in enumerate(servers)}
    try:
        warm = 4 * count  # scripts loaded, the campaign's channel heard on every process
        await asyncio.gather(*(crowd.join(i % count, cid, f"warm-{i}") for i in range(warm)))
        await asyncio.sleep(1.0)
        n = args.hot_viewers
        mark, meter, began = cpu.read(), CpuMeter(pids), time.perf_counter()
        await asyncio.gather(*(crowd.join(i % count, cid, str(uuid.uuid4())) for i in range(n)))
        join_s, join_cpu, join_procs = time.perf_counter() - began, cpu.since(mark), meter.stop()
        held = len(crowd.clients)
        beats = max(2, round(args.hot_seconds / HOT_HEARTBEAT))
        mark, began = cpu.read(), time.perf_counter()
        await asyncio.sleep(beats * HOT_HEARTBEAT)
        idle_s, idle_cpu = time.perf_counter() - began, cpu.since(mark)
        idle = {name: spent / (held * idle_s) for name, spent in idle_cpu.items()}
        mark, meter = cpu.read(), CpuMeter(pids)
        run = await hammer(crowd.clients[:HOT_ACTORS], args.hot_seconds, f"hot-{uuid.uuid4()}-")
        act_cpu, act_procs = cpu.since(mark), meter.stop()
        acked = len(run["acked_ids"])
        mark, began = cpu.read(), time.perf_counter()
        crowd.close()
        await loop.run_in_executor(None, _wait_gone, servers)
        leave_s, leave_cpu = time.perf_counter() - began, cpu.since(mark)
    finally:
        crowd.close()
    per = {
        "join": _less_idle(join_cpu, idle, (warm + n / 2) * join_s, n),
        "viewer_beat": {k: round(v * HOT_HEARTBEAT * 1e6, 2) for k, v in idle.items()},
        "action": _less_idle(act_cpu, idle, held * run["elapsed"], max(1, acked)),
        "leave": _less_idle(leave_cpu, idle, held / 2 * leave_s, held),
    }
    return {
        "joins": {
            "count": n,
            "seconds": round(join_s, 2),
            "per_s": round(n / join_s, 1),
            "cpu_percent_of_one_core": join_procs,
        },
        "idle": {"viewers": held, "seconds": round(idle_s, 2), "heartbeats": beats},
        "actions": {
            "actors": HOT_ACTORS,
            "watching": held - HOT_ACTORS,
            "seconds": round(run["elapsed"], 2),
            "acked": acked,
            "per_s": round(acked / run["elapsed"], 1),
            "ack_latency_ms": spread_ms(run["latencies"]),
            "errors": run["errors"],
            "cpu_percent_of_one_core": act_procs,
        },
        "leaves": {"count": held, "seconds": round(leave_s, 2)},
        "us": per,
        "shares": {
            "joins": _shares(join_cpu, cpu.masters()),
            "actions": _shares(act_cpu, cpu.masters()),
        },
    }


def ceiling(us: dict, masters: list[str]) -> dict:
    """The model's Redis µs per viewer-second on each master, and what the busiest carries."""
    cost = {
        name: us["viewer_beat"][name] / MODEL_BEAT
        + (us["join"][name] + us["leave"][name]) / VIEW_SECONDS
        + us["action"][name] * ACTIONS_PER_VIEWER_S
        for name in masters
    }
    busiest = max(cost, key=cost.get)
    b = {kind: us[kind][busiest] for kind in ("viewer_beat", "join", "leave", "action")}
    viewers = round(CORE_SHARE * 1e6 / cost[busiest]) if cost[busiest] > 0 else None
    return {
        "us_per_viewer_second": {name: round(value, 2) for name, value in cost.items()},
        "busiest": busiest,
        "busiest_us": b,
        "viewers_at_70_percent": viewers,
        "arithmetic": f"{CORE_SHARE * 1e6:,.0f} µs / ({b['viewer_beat']} / {MODEL_BEAT} + "
        f"({b['join']} + {b['leave']}) / {VIEW_SECONDS} + {b['action']} × "
        f"{ACTIONS_PER_VIEWER_S}) = {viewers:,} viewers"
        if viewers
        else None,
    }


def hot_campaign(
    label: str, url: str, nodes: dict[str, dict], tmp, args, home=None, parts: int = 1
) -> dict:
    """One topology's hot run (``home(key) -> port``: the master of a key, on a cluster;
    ``parts``: the campaign's counts in that many parts, socialads.store.parts)."""
    store, cpu, servers = Store(url), NodeCpu(nodes), []
    env = {
        **PROXY_ENV,
        "SOCIALADS_HEARTBEAT_INTERVAL": str(HOT_HEARTBEAT),
        "SOCIALADS_PRESENCE_TTL": str(3 * HOT_HEARTBEAT),
    }
    try:
        brand = store.create_brand(f"Bench hot {label}")
        cid = new_campaign(store, brand, f"hot {label}", parts)
        servers = ours(url, tmp, HOT_PROCESSES, **env)
        found = asyncio.run(_phases(servers, cid, cpu, args))
    finally:
        stop_all(servers)
        cpu.close()
        store.redis.close()
    masters = cpu.masters()
    found["nodes"] = {
        name: {
            **node,
            **{f"us_per_{kind}": found["us"][kind][name] for kind in found["us"]},
            **{f"share_of_{k}": found["shares"][k].get(name) for k in found["shares"]},
        }
        for name, node in nodes.items()
    }
    found["ceiling"] = ceiling(found.pop("us"), masters)
    found.pop("shares")
    if home is not None:
        try:
            found["campaign_master"] = home(store.keys.campaign(cid).counters)
        except Exception:  # noqa: BLE001 - informative only; the layout may have moved it
            found["campaign_master"] = None
    log(
        f"scale: hot {label}: {found['joins']['per_s']} joins/s, {found['actions']['per_s']} "
        f"actions/s; ceiling {found['ceiling']['viewers_at_70_percent']} viewers "
        f"({found['ceiling']['busiest']})"
    )
    return {
        "redis": label,
        "acks": "once a replica has the action (ACK_REPLICAS auto: WAIT 1)"
        if home is not None
        else "at once (ACK_REPLICAS auto: 0 on one Redis)",
        "processes": HOT_PROCESSES,
        "heartbeat_s": HOT_HEARTBEAT,
        "counter_parts": parts,
        **found,
    }
