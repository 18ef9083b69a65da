"""The challenge activity in Chromium: act, wait out the cooldown, invite and race together on
the publisher's page; a reload keeps the wait; a challenge in Spanish. Its rules and document:
tests/widgets/test_challenge.py."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.support.browser import TIMEOUT, expect_text, unit

CHALLENGE = {
    "activity": "challenge",
    "settings": {},
    "promise": "At 1,000 seeds, Brand plants a forest.",
}


@pytest.fixture
def challenge_page(publish):
    """The example news site on http://localhost:PORT with a live challenge embedded."""
    ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2 * 3600 + 13 * 60 + 30))
    return publish(activity="challenge", settings={}, ends_at=ends)


def test_act_wait_invite_and_race_together(person, challenge_page, server):
    origin, campaign = challenge_page
    ana = person()
    ana.goto(origin + "/")
    ana.locator("iframe").first.scroll_into_view_if_needed()
    ana_unit = unit(ana)
    button = ana_unit.locator("[data-socialad-action]")
    expect(button).to_be_enabled(timeout=TIMEOUT)
    expect_text(ana_unit.locator("[data-challenge-ends]"), r"^Ends in 2 h 1[34] min$")
    expect_text(ana_unit.locator("[data-challenge-board-empty]"), r"Be the first")
    button.click()
    expect_text(ana_unit.locator("[data-socialad-total]"), r"^1$")
    expect_text(button, r"^Next in \d+ s$")
    expect(button).to_be_disabled()
    expect(ana_unit.locator("[data-challenge-cooldown]")).to_be_visible()
    expect_text(ana_unit.locator("[data-challenge-board] li"), r"'s group \(your group\)1$")

    invite = ana_unit.locator("[data-socialad-invite]")
    expect(invite).to_be_enabled()
    invite_url = invite.get_attribute("data-invite-url")
    ben = person()
    ben.goto(invite_url)  # the friend follows the link: the landing page, same session
    ben_button = ben.locator("[data-socialad-action]")
    expect(ben_button).to_be_enabled(timeout=TIMEOUT)
    expect_text(ben.locator("[data-socialad-total]"), r"^1$")
    ben_button.click()
    expect_text(ben_button, r"^Next in \d+ s$")
    for where in (ana_unit, ben):
        expect_text(where.locator("[data-socialad-total]"), r"^2$")
        expect_text(where.locator("[data-socialad-session-total]"), r"^2$")
        entries = where.locator("[data-challenge-board] li")
        expect(entries).to_have_count(1)
        expect_text(entries.first, r"^\S.*'s group \(your group\)2$")
        expect(where.locator(".ch-entry-mine")).to_have_count(1)

    # Ana's wait ends by itself (10 s from her action): the button comes back, announced once.
    expect_text(button, r"^Add mine$")
    expect(button).to_be_enabled()
    expect_text(ana_unit.locator("[data-challenge-ready]"), r"^Ready again: Add a step\.$")
    assert ana.context.cookies() == [] and ben.context.cookies() == []


def test_a_reload_keeps_the_wait(person, server, make_campaign):
    campaign = make_campaign(activity="challenge", settings={"cooldown_seconds": 30})
    page = person()
    page.goto(f"{server.url}/w/{campaign['id']}")
    button = page.locator("[data-socialad-action]")
    expect(button).to_be_enabled(timeout=TIMEOUT)
    button.click()
    expect_text(page.locator("[data-socialad-total]"), r"^1$")
    expect_text(button, r"^Next in \d+ s$")
    page.reload()
    expect_text(page.locator("[data-socialad-status]"), r"^Live$")
    expect_text(button, r"^Next in \d+ s$")
    expect(button).to_be_disabled()
    # a second tab of the same person (same browser storage) is told by the server and waits
    page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('socialads:challenge:'))"
        ".forEach(k => localStorage.removeItem(k))"
    )
    other = page.context.new_page()
    other.goto(f"{server.url}/w/{campaign['id']}")
    other_button = other.locator("[data-socialad-action]")
    expect(other_button).to_be_enabled(timeout=TIMEOUT)
    other_button.click()
    expect_text(other_button, r"^Next in \d+ s$")
    expect(other_button).to_be_disabled()
    expect_text(other.locator("[data-socialad-total]"), r"^1$")


def test_a_spanish_challenge_lives_in_spanish(person, server, make_campaign):
    ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2 * 3600 + 13 * 60 + 30))
    campaign = make_campaign(
        activity="challenge", language="es", ends_at=ends, settings={"cooldown_seconds": 30}
    )
    page = person()
    page.goto(f"{server.url}/w/{campaign['id']}")
    button = page.locator("[data-socialad-action]")
    expect(button).to_be_enabled(timeout=TIMEOUT)
    expect_text(page.locator("[data-socialad-status]"), r"^En vivo$")
    expect_text(page.locator("[data-challenge-ends]"), r"^Termina dentro de 2 h 1[34] min$")
    button.click()
    expect_text(page.locator("[data-socialad-note]"), r"^¡Gracias! Ya cuenta\.$")
    expect_text(button, r"^De nuevo en \d+ s$")
    expect_text(page.locator("[data-challenge-board] li"), r"\(tu grupo\)1$")
    # a second tab that does not know of the wait is refused by the server; it says so in Spanish
    page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('socialads:challenge:'))"
        ".forEach(k => localStorage.removeItem(k))"
    )
    other = page.context.new_page()
    other.goto(f"{server.url}/w/{campaign['id']}")
    other_button = other.locator("[data-socialad-action]")
    expect(other_button).to_be_enabled(timeout=TIMEOUT)
    other_button.click()
    expect_text(
        other.locator("[data-socialad-note]"), r"^Todavía no: podrás volver a sumar en \d+ s\.$"
    )
    expect_text(other_button, r"^De nuevo en \d+ s$")
