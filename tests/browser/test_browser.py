"""End to end in Debian's Chromium: a publisher page on one origin (localhost) embeds the unit
served from another (127.0.0.1); people pledge, invite a friend and see each other live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from socialads.activities import load_activities
from tests.support.browser import TIMEOUT, axe_violations, expect_text, unit


def test_pledge_invite_and_see_each_other_live(person, publisher, server):
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
    assert all(
        url.startswith((origin, server.url, server.url.replace("http", "ws")))
        for url in requests_seen
    ), requests_seen


def test_a_browser_that_cannot_open_a_websocket_takes_part_over_long_polling(
    person, publisher, server
):
    """A proxy that refuses WebSocket upgrades: the widget falls back to long-polling
    (socket.io-client's tryAllTransports) and works the same."""
    origin, _ = publisher
    ana = person()
    # As behind such a proxy: every WebSocket fails before it opens.
    ana.add_init_script(
        """window.WebSocket = class extends EventTarget {
             constructor(url) {
               super();
               this.url = url;
               this.readyState = 0;
               (window.__refused = window.__refused || []).push(url);
               setTimeout(() => {
                 this.readyState = 3;
                 this.onerror?.(new Event('error'));
                 this.onclose?.({ code: 1006, reason: '' });
               }, 5);
             }
             send() {}
             close() {}
           };"""
    )
    polls: list[str] = []
    ana.on(
        "request",
        lambda request: polls.append(request.url) if "transport=polling" in request.url else None,
    )
    ana.goto(origin + "/")
    ana_unit = unit(ana)
    pledge = ana_unit.locator("[data-socialad-action]")
    expect(pledge).to_be_enabled(timeout=TIMEOUT)
    pledge.click()
    expect_text(ana_unit.locator("[data-socialad-total]"), r"^1$")
    frame = next(f for f in ana.frames if f.url.startswith(server.url + "/w/"))
    assert frame.evaluate("(window.__refused || []).length") >= 1
    assert polls and all(url.startswith(server.url) for url in polls), polls


def test_a_friend_joins_on_the_publisher_page_by_hash(person, publisher):
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


def test_a_unit_on_screen_at_load_goes_live_without_waiting_to_see_itself(browser, publisher):
    """embed.js tells a frame whose slot is on screen (#...&v=1), which loads its live code at
    once instead of after its first IntersectionObserver report."""
    origin, _ = publisher
    context = browser.new_context(viewport={"width": 1000, "height": 2000})  # unit on screen
    context.set_default_timeout(TIMEOUT)
    try:
        page = context.new_page()
        page.goto(origin + "/")
        frame = page.locator("iframe").first
        expect(frame).to_have_attribute("src", re.compile(r"#o=[^&]+&f=1&v=1$"))
        expect(unit(page).locator("[data-socialad-action]")).to_be_enabled()
    finally:
        context.close()


def test_the_frame_follows_the_unit_height_and_several_units_fit_a_page(person, publisher):
    origin, _ = publisher
    page = person()
    page.goto(origin + "/two-units.html")
    frames = page.locator("iframe")
    expect(frames).to_have_count(2, timeout=TIMEOUT)
    for index in range(2):
        expect(unit(page, index).locator("[data-socialad-action]")).to_be_enabled(timeout=TIMEOUT)
    page.wait_for_function(
        "() => [...document.querySelectorAll('iframe')].every(f => f.style.height && "
        "f.style.height !== '460px')",
        timeout=TIMEOUT,
    )
    page.evaluate("window.socialads.init()")  # idempotent for single-page sites
    expect(frames).to_have_count(2)


def test_a_publisher_not_on_the_list_cannot_frame_the_unit(
    person, publisher, server, make_campaign
):
    origin, _ = publisher
    elsewhere = make_campaign(allowed_origins=["https://news.example"])
    page = person()
    page.goto(origin + "/")
    page.evaluate(
        """id => { const d = document.createElement('div'); d.className = 'socialad';
                  d.dataset.campaign = id; d.id = 'other'; document.body.append(d);
                  window.socialads.init(); }""",
        elsewhere["id"],
    )
    frame_element = page.locator("#other iframe")
    assert elsewhere["id"] in frame_element.get_attribute("src")
    page.wait_for_timeout(1500)
    # Chromium replaces a frame refused by frame-ancestors with an error document
    blocked = frame_element.element_handle().content_frame()
    assert blocked.url.startswith("chrome-error://"), blocked.url
    assert blocked.locator("[data-socialad-action]").count() == 0
    # while the allowed unit on the same page works
    assert unit(page).locator("[data-socialad-action]").count() == 1


def test_the_first_paint_opens_no_socket_until_the_unit_is_in_view(browser, publisher, server):
    origin, _ = publisher
    context = browser.new_context(viewport={"width": 1000, "height": 500})
    context.set_default_timeout(TIMEOUT)
    try:
        page = context.new_page()
        sockets, ours = [], []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        page.on(
            "request",
            lambda request: (
                ours.append(request.url) if request.url.startswith(server.url) else None
            ),
        )
        page.goto(origin + "/")
        frame = page.frame_locator("iframe").first  # not scrolled to: below the fold
        # the server-rendered first paint is there, with the current total, below the fold
        expect_text(frame.locator("[data-socialad-total]"), r"^0$")
        page.wait_for_function(
            "() => document.querySelector('iframe').style.height "
            "&& document.querySelector('iframe').style.height !== '460px'"
        )
        page.wait_for_timeout(1500)
        assert sockets == []
        first_paint = sorted(url.replace(server.url, "") for url in ours)
        assert len(first_paint) == 2, first_paint  # embed.js, the document (CSS inline)
        assert not any("/widgets/" in url and url.endswith(".js") for url in first_paint)
        # embed.js saw the slot off screen: the frame waits to see itself before going live
        assert "v=1" not in page.locator("iframe").first.get_attribute("src")

        expect(unit(page).locator("[data-socialad-action]")).to_be_enabled()  # scrolled to
        assert len(sockets) == 1 and sockets[0].startswith(server.url.replace("http", "ws"))
    finally:
        context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("activity", sorted(load_activities()))
def test_the_unit_passes_an_accessibility_audit(
    browser, server, make_campaign, store, theme, activity
):
    """axe-core in Chromium, for every activity with its default settings, live and with
    chat, in the light and the dark look."""
    campaign = make_campaign(
        activity=activity, settings={}, look={"accent": "#0b6e4f", "theme": theme}
    )
    token = store.create_session(campaign["id"], "ana")
    context = browser.new_context(bypass_csp=True)  # lets the test inject axe-core
    context.set_default_timeout(TIMEOUT)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/s/{token}")
        expect(page.locator("[data-socialad-action]").first).to_be_enabled()
        page.locator("[data-socialad-action]").first.click()
        page.fill("[data-socialad-chat-input]", "Hello, friends")
        page.press("[data-socialad-chat-input]", "Enter")
        expect_text(page.locator("[data-socialad-chat-log]"), "Hello, friends")
        assert axe_violations(page) == []
    finally:
        context.close()


def test_the_unit_works_with_the_keyboard_alone(browser, server, make_campaign, store):
    campaign = make_campaign()
    token = store.create_session(campaign["id"], "ana")
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/s/{token}")
        expect(page.locator("[data-socialad-action]")).to_be_enabled()
        for _ in range(30):  # Tab to the main control and press it
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.hasAttribute('data-socialad-action')"):
                break
        page.keyboard.press("Enter")
        expect_text(page.locator("[data-socialad-total]"), r"^1$")
        for _ in range(30):  # on to the chat
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.hasAttribute('data-socialad-chat-input')"):
                break
        page.keyboard.type("Typed, not clicked")
        page.keyboard.press("Enter")
        expect_text(page.locator("[data-socialad-chat-log]"), "Typed, not clicked")
    finally:
        context.close()
