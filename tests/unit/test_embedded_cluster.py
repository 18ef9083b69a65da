"""The embedded Redis Cluster is a real one: six redis-server processes that spread keys over
three masters, and fail a crashed master over to its replica, which takes the data it had."""

from __future__ import annotations

import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from socialads.runtime.embedded_cluster import EmbeddedCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    started = EmbeddedCluster(tmp_path_factory.mktemp("cluster")).start()
    yield started
    started.stop()


def cluster_client(cluster: EmbeddedCluster) -> RedisCluster:
    # redis-py does not read our redis+cluster:// URL: every node is a startup node.
    nodes = [ClusterNode("127.0.0.1", port) for port in cluster.ports]
    return RedisCluster(startup_nodes=nodes, decode_responses=True)


def keys_on_every_master(cluster: EmbeddedCluster) -> dict[int, str]:
    """One key per master: master port -> key."""
    found: dict[int, str] = {}
    index = 0
    while len(found) < len(cluster.masters()):
        found.setdefault(cluster.master_of(f"key-{index}"), f"key-{index}")
        index += 1
    return found


def test_the_cluster_has_six_nodes_and_three_masters(cluster):
    assert len(cluster.nodes) == 6
    assert len(set(cluster.ports)) == 6
    masters = cluster.masters()
    assert len(masters) == 3
    assert set(masters) <= set(cluster.ports)
    assert cluster.url == "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in masters)


def test_a_cluster_client_sets_and_gets_keys_on_every_master(cluster):
    client = cluster_client(cluster)
    try:
        keys = keys_on_every_master(cluster)
        assert sorted(keys) == cluster.masters()
        for port, key in keys.items():
            assert client.set(key, f"on {port}")
            assert client.get(key) == f"on {port}"
    finally:
        client.close()


def test_master_of_names_the_node_that_holds_the_key(cluster):
    client = cluster_client(cluster)
    try:
        for port, key in keys_on_every_master(cluster).items():
            client.set(key, "here")
            with redis.Redis(port=port, decode_responses=True) as node:
                assert node.get(key) == "here"
            for other in set(cluster.masters()) - {port}:
                with redis.Redis(port=other) as node, pytest.raises(redis.ResponseError):
                    node.get(key)  # MOVED: that master does not serve the key's slot
    finally:
        client.close()


# Last in the module: it changes which nodes are masters.
@pytest.mark.slow
def test_a_killed_master_fails_over_and_comes_back_as_a_replica(cluster):
    client = cluster_client(cluster)
    try:
        key = "survives-a-crash"
        client.set(key, "acknowledged")
        dead = cluster.master_of(key)
        with redis.Redis(port=dead) as node:
            assert node.execute_command("WAIT", 1, 1000) >= 1  # the replica has it

        cluster.kill(dead)
        started = time.monotonic()
        cluster.wait_for_failover(dead)
        failover = time.monotonic() - started
        assert dead not in cluster.masters()
        assert len(cluster.masters()) == 3
        assert cluster.master_of(key) != dead
        # The client made before the crash finds the new master by itself.
        assert client.get(key) == "acknowledged"

        cluster.restart(dead)
        with redis.Redis(port=dead, decode_responses=True) as node:
            role = node.execute_command("ROLE")
        assert role[0] == "slave"
        assert int(role[2]) == cluster.master_of(key)
        assert client.get(key) == "acknowledged"
        print(f"failover took {failover:.1f}s")
    finally:
        client.close()
