"""Memory that stays bounded (issue #12): what the store keeps per viewer expires a documented
time after that viewer's latest action, what it keeps per origin or per session is capped,
and what an earlier version kept without end moves to the bounded place and shrinks."""

from __future__ import annotations

from socialads.protocol import ActionStatus
from socialads.store.keys import BOARD_KEPT, ORIGINS_KEPT, OTHER_ORIGIN, VIEWER_TTL


def test_a_viewers_own_state_is_one_key_kept_a_month_after_their_latest_action(
    store, make_campaign
):
    cid = make_campaign()["id"]
    key = store.keys.campaign(cid)
    token = store.create_session(cid, "ana")
    result = store.record_action(
        cid, token, "ana", "a1", 1, per_viewer_cap=2, once="q1", choice="yes", cooldown=0.001
    )
    assert result.status is ActionStatus.COUNTED
    me = store.redis.hgetall(key.viewer_state("ana"))
    assert me["n"] == "1" and me["o:q1"] == "yes" and int(me["last"]) > 0
    assert VIEWER_TTL - 5 < store.redis.ttl(key.viewer_state("ana")) <= VIEWER_TTL
    # Nothing in the campaign-wide places that grew with every viewer.
    for old in (key.per_viewer, key.last_action, key.friends, key.choices("ana")):
        assert not store.redis.exists(old), old
    assert store.choices(cid, "ana") == {"q1": "yes"}
    # The rules still hold from the viewer's own state.
    again = store.record_action(cid, token, "ana", "a2", 1, once="q1", choice="no")
    assert again.status is ActionStatus.ALREADY_CHOSEN
    assert store.record_action(cid, token, "ana", "a3", 1, per_viewer_cap=2).status is (
        ActionStatus.COUNTED
    )
    assert store.record_action(cid, token, "ana", "a4", 1, per_viewer_cap=2).status is (
        ActionStatus.CAPPED
    )


def test_what_an_earlier_version_kept_moves_to_the_viewers_state_and_leaves_the_old_places(
    store, make_campaign
):
    cid = make_campaign()["id"]
    key = store.keys.campaign(cid)
    token = store.create_session(cid, "ana")
    store.redis.hset(key.per_viewer, mapping={"ana": 2, "ben": 1})
    store.redis.hset(key.friends, mapping={"ana": 0, "ben": 0})
    store.redis.hset(key.last_action, "ana", 1)
    store.redis.hset(key.choices("ana"), "q1", "yes")
    assert store.choices(cid, "ana") == {"q1": "yes"}  # read where it was, before moving
    capped = store.record_action(cid, token, "ana", "a1", 1, per_viewer_cap=2)
    assert capped.status is ActionStatus.CAPPED  # the two counted before still count
    assert store.redis.hgetall(key.viewer_state("ana")) == {"n": "2", "f": "0", "o:q1": "yes"}
    assert store.redis.hgetall(key.per_viewer) == {"ben": "1"}
    assert store.redis.hgetall(key.friends) == {"ben": "0"}
    assert not store.redis.exists(key.last_action) and not store.redis.exists(key.choices("ana"))
    assert store.choices(cid, "ana") == {"q1": "yes"}
    chosen = store.record_action(cid, token, "ana", "a2", 1, once="q1", choice="no")
    assert chosen.status is ActionStatus.ALREADY_CHOSEN
    # An invited friend's first action is counted as one, once, from where it was kept.
    assert store.record_action(cid, token, "ben", "b1", 1).status is ActionStatus.COUNTED
    assert store.record_action(cid, token, "ben", "b2", 1).status is ActionStatus.COUNTED
    assert store.redis.hget(key.counters, "friends_acted") == "1"
    assert store.redis.hget(key.viewer_state("ben"), "f") == "1"


def test_an_invited_friend_is_known_by_their_state(store, make_campaign):
    cid = make_campaign()["id"]
    key = store.keys.campaign(cid)
    token = store.create_session(cid, "ana")
    member = {"viewer": "ben", "id": "m-ben", "name": "Ben", "t": 0}
    store.join_session(cid, token, "sid-ben", member, 30, origin="https://news.example")
    assert store.redis.hget(key.viewer_state("ben"), "f") == "0"
    assert VIEWER_TTL - 5 < store.redis.ttl(key.viewer_state("ben")) <= VIEWER_TTL
    store.record_action(cid, token, "ben", "b1", 1)
    assert store.redis.hget(key.counters, "friends_acted") == "1"
    store.create_session(cid, "ben")  # started by someone an invite brought: not a seed
    assert store.redis.hget(key.counters, "seed_sessions") == "1"  # ana's only


def test_a_campaign_counts_at_most_so_many_origins_by_name(store, make_campaign):
    cid = make_campaign()["id"]
    key = store.keys.campaign(cid)
    token = store.create_session(cid, "ana")
    known = {f"https://site{n}.example": 1 for n in range(ORIGINS_KEPT)}
    for field in ("impressions", "joins", "actions"):
        store.redis.hset(key.by_origin(field), mapping=known)
    first, new = "https://site0.example", "https://made-up.example"
    store.count_impression(cid, new)
    store.count_impression(cid, first)
    member = {"viewer": "ben", "id": "m-ben", "name": "Ben", "t": 0}
    store.join_session(cid, token, "sid-ben", member, 30, origin=new)
    store.record_action(cid, token, "ana", "a1", 1, origin=new)
    store.record_action(cid, token, "ana", "a2", 1, origin=first)
    for field in ("impressions", "joins", "actions"):
        counts = store.redis.hgetall(key.by_origin(field))
        assert new not in counts and counts[OTHER_ORIGIN] == "1", field
        assert len(counts) == ORIGINS_KEPT + 1
    assert store.redis.hget(key.by_origin("impressions"), first) == "2"
    assert store.redis.hget(key.by_origin("actions"), first) == "2"
    assert store.redis.hget(key.counters, "impressions") == "2"


def test_the_leaderboard_keeps_its_top_sessions_only(store, make_campaign):
    cid = make_campaign()["id"]
    key = store.keys.campaign(cid)
    token = store.create_session(cid, "ana")
    store.redis.zadd(key.board, {f"old-{n}": n for n in range(2 * BOARD_KEPT)})
    store.record_action(cid, token, "ana", "a1", 5000)
    assert store.redis.zcard(key.board) == BOARD_KEPT
    assert store.leaderboard(cid, 1)[0]["total"] == 5000
