"""CONTRACT §4 over real Socket.IO clients and real `serve` processes sharing one Redis."""

from __future__ import annotations

import os
import signal
import time

import pytest

from socialads.config import Defaults
from tests.support.servers import redis_nodes, serve_process


def test_join_starts_a_session_with_a_full_snapshot(server, viewers, make_campaign):
    campaign = make_campaign()
    ana = viewers(server.url, name="Ana")
    ack = ana.join(campaign["id"])
    assert ack["ok"] is True
    assert ack["invite_url"] == f"{server.url}/s/{ack['session']}"
    assert len(ack["session"]) >= 22  # 128 random bits, URL-safe
    assert ack["members"] == [{"id": ack["members"][0]["id"], "name": "Ana", "self": True}]
    assert (ack["total"], ack["session_total"], ack["goal"]) == (0, 0, 1000)
    assert ack["messages"] == [] and isinstance(ack["state"], dict)
    presence = ana.wait_for("presence")
    assert presence["count"] == 1 and "self" not in presence["members"][0]


def test_a_viewer_without_a_name_gets_a_friendly_one(server, viewers, make_campaign):
    campaign = make_campaign()
    ack = viewers(server.url).join(campaign["id"])
    first, second = ack["members"][0]["name"].split(" ")
    assert first.istitle() and second.istitle()


def test_friends_on_two_processes_share_presence_totals_and_chat(servers, viewers, make_campaign):
    campaign = make_campaign()
    ana = viewers(servers[0].url, name="Ana")
    ben = viewers(servers[1].url, name="Ben")
    session = ana.join(campaign["id"])["session"]
    joined = ben.join(campaign["id"], session=session)
    assert joined["session"] == session
    assert [m["name"] for m in joined["members"]] == ["Ana", "Ben"]
    ana.wait_for("presence", lambda p: p["count"] == 2)

    ack = ana.act("pledge-1")
    assert ack == {"ok": True, "total": 1, "session_total": 1}
    progress = ben.wait_for("progress", lambda p: p["total"] == 1)
    assert progress["session_total"] == 1 and progress["goal"] == 1000

    ben.act("pledge-1")  # the same client id from another viewer is another action
    ana.wait_for("progress", lambda p: p["total"] == 2 and p["session_total"] == 2)

    said = ben.say("Count me in!")
    assert said["ok"] and said["message"]["text"] == "Count me in!"
    message = ana.wait_for("message")
    assert message["author"] == {
        "id": said["message"]["author"]["id"],
        "name": "Ben",
        "brand_person": False,
    }
    assert message["id"] == said["message"]["id"] and isinstance(message["ts"], int)


def test_a_repeated_action_id_never_counts_twice(servers, viewers, make_campaign):
    campaign = make_campaign()
    ana = viewers(servers[0].url)
    session = ana.join(campaign["id"])["session"]
    assert ana.act("same")["total"] == 1
    again = ana.act("same")
    assert again == {"ok": True, "total": 1, "session_total": 1, "duplicate": True}
    # a reconnect on another process re-sends it: still counted once
    ana.close()
    again = viewers(servers[1].url, viewer=ana.viewer)
    again.join(campaign["id"], session=session)
    assert again.act("same")["duplicate"] is True
    assert again.act("other")["total"] == 2


def test_the_campaign_total_reaches_every_session(servers, viewers, make_campaign):
    campaign = make_campaign()
    ana = viewers(servers[0].url)
    stranger = viewers(servers[1].url)
    ana.join(campaign["id"])
    stranger.join(campaign["id"])  # a separate session of the same campaign
    ana.act()
    progress = stranger.wait_for("progress", lambda p: p["total"] == 1)
    assert progress["session_total"] == 0


def test_every_session_hears_its_own_total_whichever_process_counted(
    servers, viewers, make_campaign
):
    """A process reads again only the sessions an action changed (named in the notice of
    the process that counted it) and sends one packet to the sessions whose update is the
    same: each stream still carries its own session's total."""
    campaign = make_campaign()["id"]
    ana, cleo, dan = (viewers(servers[0].url) for _ in range(3))
    ben = viewers(servers[1].url)
    session = ana.join(campaign)["session"]
    cleo.join(campaign)
    dan.join(campaign)
    ben.join(campaign, session=session)  # Ana's friend, counted by the other process
    ben.act()
    ben.act()
    ana.wait_for("progress", lambda p: p["total"] == 2 and p["session_total"] == 2)
    for idle in (cleo, dan):
        idle.wait_for("progress", lambda p: p["total"] == 2 and p["session_total"] == 0)
    cleo.act()
    cleo.wait_for("progress", lambda p: p["total"] == 3 and p["session_total"] == 1)
    ana.wait_for("progress", lambda p: p["total"] == 3 and p["session_total"] == 2)
    dan.wait_for("progress", lambda p: p["total"] == 3 and p["session_total"] == 0)
    ben.wait_for("progress", lambda p: p["total"] == 3 and p["session_total"] == 2)
    # Not only in the end: never a wrong session total on the way (Ana's group counted the
    # first two actions, Cleo's the third, Dan's none).
    expected = {
        "ana": lambda total: min(total, 2),
        "ben": lambda total: min(total, 2),
        "cleo": lambda total: max(total - 2, 0),
        "dan": lambda total: 0,
    }
    for who, viewer in (("ana", ana), ("ben", ben), ("cleo", cleo), ("dan", dan)):
        updates = [d for e, d in viewer.events if e == "progress"]
        assert updates and all(u["session_total"] == expected[who](u["total"]) for u in updates), (
            who,
            updates,
        )


def test_progress_is_coalesced_and_ends_on_the_latest_totals(server, viewers, make_campaign):
    campaign = make_campaign()
    ana = viewers(server.url)
    ben = viewers(server.url)
    session = ana.join(campaign["id"])["session"]
    ben.join(campaign["id"], session=session)
    started = time.monotonic()
    last = None
    for i in range(25):
        last = ana.act(f"burst-{i}")
    elapsed = time.monotonic() - started
    assert last["total"] == 25
    ben.wait_for("progress", lambda p: p["total"] == 25 and p["session_total"] == 25)
    time.sleep(0.3)  # any trailing update has been sent by now
    updates = [d for e, d in ben.events if e == "progress"]
    assert updates[-1]["total"] == 25
    # one per interval at most (about ten a second), however fast the actions came
    assert len(updates) <= (elapsed + 0.3) / Defaults.PROGRESS_INTERVAL + 2, (len(updates), elapsed)


def test_presence_is_coalesced_per_session_and_ends_on_the_latest_roster(
    servers, viewers, make_campaign
):
    campaign = make_campaign()
    ana = viewers(servers[0].url)
    session = ana.join(campaign["id"])["session"]
    ana.wait_for("presence", lambda p: p["count"] == 1)
    mark = ana.mark()
    started = time.monotonic()
    crowd = [viewers(servers[i % 2].url) for i in range(12)]
    for friend in crowd:  # a crowd arrives, on both processes
        assert friend.join(campaign["id"], session=session)["ok"]
    crowd[0].call("leave", {})
    ana.wait_for("presence", lambda p: p["count"] == 12, after=mark)
    time.sleep(Defaults.PRESENCE_INTERVAL + 0.3)  # any trailing roster has been sent by now
    elapsed = time.monotonic() - started
    rosters = [d for e, d in ana.events[mark:] if e == "presence"]
    assert rosters[-1]["count"] == 12
    # one roster a second at most, not one per arrival
    assert len(rosters) <= elapsed / Defaults.PRESENCE_INTERVAL + 1, (len(rosters), elapsed)


def test_chat_history_comes_with_join_and_since(server, viewers, make_campaign):
    campaign = make_campaign()
    ana = viewers(server.url, name="Ana")
    session = ana.join(campaign["id"])["session"]
    ids = [ana.say(f"message {i}")["message"]["id"] for i in range(3)]
    assert ids == sorted(ids)
    ben = viewers(server.url)
    history = ben.join(campaign["id"], session=session)["messages"]
    assert [m["text"] for m in history] == ["message 0", "message 1", "message 2"]
    missed = ben.join(campaign["id"], session=session, since=ids[0])["messages"]
    assert [m["id"] for m in missed] == ids[1:]


def test_a_repeated_message_id_posts_once(server, viewers, make_campaign):
    campaign = make_campaign()
    ana = viewers(server.url)
    ben = viewers(server.url)
    session = ana.join(campaign["id"])["session"]
    ben.join(campaign["id"], session=session)
    first = ana.say("hello", message_id="m1")
    second = ana.say("hello again", message_id="m1")
    assert second["message"] == first["message"]
    ana.say("after", message_id="m2")
    ben.wait_for("message", lambda m: m["text"] == "after")
    assert [d["text"] for e, d in ben.events if e == "message"] == ["hello", "after"]


def test_leaving_updates_presence(servers, viewers, make_campaign):
    campaign = make_campaign()
    ana = viewers(servers[0].url)
    ben = viewers(servers[1].url)
    session = ana.join(campaign["id"])["session"]
    ben.join(campaign["id"], session=session)
    ana.wait_for("presence", lambda p: p["count"] == 2)
    mark = ana.mark()  # ana's own first roster had one member too
    assert ben.call("leave", {}) == {"ok": True}
    ana.wait_for("presence", lambda p: p["count"] == 1, after=mark)
    mark = ana.mark()
    ben.join(campaign["id"], session=session)
    ana.wait_for("presence", lambda p: p["count"] == 2, after=mark)
    mark = ana.mark()
    ben.close()  # a disconnect is a leave
    ana.wait_for("presence", lambda p: p["count"] == 1, after=mark)


@pytest.mark.slow
def test_members_of_a_killed_process_disappear(
    redis_server, servers, viewers, make_campaign, tmp_path
):
    doomed = serve_process(redis_server.url, tmp_path).start()
    try:
        campaign = make_campaign()
        ana = viewers(servers[0].url)
        ghost = viewers(doomed.url)
        session = ana.join(campaign["id"])["session"]
        ghost.join(campaign["id"], session=session)
        ana.wait_for("presence", lambda p: p["count"] == 2)
        os.kill(doomed.process.pid, signal.SIGKILL)
        # presence TTL is 4 s and heartbeats run every second in the test servers
        ana.wait_for("presence", lambda p: p["count"] == 1, timeout=10)
    finally:
        doomed.stop()


def test_must_join_first(server, viewers):
    ana = viewers(server.url)
    assert ana.act("x")["error"]["code"] == "not_joined"
    assert ana.say("hi")["error"]["code"] == "not_joined"


def test_unknown_campaign_and_expired_invite(server, viewers, make_campaign):
    campaign = make_campaign()
    ana = viewers(server.url)
    assert ana.join("c_nope")["error"]["code"] == "not_found"
    ack = ana.join(campaign["id"], session="A" * 22)
    assert ack == {"ok": False, "error": {"code": "not_found", "message": ack["error"]["message"]}}
    other = make_campaign()
    session = viewers(server.url).join(other["id"])["session"]
    # a token of another campaign does not open this one
    assert ana.join(campaign["id"], session=session)["error"]["code"] == "not_found"


def test_inactive_campaigns_refuse_joins_and_actions(server, viewers, make_campaign, store):
    draft = make_campaign(status="draft")
    refused = viewers(server.url).join(draft["id"])["error"]
    assert (refused["code"], refused["status"]) == ("inactive", "draft")
    campaign = make_campaign()
    ana = viewers(server.url)
    ana.join(campaign["id"])
    store.save_campaign(store.get_campaign(campaign["id"]).replace(status="paused"))
    paused = ana.wait_for("progress", lambda p: p.get("status") == "paused")
    assert paused["total"] == 0
    assert ana.act()["error"]["code"] == "inactive"


def test_rate_limits_leave_a_normal_burst_alone(server, viewers, make_campaign):
    campaign = make_campaign()
    ana = viewers(server.url)
    ana.join(campaign["id"])
    acks = [ana.act(f"a{i}") for i in range(20)]
    assert all(ack["ok"] for ack in acks)
    flood = [ana.act(f"b{i}") for i in range(40)]
    limited = [ack for ack in flood if not ack["ok"]]
    assert limited and all(a["error"]["code"] == "rate_limited" for a in limited)
    assert all(a["retry_after"] > 0 for a in limited)
    time.sleep(1)  # the bucket refills: the same connection can act again
    assert ana.act("c")["ok"] is True


@pytest.mark.slow
def test_a_tab_closed_right_after_joining_leaves_no_ghost(server, viewers, make_campaign):
    import json

    import websocket

    campaign = make_campaign()
    ana = viewers(server.url)
    session = ana.join(campaign["id"])["session"]
    url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    for i in range(10):
        raw = websocket.create_connection(url)
        raw.recv()  # Engine.IO open
        raw.send("40")  # Socket.IO connect
        raw.recv()
        raw.send(
            "420"
            + json.dumps(
                ["join", {"campaign": campaign["id"], "session": session, "viewer": f"ghost-{i}"}]
            )
        )
        raw.close()  # gone before the join was answered
    time.sleep(6)  # past the presence TTL (4 s): anything left now is a ghost
    assert ana.join(campaign["id"], session=session)["members"] == [
        {
            "id": ana.joined["members"][0]["id"],
            "name": ana.joined["members"][0]["name"],
            "self": True,
        }
    ]
    # Presence is coalesced and ends on the roster as Redis has it: Ana alone.
    assert ana.latest("presence")["count"] == 1


def test_an_act_sent_right_after_join_finds_the_viewer_joined(server, make_campaign):
    import socketio

    campaign = make_campaign()
    client = socketio.Client(reconnection=False)
    client.connect(server.url, transports=["websocket"])
    try:
        answers = []
        client.emit(
            "join",
            {"campaign": campaign["id"], "viewer": "eager"},
            callback=lambda ack: answers.append(("join", ack)),
        )
        client.emit("act", {"id": "first"}, callback=lambda ack: answers.append(("act", ack)))
        deadline = time.monotonic() + 5
        while len(answers) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [name for name, _ in answers] == ["join", "act"]
        assert answers[1][1]["ok"] is True and answers[1][1]["total"] == 1
    finally:
        client.disconnect()


@pytest.mark.slow
def test_members_stay_present_while_connected(servers, viewers, make_campaign):
    campaign = make_campaign()
    ana = viewers(servers[0].url)
    ben = viewers(servers[1].url)
    session = ana.join(campaign["id"])["session"]
    ben.join(campaign["id"], session=session)
    ana.wait_for("presence", lambda p: p["count"] == 2)
    mark = ana.mark()
    time.sleep(7)  # well past the presence TTL of the test servers (4 s)
    assert len(ana.join(campaign["id"], session=session)["members"]) == 2
    # Nobody dropped out meanwhile: no roster since says otherwise.
    assert all(p["count"] == 2 for e, p in ana.events[mark:] if e == "presence")


def test_progress_recovers_after_a_gap_in_pubsub(servers, viewers, make_campaign, redis_server):

    campaign = make_campaign()
    ana = viewers(servers[0].url)
    ben = viewers(servers[1].url)
    session = ana.join(campaign["id"])["session"]
    ben.join(campaign["id"], session=session)
    # Redis drops every pub/sub connection: the processes must resubscribe and catch up
    for node in redis_nodes(redis_server):
        node.client_kill_filter(_type="pubsub")
    for i in range(3):
        last = ben.act(f"gap-{i}")
    ana.wait_for(
        "progress",
        lambda p: p["total"] == last["total"] and p["session_total"] == last["session_total"],
        timeout=8,
    )


def test_viewers_see_a_scheduled_end_as_it_happens(server, viewers, make_campaign):
    from datetime import UTC, datetime, timedelta

    ends = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    campaign = make_campaign(ends_at=ends)
    ana = viewers(server.url)
    assert ana.join(campaign["id"])["status"] == "live"
    ended = ana.wait_for("progress", lambda p: p.get("status") == "ended", timeout=10)
    assert ended["total"] == 0
    assert ana.act()["error"]["code"] == "inactive"
