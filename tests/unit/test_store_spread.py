"""A popular campaign spreads over a cluster (issue #12): each session's room (who is in it,
who ever joined) has a slot of its own, and the campaign keeps a count of live viewers per
process instead of an entry per connection, so seats and heartbeats are not all on one shard.
What an earlier version kept beside the session's hash moves to the room at its next join."""

from __future__ import annotations

import time

import pytest
import redis

from socialads import create_app
from socialads.domain import campaigns
from socialads.store import JoinRefused
from socialads.store.presence import SWEEP_AFTER, UNTIL
from tests.support.seeds import CAMPAIGN, SECRET


def member(viewer: str) -> dict:
    return {"viewer": viewer, "id": f"m-{viewer}", "name": viewer.title(), "t": time.time()}


@pytest.fixture(scope="module")
def cluster_store(redis_cluster):
    app = create_app({"REDIS_URL": redis_cluster.url, "SECRET_KEY": SECRET, "MESSAGE_QUEUE": False})
    return app.extensions["socialads.store"]


def test_the_sessions_of_one_campaign_are_seated_on_every_shard(cluster_store, redis_cluster):
    store = cluster_store
    brand = store.create_brand("Spread")
    cid = campaigns.create(store, brand, dict(CAMPAIGN)).id
    key = store.keys.campaign(cid)
    tokens = [store.create_session(cid, f"leader{n}") for n in range(24)]
    for n, token in enumerate(tokens):
        assert store.join_session(cid, token, f"sid{n}", member(f"leader{n}"), 30) is False
        assert store.join_session(cid, token, f"sid{n}b", member(f"friend{n}"), 30) is True
    rooms = [key.session(token) for token in tokens]
    masters = {redis_cluster.master_of(room.presence) for room in rooms}
    assert len(masters) == 3  # not all on the campaign's shard
    for room in rooms:  # a room's keys share its slot: the seat script touches them together
        assert {
            redis_cluster.master_of(k) for k in (room.presence, room.members, room.viewers)
        } == {redis_cluster.master_of(room.presence)}
    assert [len(store.members(cid, token)) for token in tokens] == [2] * 24
    stats = store.stats(cid)
    assert stats["joins"] == 48 and stats["invite_joins"] == 24 and stats["live_viewers"] == 48
    store.leave_session(cid, tokens[0], "sid0b")
    assert [m["viewer"] for m in store.members(cid, tokens[0])] == ["leader0"]
    assert store.stats(cid)["live_viewers"] == 47
    # A friend coming back is not a first join again: counted once.
    store.join_session(cid, tokens[0], "sid0c", member("friend0"), 30)
    assert store.stats(cid)["joins"] == 48


def test_live_viewers_are_counted_per_process_and_a_process_that_ends_stops_counting(
    store, make_campaign
):
    cid = make_campaign()["id"]
    key = store.keys.campaign(cid)
    token = store.create_session(cid, "ana")
    store.join_session(cid, token, "s1", member("ana"), 30)
    store.join_session(cid, token, "s2", member("ben"), 30)
    assert store.stats(cid)["live_viewers"] == 2
    assert store.redis.hget(key.here, store.process) == "2"  # one field, not one per viewer
    store.leave_session(cid, token, "s2")
    assert store.stats(cid)["live_viewers"] == 1
    store.count_live({cid: 5}, 30)  # the heartbeat writes the exact count again
    assert store.stats(cid)["live_viewers"] == 5
    # Another process that died: its count expired, so it no longer counts; dropped once it
    # is long expired (one just expired may be a late heartbeat's, about to be written again).
    store.redis.hset(key.here, mapping={"late": 3, "late" + UNTIL: time.time() - 1})
    store.redis.hset(key.here, mapping={"gone": 7, "gone" + UNTIL: time.time() - SWEEP_AFTER - 1})
    assert store.stats(cid)["live_viewers"] == 5
    assert not store.redis.hexists(key.here, "gone")
    assert store.redis.hget(key.here, "late") == "3"
    assert 0 < store.redis.ttl(key.here) <= 3 * 30 + 1  # no process beating: it goes
    # What an earlier version kept per connection is gone once the stats are read.
    store.redis.zadd(key.live, {"old-sid": time.time() + 60})
    assert store.stats(cid)["live_viewers"] == 5
    assert not store.redis.exists(key.live)


def test_a_room_kept_beside_its_session_moves_to_its_own_slot_at_the_next_join(
    store, make_campaign
):
    cid = make_campaign(room_size=2)["id"]
    key = store.keys.campaign(cid)
    token = store.create_session(cid, "ana")
    room = key.session(token)
    # As an earlier version left it: ana and ben joined, a connection of a process before.
    store.redis.sadd(room.before("v"), "ana", "ben")
    store.redis.zadd(room.before("p"), {"old-sid": time.time() + 60})
    store.redis.hset(room.before("m"), "old-sid", '{"viewer": "ana"}')
    store.redis.hincrby(key.counters, "joins", 2)
    store.join_session(cid, token, "s1", member("cal"), 30)
    assert store.redis.smembers(room.viewers) == {"ana", "ben", "cal"}
    for part in "pmv":
        assert not store.redis.exists(room.before(part)), part
    # Ben joined before: back in the full room, and not a first join again.
    store.join_session(cid, token, "s2", member("ana"), 30)
    store.join_session(cid, token, "s3", member("ben"), 30)
    assert store.stats(cid)["joins"] == 3
    assert {m["viewer"] for m in store.members(cid, token)} == {"ana", "ben", "cal"}


def test_a_join_that_fails_after_its_seat_counts_when_the_widget_sends_it_again(
    store, make_campaign, monkeypatch
):
    """The seat (in the room's slot) and the count (in the campaign's) are two round trips on
    a cluster: when the count fails, the seat is taken back, so the retry is a first join."""
    cid = make_campaign()["id"]
    token = store.create_session(cid, "ana")
    room = store.keys.campaign(cid).session(token)
    count = store.joins._count_seated

    def lost(*args, **kwargs):
        raise redis.ConnectionError("the campaign's master went away")

    monkeypatch.setattr(store.joins, "_count_seated", lost)
    with pytest.raises(redis.ConnectionError):
        store.join_session(cid, token, "s1", member("ben"), 30)
    assert not store.redis.sismember(room.viewers, "ben")
    monkeypatch.setattr(store.joins, "_count_seated", count)
    assert store.join_session(cid, token, "s1", member("ben"), 30) is True  # an invited friend
    stats = store.stats(cid)
    assert (stats["joins"], stats["invite_joins"], stats["live_viewers"]) == (1, 1, 1)
    for each in (room.presence, room.members, room.viewers):
        assert store.redis.ttl(each) > 0


def test_a_join_refused_by_a_block_or_a_close_meanwhile_counts_nothing(store, make_campaign):
    cid = make_campaign()["id"]
    token = store.create_session(cid, "ana")
    room = store.keys.campaign(cid).session(token)
    blocked = {"at": time.time(), "reason": "abuse", "by": "Jo", "user": "jo@x.test", "name": "B"}
    store.block_viewer(cid, "m-ben", blocked)
    with pytest.raises(JoinRefused) as refused:
        store.join_session(cid, token, "s1", member("ben"), 30)
    assert refused.value.blocked["reason"] == "abuse"
    closed = {"at": time.time(), "reason": "spam", "by": "Jo", "user": "jo@x.test"}
    store.close_session(cid, token, closed)
    with pytest.raises(JoinRefused) as refused:
        store.join_session(cid, token, "s2", member("cal"), 30)
    assert refused.value.blocked is None
    stats = store.stats(cid)
    assert (stats["joins"], stats["invite_joins"], stats["live_viewers"]) == (0, 0, 0)
    assert store.members(cid, token) == [] and not store.redis.exists(room.viewers)


def test_a_connection_joining_its_session_again_is_one_live_viewer(store, make_campaign):
    cid = make_campaign()["id"]
    token = store.create_session(cid, "ana")
    store.join_session(cid, token, "s1", member("ana"), 30)
    store.join_session(cid, token, "s1", member("ana"), 30, here=False)  # the widget's retry
    assert store.stats(cid)["live_viewers"] == 1
