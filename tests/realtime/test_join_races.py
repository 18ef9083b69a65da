"""A block or a close that lands while a viewer's join is under way, after the guard looked
and before this process heard the campaign's channel (so its notice went by unheard), still
refuses the join: the join's snapshot, read once the process hears the campaign, says so.

In process, through Flask-SocketIO's test client (the real server, one process), so the
moment between the guard and the snapshot can be chosen: the store's seat step is wrapped to
block or close right after it."""

from __future__ import annotations

import uuid

import pytest

from socialads.domain.identity import member_id
from socialads.realtime.rooms import socketio
from tests.support.seeds import SECRET


@pytest.fixture
def widget(app):
    client = socketio.test_client(app, headers={"Origin": app.config["PUBLIC_URL"]})
    assert client.is_connected()
    yield client
    client.disconnect()


def join(widget, cid: str, viewer: str, session: str | None = None) -> dict:
    payload = {"campaign": cid, "viewer": viewer, **({"session": session} if session else {})}
    return widget.emit("join", payload, callback=True)


def test_a_viewer_blocked_while_joining_is_refused(app, store, make_campaign, widget, monkeypatch):
    cid, viewer = make_campaign()["id"], "v-" + uuid.uuid4().hex
    member = member_id(SECRET, cid, viewer)
    seat = store.join_session

    def seat_then_block(*args, **kwargs):
        invited = seat(*args, **kwargs)
        store.block_viewer(cid, member, {"at": 0, "reason": "Spam", "by": "Sam", "user": "t"})
        return invited

    monkeypatch.setattr(store, "join_session", seat_then_block)
    answer = join(widget, cid, viewer)
    assert answer["ok"] is False and answer["error"]["code"] == "inactive", answer
    assert answer["error"]["blocked"] is True and answer["error"]["reason"] == "Spam"
    monkeypatch.undo()
    again = widget.emit("act", {"id": "a1"}, callback=True)
    assert again["ok"] is False and again["error"]["blocked"] is True, again


def test_a_session_closed_while_joining_is_refused(app, store, make_campaign, widget, monkeypatch):
    cid = make_campaign()["id"]
    token = store.create_session(cid, "leader")
    seat = store.join_session

    def seat_then_close(*args, **kwargs):
        invited = seat(*args, **kwargs)
        store.close_session(cid, token, {"at": 0, "reason": "Spam", "by": "Sam", "user": "t"})
        return invited

    monkeypatch.setattr(store, "join_session", seat_then_close)
    answer = join(widget, cid, "v-" + uuid.uuid4().hex, session=token)
    assert answer["ok"] is False and answer["error"]["closed"] is True, answer
    assert store.members(cid, token) == []  # not left seated in the closed room
