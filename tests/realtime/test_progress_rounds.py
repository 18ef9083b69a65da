"""One progress round against a real Redis, with the steps other greenlets take while it
reads (a heartbeat forgetting what was heard, a viewer leaving) made to happen during the read:
the interleavings a busy process meets, made certain."""

from __future__ import annotations

import threading
import time
import uuid

import orjson
import pytest

from socialads.activities import Effect
from socialads.domain import campaigns
from socialads.realtime.connections import Connection
from socialads.realtime.rooms import session_room
from socialads.realtime.service import EXTENSION
from tests.support.seeds import CAMPAIGN


class ReadingStore:
    """The app's real store; ``during`` runs right after each `progress_by_part` read (what
    the coalescer reads)."""

    def __init__(self, store, during):
        self._store = store
        self._during = during

    def progress_by_part(self, cid, tokens=()):
        read = self._store.progress_by_part(cid, tokens)
        self._during()
        return read

    def __getattr__(self, name):
        return getattr(self._store, name)


@pytest.fixture
def progress_round(app, store, make_campaign):
    """A campaign with two sessions that have a viewer each in this process, and one
    pledge counted in the first."""
    realtime = app.extensions[EXTENSION]
    cid = make_campaign()["id"]
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    for n, session in enumerate((first, second)):
        connection = Connection(cid, session, f"viewer-{n}", f"m{n}", f"Viewer {n}", time.time())
        realtime.connections.add(f"sid-{n}", connection)
    store.record_action(cid, first, "viewer-0", uuid.uuid4().hex, amount=3)
    yield realtime, cid, first, second
    for n in range(2):
        realtime.connections.remove(f"sid-{n}")
    realtime.progress.store = store


def heard(progress, cid, session, total, session_total):
    """The count script's notice of viewer-0's pledge, as the listener hands it on (from
    viewer-0's part, on a campaign counted in parts)."""
    event = {"k": "p", "c": cid, "s": session, "t": total, "f": {}}
    parts = progress.store.counter_parts(cid)
    if parts.count > 1:
        event["p"] = parts.index("viewer-0")
    progress.heard({**event, "st": session_total, "sp": 1, "sm": 0})


def test_a_heartbeat_forgetting_during_the_read_never_sends_a_session_zero(progress_round, store):
    realtime, cid, first, second = progress_round
    progress = realtime.progress
    heard(progress, cid, first, 3, 3)  # the first session is known, the campaign not wholly
    progress.store = ReadingStore(store, during=progress.forget_counts)
    sent = {room: payload for payload, rooms in progress.updates(cid).values() for room in rooms}
    assert sent[session_room(cid, first)]["session_total"] == 3
    assert sent[session_room(cid, first)]["total"] == 3
    assert sent[session_room(cid, second)]["session_total"] == 0  # read: it has none of its own


def test_a_session_that_leaves_during_the_read_is_sent_nothing_and_not_remembered(
    progress_round, store
):
    realtime, cid, first, second = progress_round
    progress = realtime.progress

    def second_leaves():
        realtime.connections.remove("sid-1")
        progress.forget_session(cid, second)

    progress.store = ReadingStore(store, during=second_leaves)
    rooms = [room for _, rooms in progress.updates(cid).values() for room in rooms]
    assert rooms == [session_room(cid, first)]
    assert second not in progress.last_progress
    assert second not in progress.session_counts


def test_the_last_viewer_of_a_campaign_leaving_forgets_the_campaign(progress_round):
    realtime, cid, first, second = progress_round
    progress = realtime.progress
    heard(progress, cid, first, 3, 3)
    assert cid in progress.totals and cid in progress.pending
    for n, session in enumerate((first, second)):
        realtime.connections.remove(f"sid-{n}")
        progress.forget_session(cid, session)
    assert cid not in progress.totals and cid not in progress.pending


def test_an_effect_never_takes_away():
    """Every process keeps the larger of two readings of a count as the later one."""
    assert Effect(amount=0, state={"yes": 1}).amount == 0
    with pytest.raises(ValueError):
        Effect(amount=-1)
    with pytest.raises(ValueError):
        Effect(state={"yes": -1})


def test_a_round_that_fails_on_a_bug_is_retried_and_the_others_still_go(progress_round, store):
    realtime, cid, first, second = progress_round
    progress = realtime.progress
    failures = []

    def fail_once():
        if not failures:
            failures.append(1)
            raise RuntimeError("a widget's bug")

    progress.store = ReadingStore(store, during=fail_once)
    progress.due(cid)
    threading.Thread(target=progress.coalesce, daemon=True).start()
    deadline = time.monotonic() + 5
    while first not in progress.last_progress and time.monotonic() < deadline:
        time.sleep(0.02)
    assert failures, "the read ran"
    assert orjson.loads(progress.last_progress[first])["session_total"] == 3  # retried


def test_a_part_s_notice_heard_during_the_read_is_not_lost(app, store, brand):
    """In parts (socialads.store.parts), a session is read whole before its parts' notices are
    trusted; one heard while that read is in flight is newer than it, and is kept."""
    realtime = app.extensions[EXTENSION]
    progress = realtime.progress
    cid = campaigns.create(store, brand["brand_id"], dict(CAMPAIGN), parts=4).id
    parts = store.counter_parts(cid)
    session = uuid.uuid4().hex
    realtime.connections.add("sid-p", Connection(cid, session, "v", "m", "V", time.time()))
    viewer = next(f"w{n}" for n in range(100) if parts.index(f"w{n}") == 1)
    store.record_action(cid, session, viewer, uuid.uuid4().hex, amount=14)

    def counted_meanwhile():  # another process counts one more in part 1, and says so
        event = {"k": "p", "c": cid, "s": session, "t": 15, "f": {}, "p": 1}
        progress.heard({**event, "st": 15, "sp": 0, "sm": 0})

    progress.store = ReadingStore(store, during=counted_meanwhile)
    try:
        sent = [payload for payload, _ in progress.updates(cid).values()]
        assert sent[0]["session_total"] == 15 and sent[0]["total"] == 15
    finally:
        progress.store = store
        realtime.connections.remove("sid-p")
