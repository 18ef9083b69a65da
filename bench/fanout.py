"""Fan-out: how fast one person's action reaches everyone watching the campaign, and what a
burst of actions costs each viewer. socialads and the bare baseline, side by side.

The crowd. A popular campaign is many small groups of friends, not one big room: viewers
join in groups of ``--group-size`` (5 by default: one joins and starts a session, the
others join it, as friends following an invite do), all in ONE campaign with the default
``room_size`` (20). Every action's ``progress`` goes to every session of the campaign, so
every viewer should see every action. Viewers are spread round-robin over the processes,
as a load balancer that knows nothing of groups would. The baseline's viewers all join its
one room. Every client lives in this one process (``bench/sio.py``), so all clocks agree.

(a) One action a second by a separate actor (on the first process), for ``--actions``
seconds (10 by default: every run then spans one presence heartbeat, whose pause viewers
feel too, so runs compare): for every (action, viewer) pair, the time from just before the
actor's ``act`` frame is written to the first ``progress`` that viewer receives carrying
that total or more; and how many ``progress`` messages each viewer got per action.

(b) A burst: ``--burst-rate`` actions a second (1,000) for ``--burst-seconds`` (5), sent by
20 actors on a fixed schedule whatever the acks do: the rate each viewer receives updates
(from the first send to its final total: updates - 1 over the time from its first update
to its last; and the most it got in any one second), and how long after the last ack
every viewer shows the final total. socialads coalesces
updates; the baseline emits once per action, so it is measured with a small crowd
(``--baseline-burst-viewers``, 20) and its delivered rate and lag are reported as they are.
"""

from __future__ import annotations

import asyncio
import time

import orjson
from common import (
    CpuMeter,
    baselines,
    cpu_seconds,
    host_port,
    log,
    ms,
    nodes,
    ours,
    spread_ms,
    stop_all,
)
from profiling import Profiler
from sio import Client, call, close_all

CONNECT_CONCURRENCY = 48
BURST_ACTORS = 20
KINDS = ("baseline", "ours", "node")  # node: socket.io 4.8 on Node, one process only


class Crowd:
    """The viewers of one topology (socialads or baseline on 1 or 2 processes)."""

    def __init__(self, kind: str, servers: list, cid: str | None, group: int, tag: str):
        self.kind = kind  # "ours" | "baseline" | "node" (the baseline's events)
        self.servers = servers
        self.addresses = [host_port(s.url) for s in servers]
        self.cid = cid
        self.group = group
        self.tag = tag
        self.viewers: list[Client] = []
        self.gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def _viewer(
        self,
        index: int,
        session: str | None = None,
        server: int | None = None,
        keep: bool = True,
        join: bool = True,
    ) -> tuple[Client, str | None]:
        host, port = self.addresses[index % len(self.addresses) if server is None else server]
        async with self.gate:
            client = await Client.open(host, port, keep=keep)
            if not join:
                return client, None
            if self.kind == "ours":
                payload = {"campaign": self.cid, "viewer": f"{self.tag}-{index}"}
                if session:
                    payload["session"] = session
                ack = await call(client, "join", payload)
            else:
                ack = await call(client, "join", {})
        if not ack.get("ok"):
            client.close()
            raise RuntimeError(f"join refused: {ack}")
        return client, ack.get("session")

    async def _group(self, indices: list[int], keep: bool) -> list[Client]:
        first, session = await self._viewer(indices[0], keep=keep)
        rest = await asyncio.gather(*(self._viewer(i, session, keep=keep) for i in indices[1:]))
        return [first, *(client for client, _ in rest)]

    async def grow(self, size: int, keep: bool = True) -> float:
        """Connect and join viewers until there are ``size``; returns the seconds it took."""
        began = time.perf_counter()
        start = len(self.viewers)
        groups = [list(range(g, min(g + self.group, size))) for g in range(start, size, self.group)]
        results = await asyncio.gather(
            *(self._group(g, keep) for g in groups), return_exceptions=True
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        for result in results:
            if not isinstance(result, BaseException):
                self.viewers.extend(result)
        if failed:
            raise RuntimeError(f"{len(failed)} groups failed to join: {failed[0]!r}")
        return time.perf_counter() - began

    async def actor(self, index: int, server: int = 0) -> Client:
        """A viewer who acts: in a session of their own (socialads); the baseline's actors
        stay out of the room (the bare app needs no join to act)."""
        client, _ = await self._viewer(
            10**6 + index, server=server, keep=False, join=self.kind == "ours"
        )
        return client

    def clear(self) -> None:
        for viewer in self.viewers:
            viewer.inbox.clear()

    def close(self) -> None:
        close_all(self.viewers)
        self.viewers = []


def arrivals(viewer: Client) -> list[tuple[float, int]]:
    """``(arrival, total)`` of every progress the viewer kept, in arrival order."""
    return [(at, int(data["total"])) for at, data in viewer.events("progress")]


def delays(
    viewers: list[Client], acts: list[tuple[float, int]], by_action: list[list[float]] | None = None
) -> tuple[list[float], int]:
    """For every (action, viewer): the delay to the first progress with that total or more
    (also sorted by action into ``by_action``, when given)."""
    found, missed = [], 0
    for viewer in viewers:
        seen = arrivals(viewer)
        position = 0
        for index, (sent, total) in enumerate(acts):
            while position < len(seen) and (seen[position][1] < total or seen[position][0] < sent):
                position += 1
            if position == len(seen):
                missed += 1
            else:
                found.append(seen[position][0] - sent)
                if by_action is not None:
                    by_action[index].append(seen[position][0] - sent)
    return found, missed


def pids(crowd: Crowd, redis_pid: int) -> dict[str, int]:
    found = {f"{crowd.kind}_{i}": s.process.pid for i, s in enumerate(crowd.servers)}
    found["redis"] = redis_pid
    return found


async def reached(viewers: list[Client], total: int, deadline: float) -> bool:
    """Wait until every viewer has received ``total`` (or more), or until ``deadline``."""
    watch = [Highest(viewer) for viewer in viewers]
    while True:
        if all(w.update() >= total for w in watch):
            return True
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.05)


async def steady(
    crowd: Crowd, actor: Client, actions: int, redis_pid: int, prefix: str, drain: float = 5.0
) -> dict:
    """(a): one action a second; then up to ``drain`` seconds for the last to arrive."""
    await asyncio.sleep(1.0)  # joins' presence traffic settles
    crowd.clear()
    meter = CpuMeter(pids(crowd, redis_pid))
    acts, acks = [], []
    tick = time.perf_counter()
    for n in range(actions):
        sent = time.perf_counter()
        ack = await call(actor, "act", {"id": f"{prefix}-{n}"}, timeout=15)
        acks.append(time.perf_counter() - sent)
        if not ack.get("ok"):
            raise RuntimeError(f"act refused: {ack}")
        acts.append((sent, int(ack["total"])))
        tick += 1
        await asyncio.sleep(max(0.0, tick - time.perf_counter()))
    await reached(crowd.viewers, acts[-1][1], acts[-1][0] + drain)
    cpu = meter.stop()
    # The median delay of each action too: one slow action (a pause on the server) looks
    # different from every action being a little slow.
    by_action: list[list[float]] = [[] for _ in acts]
    found, missed = delays(crowd.viewers, acts, by_action)
    per_action = [spread_ms(part)["p50"] for part in by_action]
    received = sum(1 for viewer in crowd.viewers for _ in viewer.events("progress"))
    return {
        "viewers": len(crowd.viewers),
        "actions": len(acts),
        "missed": missed,
        "progress_per_action_per_viewer": round(received / (len(acts) * len(crowd.viewers)), 2),
        "latency_ms": spread_ms(found),
        "p50_ms_of_each_action": per_action,
        "actor_ack_ms": spread_ms(acks),
        "cpu_percent_of_one_core": cpu,
    }


async def cpu_per_update(
    crowd: Crowd,
    actor: Client,
    rate: int,
    seconds: float,
    prefix: str,
    profiler: Profiler | None = None,
) -> dict:
    """(c): ``rate`` actions a second for ``seconds`` by one actor: the servers' CPU seconds
    (user + system, every server process, Redis not counted) from the first action until
    every viewer has the last total, over the ``progress`` messages the viewers received.
    socialads coalesces (fewer deliveries, each carrying the cost of more actions); the
    others deliver one per action."""
    await asyncio.sleep(1.0)
    crowd.clear()
    server_pids = [s.process.pid for s in crowd.servers]
    before = [cpu_seconds(pid) for pid in server_pids]
    if profiler:  # the first server: where the actor's actions land
        profiler.start(prefix, server_pids[0], seconds)
    began = time.perf_counter()
    futures = []
    for n in range(int(rate * seconds)):
        futures.append(actor.call("act", {"id": f"{prefix}-{n}"}))
        await asyncio.sleep(max(0.0, began + (n + 1) / rate - time.perf_counter()))
    done, _ = await asyncio.wait(futures, timeout=30)
    totals = [
        int(f.result()["total"])
        for f in done
        if not f.cancelled() and f.exception() is None and f.result().get("ok")
    ]
    if not totals:
        raise RuntimeError("no act was acknowledged")
    all_reached = await reached(crowd.viewers, max(totals), time.perf_counter() + 10)
    after = [cpu_seconds(pid) for pid in server_pids]
    wall = time.perf_counter() - began
    cpu = sum(a - b for a, b in zip(after, before, strict=True) if a is not None and b is not None)
    delivered = sum(1 for viewer in crowd.viewers for _ in viewer.events("progress"))
    return {
        "offered_per_s": rate,
        "seconds": seconds,
        "acked": len(totals),
        "delivered": delivered,
        "all_reached": all_reached,
        "server_cpu_s": round(cpu, 3),
        "server_cpu_percent_of_one_core": round(100 * cpu / wall, 1),
        "us_per_update": round(1e6 * cpu / delivered, 1) if delivered else None,
        "profile": profiler.finish() if profiler else None,
    }


async def burst(
    crowd: Crowd,
    actors: list[Client],
    rate: int,
    seconds: float,
    redis_pid: int,
    prefix: str,
    settle_timeout: float,
) -> dict:
    """(b): ``rate`` actions a second for ``seconds``, on a fixed schedule."""
    await asyncio.sleep(1.0)
    crowd.clear()
    meter = CpuMeter(pids(crowd, redis_pid))
    acked: list[tuple[float, int]] = []
    refused: list = []

    def done(future: asyncio.Future) -> None:
        if future.cancelled() or future.exception() is not None:
            refused.append("lost")
            return
        ack = future.result()
        if ack.get("ok"):
            acked.append((time.perf_counter(), int(ack["total"])))
        else:
            refused.append(ack.get("error", {}).get("code"))

    futures = []
    per_tick, tick_s = max(1, rate // 100), 0.01
    count = int(rate * seconds)
    began = time.perf_counter()
    n = 0
    while n < count:
        for _ in range(min(per_tick, count - n)):
            future = actors[n % len(actors)].call("act", {"id": f"{prefix}-{n}"})
            future.add_done_callback(done)
            futures.append(future)
            n += 1
        wake = began + (n // per_tick) * tick_s
        await asyncio.sleep(max(0.0, wake - time.perf_counter()))
    sent_seconds = time.perf_counter() - began
    await asyncio.wait(futures, timeout=60)
    if not acked:
        raise RuntimeError(f"no act was acknowledged: {refused[:3]}")
    last_ack = max(at for at, _ in acked)
    final = max(total for _, total in acked)

    # Wait (bounded) until every viewer has seen the final total.
    await reached(crowd.viewers, final, last_ack + settle_timeout)
    cpu = meter.stop()
    await asyncio.sleep(0)
    lags, rates, peaks, behind = [], [], [], 0
    for viewer in crowd.viewers:
        seen = arrivals(viewer)
        final_at = next((at for at, total in seen if total >= final), None)
        if final_at is None:
            behind += 1
            end = time.perf_counter()
        else:
            lags.append(final_at - last_ack)
            end = final_at
        during = [at for at, _ in seen if began <= at <= end]
        # The rate of updates is the inverse of their mean spacing: n updates in a window
        # are n - 1 intervals (counting n would make a perfect 10/s look like 10.2/s).
        rates.append((len(during) - 1) / (during[-1] - during[0]) if len(during) > 1 else 0.0)
        peaks.append(_peak_per_second(during))
    lags.sort()
    rates.sort()
    ack_span = last_ack - began
    return {
        "viewers": len(crowd.viewers),
        "actors": len(actors),
        "offered_per_s": rate,
        "seconds": seconds,
        "sent_seconds": round(sent_seconds, 2),
        "sent": len(futures),
        "acked": len(acked),
        "refused": len(refused),
        "acked_per_s": round(len(acked) / max(ack_span, 1e-9), 1),
        "last_ack_after_first_send_s": round(ack_span, 2),
        "updates_per_viewer_per_s": {
            "mean": round(sum(rates) / len(rates), 2),
            "max": round(rates[-1], 2),
        },
        "peak_updates_in_any_1s": max(peaks) if peaks else None,
        "messages_delivered_per_s": round(sum(rates), 1),
        "final_total_after_last_ack_ms": {
            "p50": ms(lags[len(lags) // 2]) if lags else None,
            "max": ms(lags[-1]) if lags and not behind else None,
        },
        "viewers_without_final_total": behind,
        "waited_for_final_total_s": settle_timeout,
        "cpu_percent_of_one_core": cpu,
    }


class Highest:
    """The highest total a viewer has received so far, read incrementally (the baseline's
    async handlers may deliver totals out of order, so the latest is not the highest)."""

    def __init__(self, viewer: Client):
        self.viewer = viewer
        self.read = 0
        self.total = -1

    def update(self) -> int:
        inbox = self.viewer.inbox
        for _, packet in inbox[self.read :]:
            if packet.startswith(b'42["progress"'):
                self.total = max(self.total, int(orjson.loads(packet[2:])[1]["total"]))
        self.read = len(inbox)
        return self.total


def _peak_per_second(times: list[float]) -> int:
    best, low = 0, 0
    for high, at in enumerate(times):
        while at - times[low] >= 1.0:
            low += 1
        best = max(best, high - low + 1)
    return best


async def topology(ctx, kind: str, processes: int, args) -> dict:
    """One server setup: crowds of every size in ``args.viewers``, (a) at each, and the burst
    (socialads: at the largest size; baseline: at ``args.baseline_burst_viewers`` first)."""
    redis_url, redis_pid = ctx.redis.url, ctx.redis.process.pid
    tag = f"{kind}{processes}p"
    out: dict = {"kind": kind, "processes": processes, "by_viewers": {}}
    loop = asyncio.get_running_loop()
    cid = ctx.campaign(f"bench fanout {tag}") if kind == "ours" else None
    start = {
        "ours": lambda: ours(redis_url, ctx.tmp, processes),
        "baseline": lambda: baselines(redis_url, ctx.tmp, processes),
        "node": lambda: nodes(redis_url, ctx.tmp),
    }[kind]
    servers = await loop.run_in_executor(None, start)
    crowd = Crowd(kind, servers, cid, args.group_size, tag)
    actors: list[Client] = []
    try:
        actor = await crowd.actor(0)
        actors.append(actor)
        log(f"fanout {tag}: up on {', '.join(s.url for s in servers)}")
        if kind == "baseline" and args.burst_seconds > 0:
            await crowd.grow(min(args.baseline_burst_viewers, max(args.viewers)))
            out["burst"], burst_actors = await _burst_phase(
                crowd, actors, tag, processes, redis_pid, args
            )
            close_all(burst_actors)
            await asyncio.sleep(2)
        for size in sorted(args.viewers):
            joined = await crowd.grow(size)
            log(
                f"fanout {tag}: {size} viewers ({joined:.1f}s to join the new ones); "
                f"acting once a second for {args.actions}s"
            )
            result = await steady(crowd, actor, args.actions, redis_pid, f"{tag}-{size}")
            result["join_seconds_for_new"] = round(joined, 2)
            out["by_viewers"][str(size)] = result
            lat = result["latency_ms"]
            log(
                f"fanout {tag} @{size}: p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']} ms,"
                f" missed {result['missed']}"
            )
            if args.cpu_seconds > 0:
                py = ctx.profile_dir and kind != "node"  # py-spy reads Python processes
                profiler = Profiler(ctx.profile_dir) if py else None
                load = await cpu_per_update(
                    crowd, actor, args.cpu_rate, args.cpu_seconds, f"{tag}-{size}-cpu", profiler
                )
                result["cpu_per_update"] = load
                log(
                    f"fanout {tag} @{size}: {args.cpu_rate} actions/s: {load['delivered']} "
                    f"updates delivered, {load['us_per_update']} µs of server CPU each"
                )
        if kind == "ours" and args.burst_seconds > 0:
            out["burst"], _ = await _burst_phase(crowd, actors, tag, processes, redis_pid, args)
        return out
    finally:
        close_all(actors)
        crowd.close()
        await loop.run_in_executor(None, stop_all, servers)


async def _burst_phase(
    crowd: Crowd, actors: list[Client], tag: str, processes: int, redis_pid: int, args
) -> tuple[dict, list[Client]]:
    """(b) on the crowd as it is: its own actors (kept in ``actors`` to be closed with the
    rest), the burst, its log line; the result and those actors."""
    burst_actors = await asyncio.gather(
        *(crowd.actor(1 + i, i % processes) for i in range(BURST_ACTORS))
    )
    actors.extend(burst_actors)
    log(
        f"fanout {tag}: burst of {args.burst_rate}/s for {args.burst_seconds}s to "
        f"{len(crowd.viewers)} viewers"
    )
    result = await burst(
        crowd,
        burst_actors,
        args.burst_rate,
        args.burst_seconds,
        redis_pid,
        f"{tag}-b",
        args.settle_timeout,
    )
    log(
        f"fanout {tag} burst: acked {result['acked_per_s']}/s, "
        f"updates/viewer/s {result['updates_per_viewer_per_s']}, final total after last ack "
        f"{result['final_total_after_last_ack_ms']} ms, "
        f"{result['viewers_without_final_total']} viewers without it"
    )
    return result, burst_actors


def fanout(ctx, args) -> dict:
    out: dict = {
        "crowd": f"viewers in groups of {args.group_size} (one session each, room_size 20) in "
        "one campaign, spread round-robin over the processes; the baseline's "
        "viewers in one room",
        "rate_limits": "raised out of reach (still evaluated) for socialads: see machine.bench_env",
        "note": "every client is in the bench process (one asyncio loop): delays include "
        "its dispatch of many sockets in turn, for both sides alike",
        "topologies": {},
    }
    for processes in args.processes:
        for kind in KINDS:  # alternate, so drift in load hits all alike
            if kind == "node" and processes != 1:
                continue
            name = f"{kind}_{processes}p"
            log(f"fanout: {name}")
            try:
                out["topologies"][name] = asyncio.run(topology(ctx, kind, processes, args))
            except Exception as exc:  # noqa: BLE001 - the other topologies still run
                log(f"fanout {name} failed: {exc!r}")
                out["topologies"][name] = {"error": f"{type(exc).__name__}: {exc}"}
    return out
