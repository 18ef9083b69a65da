"""The delivery path at the floor (socialads.realtime.floor), over real sockets to a real
`serve` process: a socket that stops reading never delays the others and ends on the latest
totals when it reads again; ordered events stay ordered; what /metrics counts is what the
clients received."""

from __future__ import annotations

import json
import socket

import pytest
import requests
import websocket

from tests.support.servers import serve_process
from tests.support.waiting import wait_until

TOKEN = "metrics-token-for-tests"
HUGE = "[1000000, 1000000]"
UNLIMITED = {
    f"SOCIALADS_{name}": HUGE
    for name in ("SAY_RATE", "VIEWER_SAY_RATE", "IP_SAY_RATE", "ACT_RATE", "VIEWER_ACT_RATE")
}


@pytest.fixture(scope="module")
def floor_server(redis_server, tmp_path_factory):
    """A `serve` process of this module's own (its counters are ours alone), with small
    kernel send buffers, so that a client that stops reading fills its socket quickly."""
    server = serve_process(
        redis_server.url,
        tmp_path_factory.mktemp("floor"),
        SOCIALADS_SEND_BUFFER="4096",
        SOCIALADS_METRICS_TOKEN=TOKEN,
        **UNLIMITED,
    ).start()
    yield server
    alive = server.alive()
    server.stop()
    assert alive, "the serve process died"
    assert "Traceback" not in server.log_text(), server.log_text()[-3000:]


def scrape(url: str) -> dict[str, float]:
    """``/metrics`` as {series with labels: value}."""
    answer = requests.get(
        url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    figures = {}
    for line in answer.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            figures[name] = float(value)
    return figures


class RawViewer:
    """A viewer speaking Engine.IO/Socket.IO by hand over a WebSocket whose receive buffer is
    tiny, so that it can stop reading and let the server's side fill up."""

    def __init__(self, url: str):
        self.ws = websocket.create_connection(
            url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
            timeout=10,
            sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),),
        )
        assert self.ws.recv().startswith("0{")
        self.ws.send("40")
        assert self.ws.recv().startswith("40")
        self.events: list[tuple[str, dict]] = []

    def join(self, campaign: str) -> dict:
        self.ws.send("420" + json.dumps(["join", {"campaign": campaign, "viewer": "slow"}]))
        while True:
            packet = self.read()
            if packet.startswith("430"):
                return json.loads(packet[3:])[0]

    def read(self) -> str:
        """The next packet; events are recorded, pings answered."""
        packet = self.ws.recv()
        if packet == "2":
            self.ws.send("3")
        elif packet.startswith("42"):
            name, data = json.loads(packet[2:])
            self.events.append((name, data))
        return packet

    def close(self) -> None:
        self.ws.close()


def test_a_socket_that_stops_reading_delays_nobody_and_ends_on_the_latest(
    floor_server, viewers, make_campaign
):
    cid = make_campaign()["id"]
    slow = RawViewer(floor_server.url)
    try:
        session = slow.join(cid)["session"]
        fast = viewers(floor_server.url)
        assert fast.join(cid, session=session)["ok"]
        other = viewers(floor_server.url)  # another session of the campaign
        assert other.join(cid)["ok"]
        # The slow viewer reads nothing from here on: its kernel buffers fill, then the
        # server holds its frames. Everyone else still gets every message, in order, and
        # the latest totals.
        texts = [f"{n:03d} " + "x" * 480 for n in range(120)]
        for text in texts:
            assert fast.say(text)["ok"]
        # Ten acts, each seen by the others before the next: ten progress updates went out.
        for _ in range(10):
            total = other.act()["total"]
            other.wait_for("progress", lambda p, total=total: p["total"] == total)
        fast.wait_for("message", lambda m: m["text"] == texts[-1])
        heard = [m["text"] for name, m in fast.events if name == "message"]
        assert heard == texts
        fast.wait_for("progress", lambda p: p["total"] == total)
        other.wait_for("progress", lambda p: p["total"] == total)
        figures = scrape(floor_server.url)
        assert figures["socialads_sockets_holding_back"] >= 1
        assert figures["socialads_frames_merged_total"] >= 0

        # Reading again, the slow viewer gets every message in order and ends on `total`;
        # progress it missed meanwhile was replaced, never queued up.
        def done():
            latest = [d for name, d in slow.events if name == "progress"]
            messages = [1 for name, _ in slow.events if name == "message"]
            return bool(latest) and latest[-1]["total"] == total and len(messages) == len(texts)

        wait_until(
            lambda: done() or (slow.read() and done()),
            timeout=20,
            step=0,
            what="the slow viewer caught up",
        )
        said = [m["text"] for name, m in slow.events if name == "message"]
        assert said == texts
        progress = [d for name, d in slow.events if name == "progress"]
        assert len(progress) < 10  # the held ones were replaced by the latest
        assert scrape(floor_server.url)["socialads_progress_replaced_total"] >= 1
    finally:
        slow.close()


def test_metrics_count_what_the_clients_received(floor_server, viewers, make_campaign):
    cid = make_campaign()["id"]
    before = scrape(floor_server.url)
    people = [viewers(floor_server.url) for _ in range(5)]
    session = None
    for person in people:
        ack = person.join(cid, session=session)
        assert ack["ok"]
        session = session or ack["session"]
    total = 0
    for n in range(12):
        ack = people[n % 5].act(f"a{n}")
        assert ack["ok"]
        total = ack["total"]
    assert people[0].act("a0")["duplicate"]  # counted as a duplicate, nothing more
    assert people[1].say("hello, everyone")["ok"]
    for person in people:
        person.wait_for("progress", lambda p: p["total"] == total)
        person.wait_for("message", lambda m: m["text"] == "hello, everyone")

    def received(event: str) -> int:
        return sum(1 for person in people for name, _ in person.events if name == event)

    def sent(event: str) -> float:
        key = f'socialads_updates_sent_total{{event="{event}"}}'
        return scrape(floor_server.url)[key] - before[key]

    # Presence may still be settling (one per join, coalesced): wait until nothing is on the
    # way, then the server's counts are exactly what the clients heard.
    for event in ("progress", "presence", "message"):
        wait_until(
            lambda event=event: sent(event) == received(event),
            timeout=10,
            what=f"{event} counted as received",
        )
    after = scrape(floor_server.url)
    assert received("message") == 5
    assert (
        after['socialads_actions_total{result="ok"}']
        - before['socialads_actions_total{result="ok"}']
        == 12
    )
    assert (
        after['socialads_actions_total{result="duplicate"}']
        - before['socialads_actions_total{result="duplicate"}']
        == 1
    )
    assert after["socialads_viewers"] >= 5
    assert after["socialads_connections"] >= 5
    assert after["socialads_redis_up"] == 1
    assert after["socialads_ack_seconds_count"] - before["socialads_ack_seconds_count"] == 13
    assert (
        after["socialads_bus_messages_received_total"]
        > before["socialads_bus_messages_received_total"]
    )
    # One frame per distinct payload: a message to five viewers is built once.
    assert after["socialads_frames_built_total"] - before["socialads_frames_built_total"] < (
        received("progress") + received("presence") + received("message")
    )
    # No label carries an id: every series name is one of a few, whatever the traffic.
    assert not any(cid in name or session in name for name in after)
