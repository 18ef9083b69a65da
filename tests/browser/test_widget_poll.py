"""The poll activity (issue 4) in Chromium: friends vote on the publisher's page and both see
the results live, and a unit in Spanish. Its rules and document: tests/widgets/test_poll.py."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import TIMEOUT, expect_text, live_second_tab, unit

DEFAULT_OPTIONS = ["Plant trees", "Clean rivers", "Feed families"]


# -- in Chromium -----------------------------------------------------------------------------


@pytest.fixture
def poll_publisher(publish):
    """The example news site on http://localhost:PORT with a live poll embedded."""
    return publish(activity="poll", settings={})


def test_friends_vote_in_the_browser_and_both_see_two_votes(person, poll_publisher, server):
    origin, campaign = poll_publisher
    ana = person()
    ana.goto(origin + "/")
    ana_unit = unit(ana)
    options = ana_unit.locator("[data-socialad-action]")
    expect(options).to_have_count(3)
    expect(options.nth(1)).to_be_enabled(timeout=TIMEOUT)
    expect_text(ana_unit.locator("[data-socialad-status]"), r"Live")
    expect(ana_unit.locator("[data-poll-results]")).to_be_hidden()

    ana_unit.get_by_role("button", name=re.compile("Clean rivers")).click()
    expect_text(ana_unit.locator("[data-socialad-total]"), r"^1$")
    expect_text(ana_unit.locator("[data-socialad-session-total]"), r"^1$")
    expect(ana_unit.locator("[data-poll-results]")).to_be_visible()
    expect(options.nth(1)).to_have_attribute("aria-pressed", "true")
    for i in range(3):
        expect(options.nth(i)).to_be_disabled()  # one vote each
    expect_text(ana_unit.locator('[data-poll-result="1"] [data-poll-count]'), r"^1 vote · 100%$")
    expect_text(ana_unit.locator("[data-poll-summary]"), r"You voted for Clean rivers")

    invite = ana_unit.locator("[data-socialad-invite]")
    expect(invite).to_be_enabled(timeout=TIMEOUT)
    invite.click()
    invite_url = invite.get_attribute("data-invite-url")
    assert invite_url.startswith(f"{server.url}/s/")

    ben = person()
    ben.goto(invite_url)  # the friend follows the link: our landing page, same session
    ben_options = ben.locator("[data-socialad-action]")
    expect(ben_options.first).to_be_enabled(timeout=TIMEOUT)
    expect_text(ben.locator("[data-socialad-presence]"), r"\b2\b")
    expect_text(ben.locator("[data-socialad-total]"), r"^1$")
    expect(ben.locator("[data-poll-results]")).to_be_hidden()  # after_vote: vote first
    other_tab = ben.context.new_page()  # Ben also has the link open in another tab
    other_tab.goto(invite_url)
    expect(other_tab.locator("[data-socialad-action]").last).to_be_enabled(timeout=TIMEOUT)
    ben.get_by_role("button", name=re.compile("Plant trees")).click()
    expect(ben.locator("[data-poll-results]")).to_be_visible()

    # voting again from the other tab is refused by the server, and that tab then shows it
    other_tab.get_by_role("button", name=re.compile("Feed families")).click()
    expect_text(other_tab.locator("[data-socialad-note]"), r"already voted")
    expect(other_tab.locator("[data-poll-results]")).to_be_visible()
    for i in range(3):
        expect(other_tab.locator("[data-socialad-action]").nth(i)).to_be_disabled()
    other_tab.close()

    for where in (ana_unit, ben):
        expect_text(where.locator("[data-socialad-total]"), r"^2$")
        expect_text(where.locator("[data-socialad-session-total]"), r"^2$")
        expect_text(where.locator('[data-poll-result="0"] [data-poll-count]'), r"^1 vote · 50%$")
        expect_text(where.locator('[data-poll-result="1"] [data-poll-count]'), r"^1 vote · 50%$")
        expect_text(where.locator('[data-poll-result="2"] [data-poll-count]'), r"^0 votes · 0%$")
    expect(ben_options.nth(0)).to_have_attribute("aria-pressed", "true")

    # Ben comes back later (on our landing page, where his browser keeps who he is): his vote
    # is remembered (`mine`), the results are shown and he cannot vote again
    ben.reload()
    expect_text(ben.locator("[data-socialad-status]"), r"Live")
    back = ben.locator("[data-socialad-action]")
    expect(back.nth(0)).to_have_attribute("aria-pressed", "true", timeout=TIMEOUT)
    expect(ben.locator("[data-poll-results]")).to_be_visible()
    for i in range(3):
        expect(back.nth(i)).to_be_disabled()
    expect_text(ben.locator("[data-poll-summary]"), r"You voted for Plant trees")
    # the bars are drawn from the counts (CSSOM widths, which the CSP allows)
    bar = ben.locator('[data-poll-result="1"] [data-poll-bar]')
    assert bar.evaluate("el => el.style.width") == "50%"


def test_a_spanish_poll_lives_in_spanish(person, server, make_campaign):
    campaign = make_campaign(activity="poll", language="es", settings={})
    url = f"{server.url}/w/{campaign['id']}"
    page = person()
    page.goto(url)
    other_tab = live_second_tab(page, url, r"^En vivo$")  # the same person, before voting
    expect_text(page.locator("[data-socialad-presence]"), r"persona")
    page.get_by_role("button", name=re.compile("Clean rivers")).click()
    expect_text(page.locator("[data-socialad-note]"), r"^¡Gracias! Tu voto cuenta\.$")
    expect_text(page.locator('[data-poll-result="1"] [data-poll-count]'), "^1 voto · 100\u00a0%$")
    expect_text(
        page.locator("[data-poll-summary]"),
        r"^Has votado por Clean rivers\. Va en cabeza: Clean rivers, con 1 voto de 1\.$",
    )
    chosen = page.locator('[data-option="1"]')
    assert "Tu voto" in chosen.evaluate("el => getComputedStyle(el, '::after').content")

    # the server refuses the second tab's vote in English (an API message); the viewer reads
    # the catalog's words
    expect(other_tab.locator('[data-option="0"]')).to_be_enabled(timeout=TIMEOUT)
    other_tab.locator('[data-option="0"]').click()
    expect_text(other_tab.locator("[data-socialad-note]"), r"^Ya has votado\.$")
    expect(other_tab.locator("[data-poll-results]")).to_be_visible()
    expect_text(other_tab.locator("[data-poll-summary]"), r"^Ya has votado\.")
