"""The counting script's rules for activities, and its group commit, straight against Redis."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from socialads.runtime.processes import free_port
from socialads.store.batching import BatchedScript


def test_a_once_only_choice_is_kept_and_refused_the_second_time(store, make_campaign):
    cid = make_campaign()["id"]
    token = store.create_session(cid, "ana", "Ana's group")
    first = store.record_action(
        cid, token, "ana", "a1", 1, state={"river": 1}, once="vote", choice="river"
    )
    assert (first.status, first.total) == (1, 1)
    again = store.record_action(
        cid, token, "ana", "a2", 1, state={"park": 1}, once="vote", choice="park"
    )
    assert (again.status, again.total) == (-2, 1)
    assert store.choices(cid, "ana") == {"vote": "river"}
    # the refused id was not spent: a retry of it is refused again, not "duplicate"
    assert store.record_action(cid, token, "ana", "a2", 1, once="vote").status == -2
    assert store.record_action(cid, token, "ben", "a1", 1, once="vote", choice="park").status == 1
    _, state, _ = store.campaign_progress(cid)
    assert state == {"river": 1}  # ben's state was not passed: only what was counted


def test_a_cooldown_spaces_one_viewers_actions(store, make_campaign):
    cid = make_campaign()["id"]
    token = store.create_session(cid, "ana")
    assert store.record_action(cid, token, "ana", "a1", 1, cooldown=0.5).status == 1
    early = store.record_action(cid, token, "ana", "a2", 1, cooldown=0.5)
    assert early.status == -3 and 0 < early.wait <= 0.5 and early.total == 1
    assert store.record_action(cid, token, "ben", "b1", 1, cooldown=0.5).status == 1
    time.sleep(0.55)
    assert store.record_action(cid, token, "ana", "a2", 1, cooldown=0.5).total == 3


def test_the_leaderboard_names_groups_by_their_totals(store, make_campaign):
    cid = make_campaign()["id"]
    ana = store.create_session(cid, "ana", "Ana's group")
    ben = store.create_session(cid, "ben", "Ben's group")
    store.record_action(cid, ana, "ana", "1", 1)
    for i in range(3):
        store.record_action(cid, ben, "ben", str(i), 1)
    assert store.leaderboard(cid, 5) == [
        {"name": "Ben's group", "total": 3},
        {"name": "Ana's group", "total": 1},
    ]
    assert store.leaderboard(cid, 1) == [{"name": "Ben's group", "total": 3}]


def test_shared_limits_are_taken_in_the_counting_script_and_spare_duplicates(make_campaign, store):
    cid = make_campaign()["id"]
    token = store.create_session(cid, "ana", "Ana's group")
    buckets = [("v", "ana", (1, 0.5)), ("ip", "192.0.2.1", (100, 10))]
    assert store.record_action(cid, token, "ana", "a1", 1, buckets=buckets).status == 1
    limited = store.record_action(cid, token, "ana", "a2", 1, buckets=buckets)
    assert limited.status == -5 and 0 < limited.wait <= 2
    # a re-sent action (after a reconnect) is answered as a duplicate, never limited
    assert store.record_action(cid, token, "ana", "a1", 1, buckets=buckets).status == 0
    # the refused one was not counted and can be sent again once a token is back
    assert store.campaign_progress(cid)[0] == 1
    assert (
        store.record_action(cid, token, "ben", "b1", 1, buckets=[("v", "ben", (1, 0.5))]).total == 2
    )


def paused_writes(store, ms: int):
    """Hold Redis's writers for ``ms``: the actions sent meanwhile queue behind the one in
    flight and go together in the next round trip (the group commit of socialads.store.batching)."""
    store.redis.execute_command("CLIENT", "PAUSE", ms, "WRITE")


def test_actions_that_share_a_round_trip_each_get_their_own_answer(store, make_campaign):
    cid = make_campaign()["id"]
    # Forty people, each in a room of their own, each pledging a different amount, twice
    # under the same id (a re-send): every answer must carry its own room's total.
    tokens = [store.create_session(cid, f"v{i}") for i in range(40)]
    sends = [(i, token) for i, token in enumerate(tokens)] * 2
    other = make_campaign()["id"]  # a campaign whose counters someone broke
    broken = store.create_session(other, "ben")
    store.redis.set(store.keys.campaign(other).per_viewer, "not a hash")
    sent = store.scripts.record_action.run.round_trips
    paused_writes(store, 300)
    with ThreadPoolExecutor(40) as pool:
        futures = [
            pool.submit(store.record_action, cid, token, f"v{i}", "a1", i + 1) for i, token in sends
        ]
        failing = pool.submit(store.record_action, other, broken, "ben", "b1", 1)
        results = [future.result() for future in futures]
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            failing.result()
    assert store.scripts.record_action.run.round_trips - sent < 20  # they did share round trips
    assert [r.session_total for r in results] == [i + 1 for i, _ in sends]
    for i in range(40):  # counted once, the other send answered "duplicate"
        assert sorted((results[i].status, results[i + 40].status)) == [0, 1]
    assert store.campaign_progress(cid)[0] == sum(range(1, 41))
    assert store.campaign_progress(other)[0] == 0


def test_counting_goes_on_after_redis_forgot_its_scripts(store, make_campaign):
    cid = make_campaign()["id"]
    token = store.create_session(cid, "ana")
    assert store.record_action(cid, token, "ana", "a1", 1).status == 1
    store.redis.script_flush()  # as after a restart without the scripts
    again = [store.record_action(cid, token, "ana", aid, 1) for aid in ("a1", "a2")]
    assert [(r.status, r.total) for r in again] == [(0, 1), (1, 2)]


def test_a_round_trip_that_fails_answers_its_callers_and_the_next_one_goes(redis_server):
    # Nothing listens there, and no retries: the test is about what the callers hear.
    down = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))
    script = BatchedScript(down, down.register_script("return {1}"))
    for _ in range(2):  # the sender survives a failure: every caller hears of its own
        with pytest.raises(redis.ConnectionError):
            script(keys=["k"], args=[])
    up = redis.Redis.from_url(redis_server.url)
    script.client = up
    assert script(keys=["k"], args=[]) == [1]


def test_the_dedupe_is_per_viewer_and_kept_a_week_after_their_latest_action(store, make_campaign):
    """Bounded memory: a viewer's counted ids expire DEDUPE_TTL after their latest action
    (a re-send comes within seconds of a reconnect), instead of growing with the campaign;
    what was counted before dedupe was per viewer is still a duplicate."""
    from socialads.protocol import ActionStatus
    from socialads.store.keys import DEDUPE_TTL

    cid = make_campaign()["id"]
    key = store.keys.campaign(cid)
    token = store.create_session(cid, "ana")
    assert store.record_action(cid, token, "ana", "a1", 1).status is ActionStatus.COUNTED
    assert store.redis.smembers(key.done_by("ana")) == {"a1"}
    assert DEDUPE_TTL - 5 < store.redis.ttl(key.done_by("ana")) <= DEDUPE_TTL
    assert store.record_action(cid, token, "ana", "a1", 1).status is ActionStatus.DUPLICATE
    assert store.record_action(cid, token, "ben", "a1", 1).status is ActionStatus.COUNTED
    store.redis.sadd(key.done, "ana\0old")  # counted by an earlier version
    assert store.record_action(cid, token, "ana", "old", 1).status is ActionStatus.DUPLICATE
    assert store.redis.hget(key.counters, "total") == "2"
