"""Fixtures that start real things: a redis-server on a free port, the app, real `socialads
serve` processes, Socket.IO clients and Chromium. The helpers they are built on live in
``tests/support``; test modules import those helpers, never fixtures or other test modules.

Markers, set by folder here (see ``pytest_collection_modifyitems``) and registered in
pyproject.toml: ``browser`` (drives Chromium) and ``slow`` (several `serve` processes of its
own, chaos, nginx). ``pytest -m "not browser"`` is the fast subset,
``pytest -m "not browser and not slow"`` faster still."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from socialads import create_app
from socialads.config import ROOT
from socialads.domain import campaigns
from socialads.domain.accounts import make_brand
from socialads.runtime.embedded_cluster import EmbeddedCluster
from socialads.runtime.embedded_redis import EmbeddedRedis
from socialads.runtime.processes import free_port
from socialads.web.publisher import publisher_app
from tests.support.admin import AdminSession
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT
from tests.support.seeds import CAMPAIGN, SECRET
from tests.support.servers import METRICS_TOKEN, serve_process, serve_wsgi, stop_wsgi
from tests.support.viewers import Viewer

TESTS = Path(__file__).resolve().parent
# Every test in these folders carries these markers.
FOLDER_MARKERS = {"browser": ("browser",), "faults": ("slow",), "deploy": ("slow",)}
# Suites that run on one Redis and again on a Redis Cluster (``redis_kind``).
ON_BOTH = {"realtime", "admin"}
CLUSTER_PARTS = 4  # the parts of a campaign's counts on the test cluster (see counter_parts)


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.path.resolve()
        folder = path.relative_to(TESTS).parts[0] if path.is_relative_to(TESTS) else ""
        for name in FOLDER_MARKERS.get(folder, ()):
            item.add_marker(name)
        # A test elsewhere that opens Chromium says so with @pytest.mark.browser; one that
        # forgot is marked all the same, so `-m "not browser"` never starts a browser.
        if "chromium" in item.fixturenames and not item.get_closest_marker("browser"):
            item.add_marker("browser")


# -- Redis, the app and its store -----------------------------------------------------------


def pytest_generate_tests(metafunc):
    """The suites of ``ON_BOTH`` run twice: on one Redis and on a Redis Cluster."""
    path = Path(str(metafunc.definition.path)).resolve()
    folder = path.relative_to(TESTS).parts[0] if path.is_relative_to(TESTS) else ""
    if folder in ON_BOTH and "redis_server" in metafunc.fixturenames:
        metafunc.parametrize("redis_kind", ["single", "cluster"], indirect=True, scope="session")


@pytest.fixture(scope="session")
def redis_kind(request):
    """Which Redis the test runs on: ``single`` unless its suite runs on both."""
    return getattr(request, "param", "single")


@pytest.fixture(scope="session")
def single_redis(tmp_path_factory):
    # With AOF (appendfsync everysec), as in production: data survives a Redis restart.
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    """A real Redis Cluster: three masters, a replica each (``redis-cli --cluster create``)."""
    cluster = EmbeddedCluster(tmp_path_factory.mktemp("cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_server(request, redis_kind):
    """The Redis of this test: ``.url`` is what the app and the `serve` processes get."""
    return request.getfixturevalue("redis_cluster" if redis_kind == "cluster" else "single_redis")


def counter_parts(redis_kind: str) -> int:
    """On the cluster, campaigns count in parts (socialads.store.parts): every suite that runs
    on both then checks what the parts add up to, against the same figures as one Redis."""
    return CLUSTER_PARTS if redis_kind == "cluster" else 1


@pytest.fixture
def app(redis_server, redis_kind):
    return create_app(
        {
            "REDIS_URL": redis_server.url,
            "COUNTER_PARTS": counter_parts(redis_kind),
            "SECRET_KEY": SECRET,
            "TESTING": True,
            "PUBLIC_URL": "http://127.0.0.1:5999",
            "MESSAGE_QUEUE": False,
        }
    )


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


@pytest.fixture
def make_campaign(store, brand):
    """``make_campaign(**fields)``: a new campaign of ``brand``, ``CAMPAIGN`` with ``fields``,
    as its JSON (``Campaign.to_json()``: what the store keeps and the API shows, less the
    embed links)."""

    def make(**fields):
        return campaigns.create(store, brand["brand_id"], {**CAMPAIGN, **fields}).to_json()

    return make


# -- `serve` processes and the people in them -----------------------------------------------


@pytest.fixture(scope="session")
def servers(redis_server, redis_kind, tmp_path_factory):
    """Two `serve` processes on one Redis: one service."""
    log_dir = tmp_path_factory.mktemp("logs")
    env = {
        "SOCIALADS_METRICS_TOKEN": METRICS_TOKEN,
        "SOCIALADS_COUNTER_PARTS": str(counter_parts(redis_kind)),
    }
    started = [serve_process(redis_server.url, log_dir, **env).start() for _ in range(2)]
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


@pytest.fixture
def admin(app, brand):
    """The logged-in owner of ``brand``."""
    session = AdminSession(app.test_client(), brand["email"], "password123")
    assert session.login().status_code == 302
    return session


# -- Chromium --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium through Playwright, one for the whole run: Playwright's sync API can
    run only once per process, so every module with browser tests shares this one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def browser(chromium):
    """The run's one Chromium, under the name the browser tests use."""
    return chromium


@pytest.fixture
def person(browser):
    """``person()``: a page of a new person, with their own browser profile (cookies,
    storage); every profile is closed after the test."""
    contexts = []

    def open_person():
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT)
        contexts.append(context)
        return context.new_page()

    yield open_person
    for context in contexts:
        context.close()


@pytest.fixture
def publish(server, make_campaign):
    """``publish(**campaign_fields)``: the example news site on http://localhost:PORT with a
    new live campaign embedded (allowed on that origin); returns (origin, campaign)."""
    running = []

    def start(**fields):
        port = free_port()
        origin = f"http://localhost:{port}"
        campaign = make_campaign(allowed_origins=[origin], **fields)
        site = publisher_app(ROOT / "examples" / "publisher", server.url, campaign["id"])
        running.append(serve_wsgi(site, port))
        return origin, campaign

    yield start
    for httpd in running:
        stop_wsgi(httpd)


@pytest.fixture
def publisher(publish):
    """The example news site with a live pledge campaign embedded: (origin, campaign)."""
    return publish()
