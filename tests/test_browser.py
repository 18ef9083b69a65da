"""End to end in Debian's Chromium: a publisher page on one origin (localhost) embeds the unit
served from another (127.0.0.1); people pledge, invite a friend and see each other live."""

from __future__ import annotations

import re
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from socialads.config import ROOT
from socialads.embedded_redis import free_port
from socialads.publisher import publisher_app

TIMEOUT = 10_000


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@pytest.fixture(scope="session")
def browser(chromium):
    """The run's one Chromium (conftest), under the name other modules import from here."""
    return chromium


@pytest.fixture
def publisher(server, make_campaign):
    """The example news site on http://localhost:PORT with a live campaign embedded."""
    port = free_port()
    origin = f"http://localhost:{port}"
    campaign = make_campaign(allowed_origins=[origin])
    app = publisher_app(ROOT / "examples" / "publisher", server.url, campaign["id"])
    httpd = make_server("127.0.0.1", port, app, server_class=_ThreadingServer,
                        handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield origin, campaign
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def person(browser):
    """A person with their own browser profile (cookies, storage)."""
    contexts = []

    def open_person():
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT)
        contexts.append(context)
        return context.new_page()

    yield open_person
    for context in contexts:
        context.close()


def unit(page):
    return page.frame_locator("iframe").first


def expect_text(locator, pattern):
    from playwright.sync_api import expect

    expect(locator).to_have_text(re.compile(pattern), timeout=TIMEOUT)


def test_pledge_invite_and_see_each_other_live(person, publisher, server):
    from playwright.sync_api import expect

    origin, campaign = publisher
    ana = person()
    requests_seen: list[str] = []
    ana.on("request", lambda request: requests_seen.append(request.url))
    ana.goto(origin + "/")
    ana_unit = unit(ana)
    pledge = ana_unit.locator("[data-socialad-action]")
    expect(pledge).to_be_enabled(timeout=TIMEOUT)
    expect_text(ana_unit.locator("[data-socialad-status]"), r"Live")
    pledge.click()
    expect_text(ana_unit.locator("[data-socialad-total]"), r"^1$")
    expect_text(ana_unit.locator("[data-socialad-session-total]"), r"^1$")

    invite = ana_unit.locator("[data-socialad-invite]")
    invite.click()
    invite_url = invite.get_attribute("data-invite-url")
    assert invite_url.startswith(f"{server.url}/s/")

    ben = person()
    ben.goto(invite_url)  # the friend follows the link: our landing page, same session
    ben_pledge = ben.locator("[data-socialad-action]")
    expect(ben_pledge).to_be_enabled(timeout=TIMEOUT)
    expect_text(ben.locator("[data-socialad-presence]"), r"\b2\b")
    expect_text(ana_unit.locator("[data-socialad-presence]"), r"\b2\b")
    expect_text(ben.locator("[data-socialad-total]"), r"^1$")
    ben_pledge.click()
    for where in (ana_unit, ben):
        expect_text(where.locator("[data-socialad-total]"), r"^2$")
        expect_text(where.locator("[data-socialad-session-total]"), r"^2$")

    chat = ben.locator("[data-socialad-chat-input]")
    chat.fill("<b>Planting</b> with you!")
    chat.press("Enter")
    expect_text(ana_unit.locator("[data-socialad-chat-log]"), r"<b>Planting</b> with you!")
    assert ana_unit.locator("[data-socialad-chat-log] b").count() == 0  # shown as text

    # trust: no cookies, and nothing loaded from anyone but the publisher and us
    assert ana.context.cookies() == [] and ben.context.cookies() == []
    assert all(url.startswith((origin, server.url, server.url.replace("http", "ws")))
               for url in requests_seen), requests_seen


def test_a_friend_joins_on_the_publisher_page_by_hash(person, publisher):
    from playwright.sync_api import expect

    origin, _ = publisher
    ana = person()
    ana.goto(origin + "/")
    invite = unit(ana).locator("[data-socialad-invite]")
    expect(invite).to_be_enabled(timeout=TIMEOUT)
    token = invite.get_attribute("data-invite-url").rsplit("/", 1)[1]

    ben = person()
    ben.goto(f"{origin}/#socialad={token}")
    expect_text(unit(ben).locator("[data-socialad-presence]"), r"\b2\b")
    expect_text(unit(ana).locator("[data-socialad-presence]"), r"\b2\b")


def test_the_frame_follows_the_unit_height_and_several_units_fit_a_page(person, publisher):
    from playwright.sync_api import expect

    origin, _ = publisher
    page = person()
    page.goto(origin + "/two-units.html")
    frames = page.locator("iframe")
    expect(frames).to_have_count(2, timeout=TIMEOUT)
    for index in range(2):
        expect(page.frame_locator("iframe").nth(index).locator("[data-socialad-action]")
               ).to_be_enabled(timeout=TIMEOUT)
    page.wait_for_function(
        "() => [...document.querySelectorAll('iframe')].every(f => f.style.height && "
        "f.style.height !== '460px')", timeout=TIMEOUT)
    page.evaluate("window.socialads.init()")  # idempotent for single-page sites
    expect(frames).to_have_count(2)


def test_a_publisher_not_on_the_list_cannot_frame_the_unit(person, publisher, server,
                                                           make_campaign):
    origin, _ = publisher
    elsewhere = make_campaign(allowed_origins=["https://news.example"])
    page = person()
    page.goto(origin + "/")
    page.evaluate(
        """id => { const d = document.createElement('div'); d.className = 'socialad';
                  d.dataset.campaign = id; d.id = 'other'; document.body.append(d);
                  window.socialads.init(); }""", elsewhere["id"])
    frame_element = page.locator("#other iframe")
    assert elsewhere["id"] in frame_element.get_attribute("src")
    page.wait_for_timeout(1500)
    # Chromium replaces a frame refused by frame-ancestors with an error document
    blocked = frame_element.element_handle().content_frame()
    assert blocked.url.startswith("chrome-error://"), blocked.url
    assert blocked.locator("[data-socialad-action]").count() == 0
    # while the allowed unit on the same page works
    assert unit(page).locator("[data-socialad-action]").count() == 1
