"""The brand's Overview in Chromium: it follows a publisher's live unit without a reload, and
reads well without JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import expect_text, unit


@pytest.mark.browser
def test_the_widget_reports_its_publisher_and_the_overview_follows_live(
    person, publisher, server, brand, store
):
    """A viewer pledges on the publisher page (localhost) while the brand watches its
    Overview (127.0.0.1): the numbers, funnel, table and chart update without a reload, under
    the admin's CSP and with no script errors."""
    from playwright.sync_api import expect

    origin, campaign = publisher
    cid = campaign["id"]
    watcher = person()
    problems: list[str] = []
    watcher.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    watcher.on("pageerror", lambda error: problems.append(str(error)))
    watcher.goto(f"{server.url}/admin/login")
    watcher.fill("input[name=email]", brand["email"])
    watcher.fill("input[name=password]", "password123")
    watcher.click("button[type=submit]")
    watcher.goto(f"{server.url}/admin/campaigns/{cid}")
    expect(watcher.locator("[data-dashboard-chart] canvas").first).to_be_visible()
    expect_text(watcher.locator("[data-dashboard-status]"), r"Live")
    expect_text(watcher.locator('.kpi [data-stat="actions"]'), r"^0$")
    started = watcher.evaluate("performance.getEntriesByType('navigation').length")

    ana = person()
    ana.goto(origin + "/")
    pledge = unit(ana).locator("[data-socialad-action]")
    expect(pledge).to_be_enabled()
    pledge.click()
    expect_text(unit(ana).locator("[data-socialad-total]"), r"^1$")

    # the Overview catches up by itself
    expect_text(watcher.locator('.kpi [data-stat="actions"]'), r"^1$")
    expect_text(watcher.locator('[data-stat="total"]'), r"^1$")
    expect_text(watcher.locator('.kpi [data-stat="impressions"]'), r"^1$")
    expect_text(watcher.locator("[data-dashboard-origins]"), r"localhost")
    expect_text(watcher.locator('[data-step="engaged_viewers"] [data-step-value]'), r"^1$")
    assert re.search(
        r": 1 action and 1 join$",
        watcher.locator("[data-dashboard-chart]").get_attribute("aria-label"),
    )
    assert watcher.evaluate("performance.getEntriesByType('navigation').length") == started
    assert problems == []

    # the real widget told the server where it was shown: the embed's Referer and its #o=
    stats = store.stats(cid)
    assert stats["by_origin"] == {origin: {"impressions": 1, "joins": 1, "actions": 1}}


@pytest.mark.browser
def test_the_overview_reads_well_without_javascript(browser, server, brand, make_campaign):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/admin/login")
        page.fill("input[name=email]", brand["email"])
        page.fill("input[name=password]", "password123")
        page.click("button[type=submit]")
        cid = make_campaign()["id"]
        page.goto(f"{server.url}/admin/campaigns/{cid}")
        assert page.locator('.kpi [data-stat="impressions"]').inner_text() == "0"
        assert page.locator(".dash-chart-fallback").is_visible()
        assert page.locator("[data-dashboard-origins]").inner_text().startswith("Nothing yet")
    finally:
        context.close()
