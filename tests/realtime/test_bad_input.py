"""Bad input never crashes a process: every event answers with a contract error ack."""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path

import pytest
import requests
import socketio

from tests.support.acks import assert_error
from tests.support.viewers import websocket_open_packet


@pytest.mark.parametrize(
    "payload",
    [
        None,
        5,
        "join",
        [],
        {},
        {"campaign": 5, "viewer": "v"},
        {"campaign": "c", "viewer": 5},
        {"campaign": "../../etc", "viewer": "v"},
        {"campaign": "c", "viewer": ""},
        {"campaign": "c", "viewer": "v" * 65},
        {"campaign": "c", "viewer": "v", "name": "n" * 41},
        {"campaign": "c", "viewer": "v", "since": -1},
        {"campaign": "c", "viewer": "v", "since": True},
        {"campaign": "c", "viewer": "v", "session": "short"},
        {"campaign": "c", "viewer": "a\nb"},
        {"campaign": "c", "viewer": "v", "admin": True},
    ],
)
def test_bad_joins(server, viewers, payload):
    ack = viewers(server.url).call("join", payload)
    assert_error(ack)
    assert ack["error"]["code"] in {"invalid", "too_large"}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (None, "invalid"),
        ([], "invalid"),
        ({}, "invalid"),
        ({"id": 7}, "invalid"),
        ({"id": ""}, "invalid"),
        ({"id": "x" * 65}, "invalid"),
        ({"id": "a", "kind": "vote"}, "invalid"),
        ({"id": "a", "data": {"amount": 1000}}, "invalid"),
        ({"id": "a", "data": []}, "invalid"),
        ({"id": "a", "data": {"x": "y" * 9000}}, "too_large"),
        ({"id": "a", "extra": 1}, "invalid"),
    ],
)
def test_bad_actions(joined, payload, code):
    assert_error(joined.call("act", payload), code)
    assert joined.act()["ok"]  # the connection still works


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (None, "invalid"),
        ({"id": "m"}, "invalid"),
        ({"id": "m", "text": ""}, "invalid"),
        ({"id": "m", "text": "   "}, "invalid"),
        ({"id": "m", "text": 5}, "invalid"),
        ({"id": "m", "text": "x" * 501}, "too_large"),
        ({"text": "hi"}, "invalid"),
    ],
)
def test_bad_messages(joined, payload, code):
    assert_error(joined.call("say", payload), code)


def test_bad_leave_and_unknown_events(joined):
    assert_error(joined.call("leave", {"now": True}), "invalid")
    assert_error(joined.call("explode", {}), "invalid")
    assert_error(joined.call("join", {"a": 1}), "invalid")
    assert_error(joined.call("join", "one"), "invalid")


def test_a_frame_over_the_limit_drops_only_that_connection(server, viewers, joined):
    """`max_http_buffer_size` (MAX_SOCKET_FRAME, 64 KiB): the transport refuses the frame and
    closes that client's connection; everyone else goes on, and the process stays up."""
    brute = viewers(server.url)
    with pytest.raises(socketio.exceptions.TimeoutError):
        brute.call("act", {"id": "a", "data": {"x": "y" * 100_000}}, timeout=2)
    deadline = time.monotonic() + 5
    while brute.sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not brute.sio.connected, "the server kept a connection that sent an oversize frame"
    assert joined.act()["ok"]
    assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}


# -- origins: no cross-site WebSocket hijacking ----------------------------------------------


def engineio_open(server, origin: str, transport: str) -> str | None:
    """The Engine.IO open packet ("0{sid...}") a handshake from ``origin`` gets, or None."""
    if transport == "polling":
        answer = requests.get(
            server.url + "/socket.io/?EIO=4&transport=polling",
            headers={"Origin": origin},
            timeout=10,
        )
        if answer.status_code != 200:
            assert answer.status_code == 400, answer.text
            assert "Access-Control-Allow-Origin" not in answer.headers
            return None
        assert answer.headers["Access-Control-Allow-Origin"] == origin
        return answer.text
    return websocket_open_packet(server.url, origin)


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_sockets_are_accepted_from_our_own_origin_only(server, transport):
    """A page elsewhere could open a socket to us with its visitor's browser (cross-site
    WebSocket hijacking): only the widget's own origin, ours, may talk to the server."""
    own = engineio_open(server, server.url, transport)
    assert own and own.startswith('0{"sid":'), own
    for foreign in (
        "https://evil.example",
        "null",
        server.url.replace("127.0.0.1", "localhost"),
        server.url.replace("http:", "https:"),
        server.url + ".evil.example",
    ):
        assert engineio_open(server, foreign, transport) is None, foreign
    assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}


class _TouchWhenUnpickled:
    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return Path.touch, (self.path,)


def tap(store, channels: list[str]) -> list:
    """Connections hearing ``channels`` as published (bytes, not decoded): one on one Redis,
    one per channel on its slot's master on a cluster (sharded pub/sub). Each keeps its
    client: a client collected closes its pool, and the pub/sub connection with it."""
    client = store.listener_connection()
    if not store.events.cluster:
        pubsub = client.pubsub()
        pubsub.subscribe(*channels)
        pubsub.client = client
        return [pubsub]
    taps = []
    for channel in channels:
        pubsub = client.get_redis_connection(client.get_node_from_key(channel)).pubsub()
        pubsub.ssubscribe(channel)
        pubsub.client = client
        taps.append(pubsub)
    return taps


def test_the_bus_carries_json_only(servers, store, viewers, make_campaign, tmp_path):
    """What crosses between processes on Redis is JSON, and what is not JSON is ignored: a
    pickle published there (by anyone who reached Redis) is never unpickled, bytes that are
    not UTF-8 stop nothing, and chat and totals still cross."""
    cid = make_campaign()["id"]
    channels = [store.events_channel, store.keys.bus(cid)]
    taps = tap(store, channels)
    ana, ben = viewers(servers[0].url), viewers(servers[1].url)
    assert ana.join(cid)["ok"] and ben.join(cid, session=ana.session)["ok"]
    marker = tmp_path / "unpickled"
    poison = [
        pickle.dumps(_TouchWhenUnpickled(marker), protocol=0),
        pickle.dumps(_TouchWhenUnpickled(marker)),
        b"not json at all",
        b"\xff\xfe not UTF-8",
        b'{"k": "b", "c": 5}',
        b'{"method": "emit"}',
        b'["k", "p"]',
        b"{}",
    ]
    for channel in channels:
        for data in poison:
            store.events.publish(channel, data)
    # Chat and totals still cross from one process to the other.
    mark = ben.mark()
    assert ana.say("after the poison")["ok"]
    ben.wait_for("message", lambda m: m["text"] == "after the poison", after=mark)
    assert ben.act()["ok"]
    ana.wait_for("progress", lambda p: p["session_total"] >= 1)
    heard = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        messages = [pubsub.get_message(timeout=0.3) for pubsub in taps]
        if not any(messages):
            break  # quiet: everything published has arrived
        heard += [m["data"] for m in messages if m and m["type"] in ("message", "smessage")]
    for pubsub in taps:
        pubsub.close()
    assert not marker.exists(), "a process unpickled a message from Redis"
    ours = [data for data in heard if data not in poison]
    assert ours, "nothing crossed the bus"
    for data in ours:
        json.loads(data)  # every message of ours is JSON
    for server in servers:
        assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}
        assert "Traceback" not in server.log_text(), server.log_text()[-3000:]
        assert "ignored a message on the bus that is not ours" in server.log_text()


# -- HTTP bodies against the real server (gevent's WSGI server, not the test client) --------


def test_the_api_refuses_bodies_it_cannot_take_with_json_errors(server, brand):
    url = server.url + "/api/v1/campaigns"
    auth = {"Authorization": f"Bearer {brand['api_token']}"}

    def post(body, content_type="application/json"):
        answer = requests.post(
            url, data=body, timeout=30, headers={**auth, "Content-Type": content_type}
        )
        assert answer.headers["Content-Type"] == "application/json", answer.text
        return answer.status_code, answer.json()["error"]["code"]

    assert post("name=x", "application/x-www-form-urlencoded") == (415, "unsupported_media_type")
    assert post('{"name": "x"}', "text/plain") == (415, "unsupported_media_type")
    over = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    assert post(over) == (413, "too_large")
    # Without Content-Length (chunked) werkzeug used to cut the body at 1 MiB, which then
    # answered 400 "not valid JSON" (or, padded with spaces, passed as a smaller body).
    assert post(iter([over[i : i + 65536] for i in range(0, len(over), 65536)])) == (
        413,
        "too_large",
    )
    padded = b'{"name": "x"}' + b" " * (1024 * 1024)
    assert post(iter([padded[i : i + 65536] for i in range(0, len(padded), 65536)])) == (
        413,
        "too_large",
    )
    assert post(iter([b'{"name": ', b'"x"}'])) == (422, "invalid")  # small chunked bodies work
    assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}
