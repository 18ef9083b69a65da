"""The ``/admin`` Socket.IO namespace: a login is needed, and a brand watches only its own
campaigns."""

from __future__ import annotations

import time
import uuid

import pytest
import socketio

from socialads.domain.accounts import make_brand
from tests.support.admin import add_person, conversation
from tests.support.seeds import CAMPAIGN


def test_the_admin_namespace_needs_a_login_and_watches_own_campaigns_only(
    server, viewers, make_campaign, store, brand, web_admin
):
    anonymous = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect(
            server.url, namespaces=["/admin"], transports=["websocket"], wait_timeout=10
        )
    forged = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        forged.connect(
            server.url,
            namespaces=["/admin"],
            transports=["websocket"],
            wait_timeout=10,
            headers={"Cookie": "socialads_admin=forged.value.x"},
        )

    suffix = uuid.uuid4().hex[:6]
    other = make_brand(store, "Other", f"other-{suffix}@example.test", "password123")
    from socialads.domain import campaigns

    theirs = campaigns.create(store, other["brand_id"], CAMPAIGN)
    ours = make_campaign()
    maya = add_person(store, brand["brand_id"])
    team = web_admin.socket()
    heard: list[tuple[str, dict]] = []
    for event in ("message", "hidden", "blocked"):
        team.on(event, lambda data, event=event: heard.append((event, data)), namespace="/admin")
    try:
        refused = team.call("watch", {"campaign": theirs.id}, namespace="/admin", timeout=5)
        assert refused["ok"] is False and refused["error"]["code"] == "not_found"
        for payload in ({"campaign": "c_nosuchthing"}, {"campaign": 5}, "x", None):
            answer = team.call("watch", payload, namespace="/admin", timeout=5)
            assert answer["error"]["code"] == "not_found"
        assert team.call("watch", {"campaign": ours["id"]}, namespace="/admin", timeout=5) == {
            "ok": True
        }

        stranger = viewers(server.url, name="Stranger")
        stranger.join(theirs.id)
        stranger.say("for the other brand only")
        ana = viewers(server.url, name="Ana")
        token = ana.join(ours["id"])["session"]
        said = ana.say("Hello brand")["message"]
        web_admin.post(
            f"{conversation(ours['id'])}/reply",
            {
                "session": token,
                "reply_id": "r-" + uuid.uuid4().hex,
                "person": maya["id"],
                "text": "Hello Ana",
            },
            csrf_from=conversation(ours["id"]),
        )
        web_admin.post(
            f"{conversation(ours['id'])}/hide",
            {"session": token, "message": str(said["id"]), "person": maya["id"], "reason": "Test"},
            csrf_from=conversation(ours["id"]),
        )
        deadline = time.monotonic() + 5
        while len(heard) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [event for event, _ in heard] == ["message", "message", "hidden"]
        assert heard[0][1] == {"session": token, "message": said}
        assert heard[1][1]["message"]["author"]["name"] == "Maya Lopez"
        assert heard[2][1]["id"] == said["id"] and heard[2][1]["hidden"]["reason"] == "Test"
        assert all(data.get("session") == token for _, data in heard)
    finally:
        team.disconnect()
