"""A Redis URL made a client: one Redis or a Redis Cluster (``socialads.store.clients``), and
the cluster's pipelines doing what one Redis's do (``socialads.store.pipelines``), on real
servers."""

from __future__ import annotations

import os
import signal
import uuid

import pytest
import redis

from socialads import create_app
from socialads.protocol import ActionStatus
from socialads.store.clients import (
    AckReplicasError,
    BadRedisURL,
    is_cluster,
    parse_cluster_url,
    redis_client,
)
from socialads.store.pipelines import Cluster
from tests.support.seeds import SECRET


def test_a_cluster_url_lists_its_nodes_and_what_applies_to_all():
    parsed = parse_cluster_url(
        "redis+cluster://ann:s%40cret@10.0.0.1:7000, 10.0.0.2:7001/0?ssl=true"
    )
    assert parsed.nodes == [("10.0.0.1", 7000), ("10.0.0.2", 7001)]
    assert (parsed.username, parsed.password, parsed.ssl) == ("ann", "s@cret", True)
    assert is_cluster("REDIS+CLUSTER://h:1") and not is_cluster("redis://h:1/0")
    assert parse_cluster_url("rediss+cluster://h:7000").ssl  # CONTRACT §5: TLS
    assert not parse_cluster_url("redis+cluster://h:7000").ssl


@pytest.mark.parametrize(
    "url",
    [
        "redis+cluster://",
        "redis+cluster://host",
        "redis+cluster://h:99999",
        "redis+cluster://h:1/2",
        "redis+cluster://h:1?socket_timeout=1",  # not taken: refused, never silently dropped
        "redis+cluster://h:1?ssl=true&sslmode=verify",
    ],
)
def test_a_cluster_url_that_cannot_be_used_says_why(url):
    with pytest.raises(BadRedisURL):
        parse_cluster_url(url)


def test_a_cluster_url_that_reaches_a_single_redis_is_refused_at_start_up(single_redis):
    url = f"redis+cluster://127.0.0.1:{single_redis.port}"
    with pytest.raises(BadRedisURL, match="without cluster mode"):
        create_app({"REDIS_URL": url, "SECRET_KEY": SECRET, "MESSAGE_QUEUE": False})


def test_one_redis_keeps_its_own_client(single_redis):
    client = redis_client(single_redis.url)
    assert type(client) is redis.Redis and client.ping()


def test_a_cluster_pipeline_runs_scripts_publishes_and_spans_slots_in_order(redis_cluster):
    client = redis_client(redis_cluster.url, decode_responses=True)
    assert isinstance(client, Cluster)
    script = client.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    listener = client.pubsub()
    channel = f"test:{uuid.uuid4().hex}"
    listener.subscribe(channel)
    keys = [f"{{k{n}}}:{uuid.uuid4().hex}" for n in range(12)]  # slots on every master
    assert len({redis_cluster.master_of(key) for key in keys}) == 3
    pipe = client.pipeline(transaction=False)
    for n, key in enumerate(keys):
        pipe.set(key, n)
        script(keys=[key], args=[10], client=pipe)
    pipe.publish(channel, "hello")
    replies = pipe.execute()
    assert replies[:-1] == [x for n in range(12) for x in (True, n + 10)]
    assert client.mget(keys) == [str(n + 10) for n in range(12)]
    heard = None
    for _ in range(20):
        heard = listener.get_message(ignore_subscribe_messages=True, timeout=0.1) or heard
        if heard:
            break
    assert heard and heard["data"] == "hello"
    listener.close()


def test_a_script_a_node_never_saw_is_loaded_there_and_run_once(redis_cluster):
    client = redis_client(redis_cluster.url, decode_responses=True)
    script = client.register_script("return redis.call('INCR', KEYS[1])")
    key = f"{{once}}:{uuid.uuid4().hex}"
    redis.Redis(port=redis_cluster.master_of(key)).script_flush()
    pipe = client.pipeline(transaction=False)
    script(keys=[key], args=[], client=pipe)
    assert pipe.execute() == [1]
    assert client.get(key) == "1"


def test_a_one_slot_transaction_stays_atomic_on_a_cluster(redis_cluster):
    client = redis_client(redis_cluster.url, decode_responses=True)
    tag = uuid.uuid4().hex
    pipe = client.pipeline(transaction=True)
    pipe.set(f"{{{tag}}}:a", 1)
    pipe.incr(f"{{{tag}}}:a")
    pipe.get(f"{{{tag}}}:a")
    assert pipe.execute() == [True, 2, "2"]


# -- acknowledged once a replica has it ------------------------------------------------------


def cluster_app(redis_cluster, **config):
    return create_app(
        {"REDIS_URL": redis_cluster.url, "SECRET_KEY": SECRET, "MESSAGE_QUEUE": False, **config}
    )


def test_acks_wait_for_a_replica_by_default_on_a_cluster_with_replicas(redis_cluster, single_redis):
    assert cluster_app(redis_cluster).extensions["socialads.store"].ack_replicas == 1
    single = create_app(
        {"REDIS_URL": single_redis.url, "SECRET_KEY": SECRET, "MESSAGE_QUEUE": False}
    )
    assert single.extensions["socialads.store"].ack_replicas == 0


def test_acks_set_to_wait_for_more_replicas_than_there_are_are_refused_at_start_up(
    redis_cluster, single_redis
):
    with pytest.raises(AckReplicasError, match="has 1 replica"):
        cluster_app(redis_cluster, ACK_REPLICAS=2)
    with pytest.raises(AckReplicasError, match="has 0 replica"):
        create_app({"REDIS_URL": single_redis.url, "SECRET_KEY": SECRET, "ACK_REPLICAS": 1})
    with pytest.raises(AckReplicasError):
        cluster_app(redis_cluster, ACK_REPLICAS="some")


def test_an_action_its_replica_does_not_confirm_is_not_acknowledged_and_counts_once_resent(
    redis_cluster,
):
    """The replica of the campaign's master stops (SIGSTOP) for a moment: the count is
    written on the master but WAIT times out, so the act is answered as an error (the widget
    says `unavailable` and re-sends); re-sent while the replica still lags it is no confirmed
    duplicate either (the duplicate writes, so WAIT covers the first count); once the replica
    is back, the same action is a duplicate, counted once."""
    store = cluster_app(redis_cluster, ACK_WAIT_MS=200).extensions["socialads.store"]
    cid = f"c_{uuid.uuid4().hex[:12]}"
    master = redis_cluster.master_of(store.keys.campaign(cid).counters)
    replica = redis_cluster.node(redis_cluster.replicas_of(master)[0]).process
    token = uuid.uuid4().hex
    assert store.record_action(cid, token, "v1", "first", amount=1).total == 1
    os.kill(replica.pid, signal.SIGSTOP)
    try:
        with pytest.raises(redis.ConnectionError, match="not confirmed"):
            store.record_action(cid, token, "v1", "second", amount=1)
        # Re-sent while the replica still lags: a duplicate, but not a confirmed one either.
        with pytest.raises(redis.ConnectionError, match="not confirmed"):
            store.record_action(cid, token, "v1", "second", amount=1)
    finally:
        os.kill(replica.pid, signal.SIGCONT)
    again = store.record_action(cid, token, "v1", "second", amount=1)
    assert again.status is ActionStatus.DUPLICATE and again.total == 2
