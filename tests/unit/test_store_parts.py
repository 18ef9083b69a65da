"""A hot campaign's counts in parts (issue #12, socialads.store.parts), on a real Redis Cluster:
each part in a slot of its own, spread over the masters; a viewer always in the same part, so
their dedupe, cap and once-only choices stay exact; every figure a reader gets adds the parts
up and equals what one part would have counted."""

from __future__ import annotations

import time
import uuid

import pytest

from socialads import create_app
from socialads.domain import campaigns
from socialads.domain.errors import Problem
from socialads.protocol import ActionStatus
from socialads.store.parts import part_of
from tests.support.seeds import CAMPAIGN, SECRET

PARTS = 4


@pytest.fixture(scope="module")
def store(redis_cluster):
    app = create_app(
        {
            "REDIS_URL": redis_cluster.url,
            "SECRET_KEY": SECRET,
            "MESSAGE_QUEUE": False,
            "COUNTER_PARTS": PARTS,
            # Acks wait for a replica (WAIT): a slow fsync on a busy test machine is not what
            # these tests are about, so they give it longer than a viewer would.
            "ACK_WAIT_MS": 5000,
        }
    )
    return app.extensions["socialads.store"]


@pytest.fixture
def brand(store):
    return store.create_brand("Parts " + uuid.uuid4().hex[:6])


def test_a_viewer_counts_in_the_same_part_for_ever():
    # crc32, not Python's salted hash: every process, every release, puts them in one place.
    assert [part_of(viewer, 4) for viewer in ("ana", "ben", "v-1", "v-2")] == [2, 1, 1, 3]
    assert part_of("anyone", 1) == 0


def test_the_parts_spread_over_the_masters_and_add_up_exactly(store, brand, redis_cluster):
    cid = campaigns.create(store, brand, dict(CAMPAIGN)).id
    parts = store.counter_parts(cid)
    assert parts.count == PARTS
    masters = {redis_cluster.master_of(part.counters) for part in parts.all}
    assert len(masters) >= 2  # four slots over three masters: never all on one
    tokens = [store.create_session(cid, f"leader{n}") for n in range(3)]
    viewers = [f"viewer-{n}" for n in range(40)]
    assert len({parts.index(v) for v in viewers}) == PARTS  # every part has some
    sent = []
    for n, viewer in enumerate(viewers):
        token = tokens[n % 3]
        for k in range(2):
            action = f"{viewer}-a{k}"
            sent.append((token, viewer, action))
            result = store.record_action(
                cid, token, viewer, action, amount=2, origin="https://a.example"
            )
            assert result.status is ActionStatus.COUNTED
    # Every one sent again (a widget re-sending after a reconnect): all duplicates.
    for token, viewer, action in sent:
        again = store.record_action(cid, token, viewer, action, amount=2)
        assert again.status is ActionStatus.DUPLICATE
    total, state, sessions = store.campaign_progress(cid, tokens)
    assert total == 160
    assert [s["total"] for s in sessions] == [56, 52, 52]  # 14, 13 and 13 viewers, 2 × 2 each
    stats = store.stats(cid)
    assert stats["total"] == 160 and stats["actions"] == 80
    assert stats["engaged_viewers"] == pytest.approx(40, abs=1)  # an HLL per part, disjoint
    assert stats["by_origin"]["https://a.example"]["actions"] == 80
    minute = int(time.time() // 60)
    assert sum(m["actions"] for m in store.minutes(cid, minute - 1, 2)) == 80
    # The join snapshot adds the parts up too.
    snapshot = store.session_snapshot(cid, tokens[0], None, 10)
    assert (snapshot.total, snapshot.session_total) == (160, 56)
    # Each part's copy of a session lives only as long as a session can.
    for part in parts.all[1:]:
        ttl = store.redis.ttl(part.session_hash(tokens[0]))
        assert ttl == -2 or 0 < ttl <= 30 * 24 * 3600


def test_once_only_choices_and_caps_stay_exact_per_viewer(store, brand):
    poll = {**CAMPAIGN, "activity": "poll", "settings": {"options": ["Trees", "Bees"]}}
    cid = campaigns.create(store, brand, poll).id
    assert store.counter_parts(cid).count == PARTS
    token = store.create_session(cid, "leader")
    for n in range(12):
        viewer = f"voter-{n}"
        first = store.record_action(
            cid, token, viewer, "x1", 1, state={f"o{n % 2}": 1}, once="vote", choice=str(n % 2)
        )
        second = store.record_action(
            cid, token, viewer, "x2", 1, state={"o0": 1}, once="vote", choice="0"
        )
        assert first.status is ActionStatus.COUNTED and second.status is ActionStatus.ALREADY_CHOSEN
        assert store.choices(cid, viewer) == {"vote": str(n % 2)}
    total, state, _ = store.campaign_progress(cid)
    assert total == 12 and state == {"o0": 6, "o1": 6}


def test_the_leaderboard_ranks_sessions_by_their_totals_over_every_part(store, brand):
    cid = campaigns.create(store, brand, {**CAMPAIGN, "activity": "challenge"}).id
    tokens = [store.create_session(cid, f"lead{n}", f"Group {n}") for n in range(6)]
    for n, token in enumerate(tokens):  # group n: n + 1 viewers, one action each
        for v in range(n + 1):
            store.record_action(cid, token, f"g{n}-v{v}", "a", 1)
    board = store.leaderboard(cid, 3)
    assert board == [
        {"name": "Group 5", "total": 6},
        {"name": "Group 4", "total": 5},
        {"name": "Group 3", "total": 4},
    ]


def test_a_group_spread_over_the_parts_leads_the_board_over_sessions_in_one(store, brand):
    """A group's viewers are in every part; a solo session's in one. Ranked by their sums
    (the threshold algorithm), not by what tops each part's board."""
    cid = campaigns.create(store, brand, {**CAMPAIGN, "activity": "challenge"}).id
    parts = store.counter_parts(cid)
    by_part: dict[int, list[str]] = {n: [] for n in range(PARTS)}
    for n in range(400):
        by_part[parts.index(f"p-{n}")].append(f"p-{n}")
    group = store.create_session(cid, "lead", "The group")
    for part in range(PARTS):  # 10 in each part: 40
        for viewer in by_part[part][:10]:
            store.record_action(cid, group, viewer, "a", 1)
    for part in range(PARTS):  # in each part, 3 solo sessions of 20, 19 and 18: above 10 there
        for rank, amount in enumerate((20, 19, 18)):
            solo = store.create_session(cid, f"solo-{part}-{rank}", f"Solo {part}.{rank}")
            store.record_action(cid, solo, by_part[part][20 + rank], "a", amount)
    board = store.leaderboard(cid, 2)
    assert board[0] == {"name": "The group", "total": 40}
    assert board[1]["total"] == 20


def test_a_closed_session_refuses_actions_in_every_part(store, brand):
    cid = campaigns.create(store, brand, dict(CAMPAIGN)).id
    parts = store.counter_parts(cid)
    token = store.create_session(cid, "leader")
    closed = {"at": time.time(), "reason": "spam", "by": "Jo", "user": "jo@example.test"}
    assert store.close_session(cid, token, closed)
    by_part = {}
    for n in range(40):
        by_part.setdefault(parts.index(f"late-{n}"), f"late-{n}")
    assert len(by_part) == PARTS
    for viewer in by_part.values():
        assert store.record_action(cid, token, viewer, "a", 1).status is ActionStatus.SESSION_CLOSED


def test_a_group_match_keeps_its_campaign_in_one_part(store, brand):
    match = {"match_every": 3, "match_amount": 10, "match_pool": 100}
    cid = campaigns.create(store, brand, {**CAMPAIGN, "settings": match}).id
    assert store.counter_parts(cid).count == 1
    # A campaign in parts cannot be given a match later: its people are counted per part.
    apart = campaigns.create(store, brand, dict(CAMPAIGN))
    with pytest.raises(Problem) as refused:
        campaigns.update(store, apart, {"settings": match})
    assert refused.value.http_status == 422
    assert "match" in str(refused.value)
