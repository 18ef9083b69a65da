"""Issue #12's acceptance: a master of a Redis Cluster dies under load and nothing acknowledged
is lost, nothing is counted twice (the widget of tests/support/chaos.py, as in test_chaos)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from socialads.runtime.embedded_cluster import EmbeddedCluster
from socialads.store.clients import redis_client
from tests.support.chaos import Person, crowd, run_apart, tally, wait_for
from tests.support.seeds import seed_campaign
from tests.support.servers import health, serve_process

CLUSTER_VIEWERS = 50
CLUSTER_ACT_SECONDS = 16
MASTER_AT = 5  # seconds into the pledging: SIGKILL the master of the campaign's slot
RECOVERED = EmbeddedCluster.NODE_TIMEOUT_MS / 1000 + 8  # failover, then a retry or two


def oldest_pending(people: list[Person]) -> float:
    now = time.monotonic()
    return max((now - t for p in people for t in p.pending.values()), default=0.0)


async def master_dies(servers, cluster: EmbeddedCluster, campaign: str) -> dict:
    loop = asyncio.get_running_loop()
    people, _ = crowd(servers, campaign, CLUSTER_VIEWERS)
    lives = [asyncio.create_task(p.live()) for p in people]
    ready = await wait_for(lambda: all(p.session and p.connected_to for p in people), 60, 0.2)
    assert ready is not None, "not everyone joined"
    started = time.monotonic()
    until = started + CLUSTER_ACT_SECONDS
    pledging = [asyncio.create_task(p.pledge(until)) for p in people]
    await asyncio.sleep(max(0.0, started + MASTER_AT - time.monotonic()))
    master = cluster.master_of(f"sa:c:{{{campaign}}}:n")
    cluster.kill(master)
    killed = time.monotonic()
    await loop.run_in_executor(None, cluster.wait_for_failover, master)
    report: dict = {"failover_s": round(time.monotonic() - killed, 1)}
    # The supervisor (systemd, Kubernetes) starts the dead node again: it rejoins as the
    # replica of the promoted one, which until then has none to confirm its writes.
    await loop.run_in_executor(None, cluster.restart, master)
    report["replica_back_s"] = round(time.monotonic() - killed, 1)
    # Everyone's actions get acknowledged again by themselves: nothing waits long.
    recovered = await wait_for(lambda: oldest_pending(people) < 1.5, RECOVERED, 0.2)
    assert recovered is not None, f"actions still unacknowledged {oldest_pending(people):.1f}s"
    report["acks_flow_again_after_kill_s"] = round(time.monotonic() - killed, 1)
    healthy = await wait_for(lambda: all(health(s.url)[0] == 200 for s in servers), RECOVERED, 0.5)
    assert healthy is not None, [health(s.url) for s in servers]

    await asyncio.gather(*pledging)
    drained = await wait_for(lambda: not any(p.pending for p in people), 30, 0.2)
    assert drained is not None, f"{sum(len(p.pending) for p in people)} actions never acked"
    store = redis_client(cluster.url, decode_responses=True)
    total, counted, acked = tally(store, campaign, people)
    report.update(
        total=total,
        acked=len(acked),
        codes=dict(sum((p.codes for p in people), Counter())),
        reconnects=sum(p.reconnects for p in people),
    )
    assert total == len(acked) == len(counted) and counted == acked, report
    converged = await wait_for(
        lambda: all(p.seen_total == total == p.last_progress for p in people), 10, 0.2
    )
    assert converged is not None, sorted({(p.seen_total, p.last_progress) for p in people})
    for person in people:
        person.stopped = True
        person.wake.set()
    await asyncio.wait_for(asyncio.gather(*lives), 30)
    return report


def test_a_cluster_master_dies_under_load_and_nothing_acknowledged_is_lost(tmp_path):
    """Two processes on a 6-node Redis Cluster (acks wait for a replica, the default there),
    50 viewers pledging with retries; the master holding the campaign is SIGKILLed: its
    replica takes over, the dead node comes back as its replica, the viewers' re-sends are
    counted once, /healthz is 200 again by itself, and the total is exactly the distinct
    acknowledged actions."""
    cluster = EmbeddedCluster(tmp_path / "cluster").start()
    servers = []
    try:
        campaign = seed_campaign(cluster.url, goal=100_000)
        servers = [serve_process(cluster.url, tmp_path).start() for _ in range(2)]
        report = run_apart(master_dies(servers, cluster, campaign["id"]))
        print("master dies:", report)
    finally:
        for server in servers:
            server.stop()
        cluster.stop()
    for server in servers:
        assert "Traceback" not in server.log_text(), server.log_text()[-3000:]
