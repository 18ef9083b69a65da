"""Issue #5, Redis faults: while Redis is down every event is answered `unavailable` and
/healthz says 503; when it returns, everything recovers without a restart, both pub/sub
listeners included; a worker that silently stopped hearing them (a "deaf worker") fails
/healthz with a reason and heals. Real `serve` processes on a Redis of their own, which these
tests kill, restart and cut off."""

from __future__ import annotations

import time

import pytest
import redis

from socialads.realtime.liveness import RECENT
from socialads.runtime.embedded_redis import EmbeddedRedis
from tests.support.faults import RedisProxy
from tests.support.seeds import seed_campaign
from tests.support.servers import health, serve_process
from tests.support.viewers import Viewer
from tests.support.waiting import wait_until

# Both listeners reconnect within a second of Redis answering again, and a check takes at
# most HEALTH_TIMEOUT (1 s): /healthz is green again well within this.
RECOVERY_BOUND = 3.5
# A deaf listener reconnects after two silent checks (1 s each here), then needs a second to
# notice and up to a second more to subscribe again.
DEAF_BOUND = 2 * 1 + 2 + 1.5
# How long the widget waits for an ack before it gives up on it (static/src: ACK_TIMEOUT).
WIDGET_ACK_TIMEOUT = 8


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    server = EmbeddedRedis(tmp_path_factory.mktemp("fault-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pair(own_redis, tmp_path_factory):
    """Two `serve` processes on the Redis these tests break."""
    log_dir = tmp_path_factory.mktemp("fault-logs")
    started = [serve_process(own_redis.url, log_dir).start() for _ in range(2)]
    yield started
    for server in started:
        server.stop()
    for server in started:
        assert "Traceback" not in server.log_text(), server.log_text()[-3000:]


def unavailable(ack) -> bool:
    return ack["ok"] is False and ack["error"]["code"] == "unavailable"


def answer(viewer: Viewer, event: str, payload) -> dict:
    """The ack of ``event``, which must come before the widget would stop waiting for it: a
    server that stays silent fails this as a timeout (socketio's TimeoutError)."""
    return viewer.call(event, payload, timeout=WIDGET_ACK_TIMEOUT)


def test_redis_down_answers_unavailable_then_everything_recovers(own_redis, pair, viewers):
    a, b = pair
    campaign = seed_campaign(own_redis.url)
    ana, ben = viewers(a.url, name="Ana"), viewers(b.url, name="Ben")
    session = ana.join(campaign["id"])["session"]
    ben.join(campaign["id"], session=session)  # both processes now have the campaign cached
    assert ana.act("before")["total"] == 1

    own_redis.kill()
    down_at = time.monotonic()
    for server in pair:
        assert health(server.url) == (503, {"status": "unavailable"})
    # Every event is answered with `unavailable`, before the widget gives up waiting: never a
    # false ok, never silence.
    for viewer in (ana, ben):
        for event, payload in [
            ("join", {"campaign": campaign["id"], "viewer": viewer.viewer, "session": session}),
            ("act", {"id": "during"}),
            ("say", {"id": "m-during", "text": "anyone?"}),
        ]:
            ack = answer(viewer, event, payload)
            assert unavailable(ack), (event, ack)
    ack = answer(ben, "leave", {})  # leaving needs Redis too (presence lives there)
    assert unavailable(ack)
    # A new connection gets in (it cannot be counted) and is told `unavailable` when it joins.
    late = viewers(a.url)
    ack = answer(late, "join", {"campaign": campaign["id"], "viewer": late.viewer})
    assert unavailable(ack)
    ack = answer(late, "leave", {})
    assert ack["ok"] is True  # it never joined: nothing to leave, nothing to ask Redis

    # Stay down long enough that python-socketio's own listener (backoff 1, 2, 4, 8 s...)
    # would still be waiting when Redis is back: ours reconnects within a second.
    time.sleep(max(0.0, 7.5 - (time.monotonic() - down_at)))
    own_redis.start()
    for server in pair:
        took = wait_until(
            lambda s=server: health(s.url)[0] == 200,
            RECOVERY_BOUND,
            what=f"/healthz of {server.url} green",
        )
        assert health(server.url) == (200, {"status": "ok"}), took

    # The widgets re-join (the snapshot has the data from before the outage)...
    rejoined = ana.join(campaign["id"], session=session)
    assert rejoined["ok"] and rejoined["total"] == 1
    assert ben.join(campaign["id"], session=session)["ok"]
    # ...and re-send what was not acknowledged: `during` was never counted, so it counts now.
    assert ana.act("during") == {"ok": True, "total": 2, "session_total": 2}
    # The campaign's channel, our events: the total reaches the other process.
    ben.wait_for("progress", lambda p: p["total"] == 2, timeout=5)
    # The campaign's channel, python-socketio's emits, both ways: chat crosses again.
    mark = ben.mark()
    ana.say("back again")
    ben.wait_for("message", lambda m: m["text"] == "back again", after=mark, timeout=5)
    mark = ana.mark()
    ben.say("hello Ana")
    ana.wait_for("message", lambda m: m["text"] == "hello Ana", after=mark, timeout=5)


def test_pubsub_connections_killed_by_redis_come_back(own_redis, pair, viewers):
    a, b = pair
    campaign = seed_campaign(own_redis.url)
    ana, ben = viewers(a.url), viewers(b.url)
    session = ana.join(campaign["id"])["session"]
    ben.join(campaign["id"], session=session)
    client = redis.Redis.from_url(own_redis.url)
    # one listener in each process (one Redis: one connection hears every channel)
    wait_until(lambda: len(client.client_list(_type="pubsub")) == 2, 5)
    assert client.client_kill_filter(_type="pubsub") == 2
    time.sleep(RECENT)  # /healthz may answer from a round trip just before the kill
    for server in pair:
        wait_until(lambda s=server: health(s.url)[0] == 200, RECOVERY_BOUND)
    mark = ben.mark()
    ana.say("still there?")
    ben.wait_for("message", lambda m: m["text"] == "still there?", after=mark, timeout=5)


@pytest.fixture
def proxy(own_redis):
    proxy = RedisProxy(own_redis.port)
    yield proxy
    proxy.close()


def test_a_deaf_worker_fails_healthz_and_hears_again(own_redis, pair, proxy, viewers, tmp_path):
    """A process whose listeners wait on connections that silently died: pings still work,
    broadcasts never arrive. /healthz finds it out by a round trip and answers 503 with the
    reason; the second check in a row that finds a listener silent makes it reconnect."""
    a = pair[0]
    # Its own watchdog is off (once an hour): here only /healthz notices.
    deaf = serve_process(proxy.url, tmp_path, SOCIALADS_QUEUE_CHECK_INTERVAL="3600").start()
    try:
        campaign = seed_campaign(own_redis.url)
        ana, ben = viewers(a.url), viewers(deaf.url)
        session = ana.join(campaign["id"])["session"]
        ben.join(campaign["id"], session=session)
        assert health(deaf.url) == (200, {"status": "ok"})

        assert proxy.cut_listeners() == 1  # its one listener (one Redis)
        time.sleep(RECENT)  # past the last good round trip /healthz may still answer from
        status, body = health(deaf.url)
        assert status == 503 and body["status"] == "unavailable", body
        assert body["reason"] == "bus not heard", body
        assert ben.call("leave", {})["ok"]  # it still answers: only its ears are gone

        # the next check reconnects it (two silent checks in a row), the one after is green
        wait_until(
            lambda: health(deaf.url)[0] == 200, DEAF_BOUND, what="the deaf worker hearing again"
        )
        ben.join(campaign["id"], session=session)
        mark = ben.mark()
        ana.say("can you hear me?")
        ben.wait_for("message", lambda m: m["text"] == "can you hear me?", after=mark, timeout=5)
        ana.act()
        ben.wait_for("progress", lambda p: p["total"] == 1, after=mark, timeout=5)
    finally:
        deaf.stop()
    assert "Traceback" not in deaf.log_text()


def test_the_watchdog_heals_a_deaf_worker_nobody_asked_about(
    own_redis, pair, proxy, viewers, tmp_path
):
    a = pair[0]
    deaf = serve_process(proxy.url, tmp_path, SOCIALADS_QUEUE_CHECK_INTERVAL="1").start()
    try:
        campaign = seed_campaign(own_redis.url)
        ana, ben = viewers(a.url), viewers(deaf.url)
        session = ana.join(campaign["id"])["session"]
        ben.join(campaign["id"], session=session)
        assert proxy.cut_listeners() == 1  # its one listener (one Redis)
        # No /healthz call: the watchdog's own round trips (every second, waiting at most
        # HEALTH_TIMEOUT) find it deaf twice in a row and reconnect the listener.
        wait_until(
            lambda: "its listener reconnects" in deaf.log_text(),
            2 * (1 + 1) + 1,
            what="the watchdog noticing",
        )

        def hears() -> bool:
            mark = ben.mark()
            ana.say(f"ping {mark}")
            try:
                ben.wait_for(
                    "message", lambda m: m["text"] == f"ping {mark}", after=mark, timeout=0.5
                )
            except AssertionError:
                return False
            return True

        wait_until(hears, RECOVERY_BOUND, step=0, what="chat reaching the healed worker")
        wait_until(lambda: health(deaf.url)[0] == 200, RECOVERY_BOUND, what="green /healthz")
        mark = ben.mark()
        ana.act()
        ben.wait_for("progress", lambda p: p["total"] == 1, after=mark, timeout=5)
    finally:
        deaf.stop()
    assert "Traceback" not in deaf.log_text()


def test_an_action_counted_whose_ack_was_lost_is_a_duplicate_when_sent_again(
    own_redis, pair, viewers
):
    """Exactly once across a lost ack: the tab goes away right after sending `act` (the
    server counts it, the ack has nowhere to go); the widget, back, sends it again with the
    same id and is told it was counted already."""
    import json

    import websocket

    a, b = pair
    campaign = seed_campaign(own_redis.url)
    ana = viewers(a.url)
    session = ana.join(campaign["id"])["session"]
    url = a.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    raw = websocket.create_connection(url)
    raw.recv()  # Engine.IO open
    raw.send("40")  # Socket.IO connect
    raw.recv()
    raw.send(
        "420"
        + json.dumps(
            ["join", {"campaign": campaign["id"], "session": session, "viewer": "gone-tab"}]
        )
    )
    while not raw.recv().startswith("430"):  # the join's ack (a presence event comes too)
        pass
    raw.send("421" + json.dumps(["act", {"id": "lost-ack"}]))
    raw.close()  # before the ack arrives
    store = redis.Redis.from_url(own_redis.url, decode_responses=True)
    wait_until(
        lambda: store.sismember(f"sa:c:{{{campaign['id']}}}:done:gone-tab", "lost-ack"),
        5,
        what="the action counted",
    )
    back = viewers(b.url, viewer="gone-tab")
    back.join(campaign["id"], session=session)
    assert back.act("lost-ack") == {"ok": True, "total": 1, "session_total": 1, "duplicate": True}


@pytest.mark.browser
def test_the_widget_says_reconnecting_while_redis_is_down(own_redis, pair, chromium):
    """In Chromium: a pledge made while Redis is down turns the unit to "Reconnecting…" (its
    controls off) instead of pretending; when Redis is back it goes live by itself and the
    pledge counts, once."""
    from playwright.sync_api import expect

    campaign = seed_campaign(own_redis.url)
    context = chromium.new_context()
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{pair[0].url}/w/{campaign['id']}")
        status, pledge = (
            page.locator("[data-socialad-status]"),
            page.locator("[data-socialad-action]"),
        )
        expect(pledge).to_be_enabled()
        expect(status).to_have_text("Live")
        own_redis.kill()
        pledge.click()
        expect(status).to_have_text("Reconnecting…")
        expect(pledge).to_be_disabled()
        own_redis.start()
        expect(status).to_have_text("Live", timeout=20_000)
        expect(pledge).to_be_enabled()
        expect(page.locator("[data-socialad-total]")).to_have_text("1")
        page.wait_for_timeout(1500)  # no second count arrives late
        expect(page.locator("[data-socialad-total]")).to_have_text("1")
    finally:
        context.close()
    assert redis.Redis.from_url(own_redis.url).hget(f"sa:c:{{{campaign['id']}}}:n", "total") == b"1"
