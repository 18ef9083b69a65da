"""Issue #5, abuse: floods from one connection, one viewer over several connections and one
address over several viewers are answered `rate_limited` with `retry_after`; an address gets
only so many connects and live connections; normal use never meets a limit. Buckets and
connection counts live in Redis, shared by every process (socialads/realtime/limits.py)."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid

import pytest
import socketio

from socialads.domain import campaigns
from socialads.store.clients import redis_client
from tests.support.seeds import CAMPAIGN
from tests.support.servers import HEARTBEAT, PRESENCE_TTL, serve_process
from tests.support.viewers import Viewer

# Low limits, so a test can meet them; behind one trusted proxy, so each test can speak from
# addresses of its own (X-Forwarded-For). The shared act buckets refill one token in 100 s:
# during a test they hold their burst and no more, however long the test takes.
STRICT = {
    "SOCIALADS_TRUSTED_PROXIES": "1",
    "SOCIALADS_VIEWER_ACT_RATE": "[40, 0.01]",
    "SOCIALADS_IP_ACT_RATE": "[100, 0.01]",
    "SOCIALADS_VIEWER_SAY_RATE": "[30, 5]",
    "SOCIALADS_IP_SAY_RATE": "[50, 5]",
    "SOCIALADS_IP_CONNECT_RATE": "[12, 1]",
    "SOCIALADS_CONNECTIONS_PER_IP": "5",
}


@pytest.fixture(scope="module")
def strict(redis_server, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("limit-logs")
    started = [serve_process(redis_server.url, log_dir, **STRICT).start() for _ in range(2)]
    yield started
    for server in started:
        server.stop()
    for server in started:
        assert "Traceback" not in server.log_text(), server.log_text()[-3000:]


_USED: set[str] = set()


def new_address() -> str:
    """An address of the benchmarking range, new for each use (the buckets of an address one
    test emptied stay empty for the run)."""
    while (address := f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}") in _USED:
        pass
    _USED.add(address)
    return address


@pytest.fixture
def people():
    opened: list[Viewer] = []

    def open_viewer(url: str, ip: str | None = None, **kwargs) -> Viewer:
        headers = {"X-Forwarded-For": ip} if ip else None
        viewer = Viewer(url, headers=headers, **kwargs)
        opened.append(viewer)
        return viewer

    yield open_viewer
    for viewer in opened:
        viewer.close()


def limited(acks: list[dict]) -> list[dict]:
    refused = [ack for ack in acks if not ack["ok"]]
    assert all(ack["error"]["code"] == "rate_limited" for ack in refused), refused
    assert all(ack["retry_after"] > 0 and ack["error"]["retry_after"] > 0 for ack in refused)
    return refused


def try_connect(url: str, ip: str):
    """(a connected client or None, the refusal's data)."""
    refusals: list = []
    client = socketio.Client(reconnection=False)
    client.on("connect_error", lambda data=None: refusals.append(data))
    try:
        client.connect(
            url, headers={"X-Forwarded-For": ip}, transports=["websocket"], wait_timeout=5
        )
    except socketio.exceptions.ConnectionError:
        return None, refusals[0] if refusals else None
    return client, None


def assert_refused(refusal, message: str) -> None:
    assert refusal["message"] == "rate_limited", refusal
    assert refusal["data"]["error"]["code"] == "rate_limited"
    assert message in refusal["data"]["error"]["message"]
    assert refusal["data"]["retry_after"] > 0


@pytest.mark.slow
def test_a_flood_from_one_connection(strict, people, make_campaign):
    ana = people(strict[0].url, ip=new_address())
    ana.join(make_campaign()["id"])
    acts = [ana.act() for _ in range(60)]
    assert len(limited(acts)) >= 20  # per connection: 30 at once, 10 a second
    says = [ana.say(f"hi {i}") for i in range(30)]
    assert len(limited(says)) >= 5  # per connection: 20 at once, 5 a second


@pytest.fixture
def one_part(store, brand):
    """A campaign whose counts are in one part (on the cluster too): an address's bucket is
    then one, exact (over parts, each keeps its share: see the test after these)."""
    return campaigns.create(store, brand["brand_id"], dict(CAMPAIGN), parts=1).to_json()


@pytest.mark.slow
def test_a_flood_from_one_viewer_over_several_connections(strict, people, one_part):
    campaign, ip = one_part, new_address()
    tabs = [people(server.url, ip=ip, viewer="one-person") for server in (*strict, strict[0])]
    for tab in tabs:
        assert tab.join(campaign["id"])["ok"]
    acks = [tab.act() for tab in tabs for _ in range(20)]  # each tab within its own bucket
    refused = limited(acks)
    # The viewer's bucket (40 at once) is shared by the tabs and the processes.
    assert len(acks) - len(refused) == 40, len(refused)
    # Another viewer at the same address is not held back by this one.
    assert people(strict[1].url, ip=ip).join(campaign["id"])["ok"]


@pytest.mark.slow
def test_a_flood_from_one_address_over_several_viewers(strict, people, one_part):
    campaign, ip = one_part, new_address()
    crowd = [people(strict[i % 2].url, ip=ip) for i in range(5)]
    for viewer in crowd:
        assert viewer.join(campaign["id"])["ok"]
    acks = [viewer.act() for viewer in crowd for _ in range(24)]  # each within its buckets
    refused = limited(acks)
    # The address's bucket (100 at once) is shared by its viewers and the processes.
    assert len(acks) - len(refused) == 100, len(refused)
    # Someone at another address acts at once.
    other = people(strict[0].url, ip=new_address())
    other.join(campaign["id"])
    assert other.act()["ok"] is True


@pytest.mark.slow
def test_an_address_over_the_parts_of_a_campaign_is_held_to_its_rate(strict, people, store, brand):
    """In parts (socialads.store.parts), each part keeps an address's bucket at 1/K of its
    rate: the address never gets more than its rate in all, whichever parts its viewers are in."""
    campaign = campaigns.create(store, brand["brand_id"], dict(CAMPAIGN), parts=4).to_json()
    parts = store.counter_parts(campaign["id"])
    ip = new_address()
    crowd = [people(strict[i % 2].url, ip=ip) for i in range(5)]  # its most connections
    for viewer in crowd:
        assert viewer.join(campaign["id"])["ok"]
    accepted = {n: 0 for n in range(4)}
    for viewer in crowd:
        for _ in range(30):  # within its connection's and its own buckets
            if viewer.act().get("ok"):
                accepted[parts.index(viewer.viewer)] += 1
    assert sum(accepted.values()) <= 100
    assert all(count <= 25 for count in accepted.values()), accepted
    used = [n for n in range(4) if any(parts.index(v.viewer) == n for v in crowd)]
    assert all(accepted[n] == 25 for n in used), accepted  # each part's share, and no less


@pytest.mark.slow
def test_connections_beyond_the_cap_per_address_are_refused(strict, people):
    ip = new_address()
    first = [people(strict[i % 2].url, ip=ip) for i in range(5)]  # over both processes
    client, refusal = try_connect(strict[0].url, ip)
    assert client is None
    assert_refused(refusal, "open connections")
    first[0].close()  # one leaves: its place is free at once
    client, refusal = wait_for_connect(strict[1].url, ip)
    client.disconnect()
    # Other addresses are not affected.
    other, _ = try_connect(strict[0].url, new_address())
    other.disconnect()


def wait_for_connect(url: str, ip: str, timeout: float = 3, step: float = 0.1):
    """Connect, trying again every ``step`` seconds (each try takes a connect token)."""
    deadline = time.monotonic() + timeout
    while True:
        client, refusal = try_connect(url, ip)
        if client is not None or time.monotonic() > deadline:
            assert client is not None, refusal
            return client, refusal
        time.sleep(step)


@pytest.mark.slow
def test_too_many_connects_from_one_address_are_refused(strict):
    ip = new_address()
    refusals = []
    for _ in range(20):  # connect and leave, as a reconnect loop would: 12 at once, 1 a second
        client, refusal = try_connect(strict[0].url, ip)
        if client is None:
            refusals.append(refusal)
        else:
            client.disconnect()
    assert len(refusals) >= 5
    assert_refused(refusals[0], "connections lately")


@pytest.mark.slow
def test_the_connections_of_a_dead_process_stop_counting(redis_server, strict, people, tmp_path):
    doomed = serve_process(redis_server.url, tmp_path, **STRICT).start()
    try:
        ip = new_address()
        for _ in range(5):
            people(doomed.url, ip=ip)
        client, refusal = try_connect(strict[0].url, ip)
        assert client is None and refusal is not None
        os.kill(doomed.process.pid, signal.SIGKILL)
        # Counted with an expiry the heartbeat pushes forward: gone once it lapses (TTL +
        # interval, 4 + 1 s in the test servers), and the address may connect again.
        client, _ = wait_for_connect(
            strict[0].url, ip, timeout=2 * (PRESENCE_TTL + HEARTBEAT), step=0.5
        )
        client.disconnect()
    finally:
        doomed.stop()


@pytest.mark.slow
def test_the_address_is_the_peer_unless_proxies_are_trusted(servers, strict, redis_server):
    store = redis_client(redis_server.url, decode_responses=True)
    spoofed = new_address()
    plain, _ = try_connect(servers[0].url, spoofed)  # no trusted proxy: the header is ignored
    behind, _ = try_connect(strict[0].url, spoofed)
    try:
        assert store.zscore("sa:ip:{127.0.0.1}:conns", plain.get_sid()) is not None
        assert store.zscore(f"sa:ip:{{{spoofed}}}:conns", plain.get_sid()) is None
        assert store.zscore(f"sa:ip:{{{spoofed}}}:conns", behind.get_sid()) is not None
    finally:
        plain.disconnect()
        behind.disconnect()


@pytest.mark.slow
def test_normal_use_never_meets_a_limit(servers, make_campaign):
    """Thirty people behind one address (an office), on both processes, with the default
    limits: each joins, pledges 20 times at once and then 5 a second, and chats."""
    campaign = make_campaign()
    failures: list = []

    def person(index: int) -> None:
        viewer = Viewer(servers[index % 2].url)
        try:
            acks = [viewer.join(campaign["id"])]
            acks += [viewer.act() for _ in range(20)]
            for _ in range(10):
                time.sleep(0.2)
                acks.append(viewer.act())
            acks += [viewer.say(f"hello from {index}-{i}") for i in range(3)]
            failures.extend(ack for ack in acks if not ack["ok"])
        finally:
            viewer.close()

    threads = [threading.Thread(target=person, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    total = Viewer(servers[0].url)
    try:
        assert total.join(campaign["id"])["total"] == 30 * 30
    finally:
        total.close()


@pytest.mark.slow
def test_viewer_ids_do_not_escape_their_campaign(strict, people, make_campaign):
    """Buckets are per campaign: a viewer held back in one campaign acts in another."""
    ip = new_address()
    viewer = f"v-{uuid.uuid4().hex}"
    one, two = make_campaign(), make_campaign()
    tabs = [people(strict[0].url, ip=ip, viewer=viewer) for _ in range(3)]
    for tab in tabs:
        tab.join(one["id"])
    acks = [tab.act() for tab in tabs for _ in range(20)]
    assert limited(acks)
    elsewhere = people(strict[1].url, ip=ip, viewer=viewer)
    elsewhere.join(two["id"])
    assert elsewhere.act()["ok"] is True


def test_an_ipv6_subscriber_fills_one_bucket_with_all_its_addresses():
    from socialads.realtime.limits import address_key

    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.7") == address_key("192.0.2.7") == "192.0.2.7"
    assert address_key(None) == "unknown"
