"""Fixtures that start real things: a redis-server on a free port, the app, real `socialads
serve` processes, Socket.IO clients and Chromium."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest
import socketio
import websocket

from socialads import create_app
from socialads.domain import campaigns
from socialads.runtime.cli import make_brand
from socialads.runtime.embedded_redis import EmbeddedRedis
from socialads.runtime.processes import ServeProcess

SECRET = "test-secret-key"


def websocket_open_packet(base_url: str, origin: str, **options) -> str | None:
    """The Engine.IO open packet ("0{sid...}") a WebSocket handshake from ``origin`` to the
    server at ``base_url`` (http or https) gets, or None: the server refuses a foreign origin
    by closing the socket without one (gevent-websocket completes the upgrade before
    Engine.IO sees the request). ``options`` go to websocket-client (e.g. ``sslopt``)."""
    url = base_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    raw = websocket.create_connection(url, origin=origin, timeout=10, **options)
    try:
        return raw.recv() or None
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        return None
    finally:
        raw.close()
        raw.shutdown()  # close() leaves the socket open once the server has closed it


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    # With AOF (appendfsync everysec), as in production: data survives a Redis restart.
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def app(redis_server):
    return create_app({
        "REDIS_URL": redis_server.url, "SECRET_KEY": SECRET, "TESTING": True,
        "PUBLIC_URL": "http://127.0.0.1:5999", "MESSAGE_QUEUE": False,
    })


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(app):
    return app.extensions["socialads.store"]


@pytest.fixture
def brand(store):
    """A fresh brand with an API token."""
    suffix = uuid.uuid4().hex[:8]
    return make_brand(store, f"Brand {suffix}", f"owner-{suffix}@example.test", "password123")


CAMPAIGN = {
    "name": "Clean the bay",
    "activity": "pledge",
    "cause": {"title": "Clean the bay", "description": "Pledge to pick up litter on the bay."},
    "goal": 1000,
    "promise": "At 1,000 pledges, Brand funds ten clean-up days.",
    "status": "live",
}


@pytest.fixture
def make_campaign(store, brand):
    def make(**fields):
        return campaigns.create(store, brand["brand_id"], {**CAMPAIGN, **fields})

    return make


def serve_process(redis_url: str, log_dir: Path, **env: str) -> ServeProcess:
    """A `serve` process with presence tuned for quick tests: TTL 4 s, heartbeat 1 s;
    ``env``: more SOCIALADS_* settings."""
    return ServeProcess(redis_url, log_dir, SECRET, **{"SOCIALADS_PRESENCE_TTL": "4",
                                                       "SOCIALADS_HEARTBEAT_INTERVAL": "1",
                                                       **env})


@pytest.fixture(scope="session")
def servers(redis_server, tmp_path_factory):
    """Two `serve` processes on one Redis: one service."""
    log_dir = tmp_path_factory.mktemp("logs")
    started = [serve_process(redis_server.url, log_dir).start() for _ in range(2)]
    yield started
    # Whatever the tests threw at them, the processes stayed up and logged no traceback.
    alive = [server.alive() for server in started]
    for server in started:
        server.stop()
    assert all(alive), "a serve process died during the tests"
    for server in started:
        assert "Traceback" not in server.log_text(), server.log_text()[-3000:]


@pytest.fixture
def server(servers):
    return servers[0]


class Viewer:
    """A person in a widget, through a real Socket.IO client."""

    def __init__(self, url: str, viewer: str | None = None, name: str | None = None,
                 headers: dict | None = None):
        self.url = url
        self.viewer = viewer or "v-" + uuid.uuid4().hex
        self.name = name
        self.events: list[tuple[str, object]] = []
        self.changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._record)
        self.sio.connect(url, headers=headers or {}, transports=["websocket"], wait_timeout=10)
        self.session = None
        self.joined = None

    def _record(self, event, data=None):
        with self.changed:
            self.events.append((event, data))
            self.changed.notify_all()

    def call(self, event: str, payload=None, timeout: float = 5):
        return self.sio.call(event, payload, timeout=timeout)

    def join(self, campaign: str, session: str | None = None, **extra) -> dict:
        payload = {"campaign": campaign, "viewer": self.viewer, **extra}
        if session:
            payload["session"] = session
        if self.name:
            payload.setdefault("name", self.name)
        ack = self.call("join", payload)
        if ack.get("ok"):
            self.session, self.joined = ack["session"], ack
        return ack

    def act(self, action_id: str | None = None, **extra) -> dict:
        return self.call("act", {"id": action_id or uuid.uuid4().hex, **extra})

    def say(self, text: str, message_id: str | None = None) -> dict:
        return self.call("say", {"id": message_id or uuid.uuid4().hex, "text": text})

    def mark(self) -> int:
        """A point in the event history: ``wait_for(..., after=mark)`` ignores older ones."""
        with self.changed:
            return len(self.events)

    def wait_for(self, event: str, predicate=lambda data: True, timeout: float = 5,
                 after: int = 0):
        """The first `event` (recorded since ``after`` or arriving) satisfying predicate."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for name, data in self.events[after:]:
                    if name == event and predicate(data):
                        return data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [e for e in self.events if e[0] == event][-3:]
                    raise AssertionError(f"no matching {event!r} within {timeout}s; last: {seen}")
                self.changed.wait(remaining)

    def latest(self, event: str):
        with self.changed:
            matching = [data for name, data in self.events if name == event]
        return matching[-1] if matching else None

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


@pytest.fixture
def viewers():
    """Open viewers on demand: ``viewers(server.url, name="Ana")``; all closed after."""
    opened: list[Viewer] = []

    def open_viewer(url: str, **kwargs) -> Viewer:
        viewer = Viewer(url, **kwargs)
        opened.append(viewer)
        return viewer

    yield open_viewer
    for viewer in opened:
        viewer.close()


class AdminSession:
    """A brand user in the admin, through the real login form (CSRF token included)."""

    def __init__(self, client, email: str, password: str):
        import random

        self.client = client
        self.email = email
        self.password = password
        # Failed logins are limited per address too: give each person their own, so one test's
        # failures never lock another test out.
        octets = (random.randrange(256), random.randrange(256), random.randrange(1, 255))
        client.environ_base["REMOTE_ADDR"] = "10.{}.{}.{}".format(*octets)

    def csrf(self, path: str = "/admin/login") -> str:
        import re

        page = self.client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def login(self, password: str | None = None):
        return self.client.post("/admin/login", data={
            "email": self.email, "password": password or self.password,
            "csrf_token": self.csrf()})

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, csrf_from: str | None = None, **kwargs):
        """POST a form with a valid CSRF token taken from ``csrf_from`` (default: the path)."""
        return self.client.post(path, data={**(data or {}),
                                            "csrf_token": self.csrf(csrf_from or path)}, **kwargs)


@pytest.fixture
def admin(app, brand):
    """The logged-in owner of ``brand``."""
    session = AdminSession(app.test_client(), brand["email"], "password123")
    assert session.login().status_code == 302
    return session


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium through Playwright, one for the whole run: Playwright's sync API can
    run only once per process, so every module with browser tests shares this one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
