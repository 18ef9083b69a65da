"""A process hears only what it serves (socialads.realtime.bus): a campaign's channel is
subscribed while the process holds a room of that campaign and dropped when the last one
goes; a process with no viewers of a busy campaign hears next to nothing of it. On one Redis
(classic pub/sub) and on a cluster (sharded pub/sub, each channel on its slot's master)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid

import orjson
import pytest
import redis
from redis.cluster import ClusterNode

from socialads.domain import campaigns
from socialads.metrics import Metrics
from socialads.realtime.bus import Bus
from socialads.realtime.liveness import Liveness
from socialads.realtime.rooms import admin_room, session_room
from socialads.realtime.wire import QueueManager
from socialads.runtime.embedded_cluster import HOST
from tests.support.seeds import CAMPAIGN
from tests.support.servers import bus_heard
from tests.support.waiting import wait_until


def subscribers(store, channel: str) -> int:
    """How many connections hear ``channel`` (on a cluster: on its slot's master)."""
    if store.events.cluster:
        node = store.redis.get_node_from_key(channel)
        reply = store.redis.get_redis_connection(node).pubsub_shardnumsub(channel)
    else:
        reply = store.redis.pubsub_numsub(channel)
    counts = {name.decode() if isinstance(name, bytes) else name: n for name, n in reply}
    return int(counts[channel])


@pytest.fixture
def bus(store):
    bus = Bus(store, Metrics(), uuid.uuid4().hex[:8])
    heard: list[dict] = []
    bus.on_event = heard.append
    bus.spawn = lambda run: threading.Thread(target=run, daemon=True).start()
    threading.Thread(target=bus.run, daemon=True).start()
    reading = lambda: bus.probes() and all(h.since for h, _ in bus.probes())  # noqa: E731
    wait_until(reading, 5, what="the bus listening")
    bus.heard_events = heard
    yield bus
    bus.close()


def test_a_campaign_is_heard_while_this_process_has_rooms_of_it(bus, store):
    manager = QueueManager(bus)
    cid = f"c{uuid.uuid4().hex[:8]}"
    channel = bus.channel(cid)
    assert subscribers(store, channel) == 0
    manager.basic_enter_room("sid-1", "/", session_room(cid, "t1"), eio_sid="e1")
    manager.basic_enter_room("sid-2", "/", session_room(cid, "t1"), eio_sid="e2")
    manager.basic_enter_room("sid-3", "/admin", admin_room(cid), eio_sid="e3")
    manager.basic_enter_room(
        "sid-1", "/", "sid-1", eio_sid="e1"
    )  # a connection's own room: no campaign
    assert bus.held == {cid: 2}  # two rooms of the campaign: one session's, the admin's
    bus.wait_heard(cid)
    assert bus.waits[channel].is_set()  # confirmed, not timed out
    assert subscribers(store, channel) == 1
    event = {"k": "m", "c": cid, "s": "t1"}
    store.events.publish(channel, orjson.dumps(event))
    wait_until(lambda: event in bus.heard_events, 5, what="the campaign's notice heard")

    manager.basic_leave_room("sid-1", "/", session_room(cid, "t1"))
    manager.basic_leave_room("sid-9", "/", session_room(cid, "t2"))  # never there
    manager.basic_leave_room("sid-3", "/admin", admin_room(cid))
    assert bus.held == {cid: 1}
    manager.basic_leave_room("sid-2", "/", session_room(cid, "t1"))
    assert bus.held == {}
    wait_until(lambda: subscribers(store, channel) == 0, 5, what="the channel dropped")
    store.events.publish(channel, orjson.dumps({"k": "m", "c": cid, "s": "t2"}))
    time.sleep(0.3)
    assert [e for e in bus.heard_events if e.get("s") == "t2"] == []


def test_a_campaign_in_parts_is_heard_on_every_part_and_let_go_whole(bus, store, brand):
    """Each part of a campaign's counts (socialads.store.parts) publishes on its own channel:
    all are heard while a room of the campaign is here, and all dropped with the last one,
    even when this process has forgotten meanwhile how many parts the campaign has."""
    cid = campaigns.create(store, brand["brand_id"], dict(CAMPAIGN), parts=4).id
    manager = QueueManager(bus)
    channels = store.counter_parts(cid).channels
    assert len(channels) == 4
    manager.basic_enter_room("sid-1", "/", session_room(cid, "t1"), eio_sid="e1")
    bus.wait_heard(cid)
    assert all(bus.waits[channel].is_set() for channel in channels)
    for channel in channels:
        wait_until(lambda c=channel: subscribers(store, c) == 1, 5, what="every part heard")
    event = {"k": "p", "c": cid, "s": "t1", "t": 3, "f": {}, "p": 3}
    store.events.publish(channels[3], orjson.dumps(event))
    wait_until(lambda: event in bus.heard_events, 5, what="a part's notice heard")
    store.actions.parts.known.clear()  # as a process that met thousands of campaigns since
    manager.basic_leave_room("sid-1", "/", session_room(cid, "t1"))
    assert bus.wanted == {bus.global_channel}
    for channel in channels:
        wait_until(lambda c=channel: subscribers(store, c) == 0, 5, what="every part dropped")


def test_a_gap_on_some_channels_resends_only_their_campaigns(store, brand):
    """A reader that connects again (or channels that moved with a failover) missed what
    was published on its channels only: the campaigns they carry get fresh state, and no
    other (one master's failover does not make every campaign here read afresh)."""
    bus = Bus(store, Metrics(), uuid.uuid4().hex[:8])  # not listening: its bookkeeping only
    missed: list[list[str]] = []
    bus.on_gap = missed.append
    one = f"c{uuid.uuid4().hex[:8]}"
    apart = campaigns.create(store, brand["brand_id"], dict(CAMPAIGN), parts=4).id
    other = f"c{uuid.uuid4().hex[:8]}"
    for cid in (one, apart, other):
        bus.hold(cid)
    bus.gap_on([bus.channel(one), store.counter_parts(apart).channels[2]])
    assert missed == [[one, apart]]
    bus.gap_on(["sa:c:{nobody}:bus"])  # nothing of ours
    assert missed == [[one, apart]]


def test_what_is_not_ours_is_ignored_and_the_bus_still_hears(bus, store):
    manager = QueueManager(bus)
    cid = f"c{uuid.uuid4().hex[:8]}"
    manager.basic_enter_room("sid-1", "/", session_room(cid, "t1"), eio_sid="e1")
    bus.wait_heard(cid)
    channel = bus.channel(cid)
    assert bus.waits[channel].is_set()
    for poison in (b"\x80\x04not json", b"\xff\xfe", b"[1,2]", b'{"k":"p"}', b"{}"):
        store.events.publish(channel, poison)
    event = {"k": "x", "c": cid, "s": "t1", "reason": "Spam"}
    store.events.publish(channel, orjson.dumps(event))
    wait_until(lambda: event in bus.heard_events, 5, what="a notice after the poison")
    assert [e for e in bus.heard_events if e.get("c") == cid] == [event]


def test_a_process_without_viewers_of_a_busy_campaign_hears_next_to_nothing_of_it(
    servers, viewers, make_campaign
):
    serving, elsewhere = servers
    busy, other = make_campaign()["id"], make_campaign()["id"]
    crowd = [viewers(serving.url) for _ in range(10)]
    session = crowd[0].join(busy)["session"]
    for viewer in crowd[1:]:
        assert viewer.join(busy, session=session)["ok"]
    assert viewers(elsewhere.url).join(other)["ok"]  # it serves another campaign
    before = {server.url: bus_heard(server.url) for server in servers}
    for round_ in range(10):
        for n, viewer in enumerate(crowd):
            assert viewer.act(f"{n}-{round_}")["ok"]
    crowd[0].say("a busy campaign")
    crowd[1].wait_for("progress", lambda p: p["total"] == 100, timeout=10)
    heard = {server.url: bus_heard(server.url) - before[server.url] for server in servers}
    assert heard[serving.url] >= 100, heard  # each action's notice, at least
    assert heard[elsewhere.url] < 20, heard  # 101 events of the busy campaign: not heard


def heard_on(bus, channel: str, cid: str) -> None:
    """A notice published now on ``channel`` (campaign ``cid``'s) reaches the bus."""
    event = {"k": "m", "c": cid, "s": uuid.uuid4().hex[:8]}
    bus.store.events.publish(channel, orjson.dumps(event))
    wait_until(lambda: event in bus.heard_events, 5, what="a notice heard")


def test_a_reconnect_makes_a_join_wait_for_the_new_subscription(bus, store):
    """A reader that reconnects (here as liveness asks) is not subscribed between its two
    connections: a join meanwhile waits for the new confirmation, it does not take the old
    one for it and read its snapshot unsubscribed. The readers of other masters keep their
    connections: a reconnect subscribes again to its own channels only."""
    cids = [f"c{uuid.uuid4().hex[:8]}" for _ in range(6)]  # on every master, most likely
    for cid in cids:
        bus.hold(cid)
        bus.wait_heard(cid)
    cid, channel = cids[0], bus.channel(cids[0])
    assert bus.waits[channel].is_set()
    reader = next(r for r in bus.readers.values() if channel in r.channels)
    others = {r.name: r.hearing.since for r in bus.readers.values() if r is not reader}
    gate = threading.Event()
    connect = bus.pubsub

    def held_back(node):  # the reader's next connection waits for the test
        gate.wait(10)
        return connect(node)

    bus.pubsub = held_back
    try:
        reader.hearing.reconnect()
        wait_until(lambda: subscribers(store, channel) == 0, 5, what="the old connection gone")
        assert not bus.waits[channel].is_set()  # a join now would wait
    finally:
        bus.pubsub = connect
        gate.set()
    bus.wait_heard(cid)
    assert bus.waits[channel].is_set() and subscribers(store, channel) == 1
    heard_on(bus, channel, cid)
    assert {r.name: r.hearing.since for r in bus.readers.values() if r is not reader} == others
    for other in cids[1:]:
        assert subscribers(store, bus.channel(other)) == 1


def test_liveness_nonces_are_counted_as_probe_not_under_a_channel(bus, store):
    def count(label: str) -> float:
        sample = "socialads_bus_messages_by_channel_total"
        return bus.metrics.registry.get_sample_value(sample, {"channel": label}) or 0.0

    before = {label: count(label) for label in ("global", "campaign", "probe")}
    liveness = Liveness(store, bus.probes, timeout=5, interval=60)
    liveness.listening = True
    for _ in range(3):
        assert liveness.check(fresh=True) == []  # every reader heard its nonce
    assert count("probe") - before["probe"] >= 3 * len(bus.probes())
    assert (count("global"), count("campaign")) == (before["global"], before["campaign"])


def test_a_frozen_node_holds_up_neither_the_cluster_s_shape_nor_a_reader(
    bus, store, redis_server, caplog
):
    """A node that stops answering (SIGSTOP: the kernel still accepts its connections) is
    given up on within the bus's node timeout: learning the cluster's shape from it fails
    and is tried again (once it answers, the bus learns it), and a reader connecting to it
    fails instead of waiting for its HELLO forever."""
    if not store.events.cluster:
        pytest.skip("one Redis: no cluster's shape to learn")
    port = redis_server.replicas_of(redis_server.masters()[0])[0]  # a replica: no failover
    frozen = ClusterNode(HOST, port)
    bus.client.nodes_manager.startup_nodes = {frozen.name: frozen}  # the one node asked
    connecting: list[Exception] = []

    def reader_connects():
        try:
            bus.pubsub(frozen).ssubscribe(store.keys.probe(bus.host, 0))
        except redis.RedisError as exc:
            connecting.append(exc)

    process = redis_server.node(port).process
    with caplog.at_level(logging.WARNING, logger="socialads.realtime.bus"):
        os.kill(process.pid, signal.SIGSTOP)
        try:
            bus.reshape()
            reader = threading.Thread(target=reader_connects, daemon=True)
            reader.start()
            wait_until(lambda: "not known yet" in caplog.text, 10, what="the node given up on")
            reader.join(10)
            assert connecting and isinstance(connecting[0], redis.TimeoutError), connecting
        finally:
            os.kill(process.pid, signal.SIGCONT)
    wait_until(lambda: not bus.dirty.is_set(), 10, what="the cluster's shape learnt")
    redis_server.wait_until_whole()
    cid = f"c{uuid.uuid4().hex[:8]}"
    bus.hold(cid)
    bus.wait_heard(cid)
    assert bus.waits[bus.channel(cid)].is_set()
    heard_on(bus, bus.channel(cid), cid)
