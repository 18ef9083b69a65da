"""Helpers for tests in Debian's Chromium (through Playwright): how it is launched, the ad
unit in a publisher's page, waits on what a locator shows, and an accessibility audit. The
fixtures built on them (``chromium``, ``browser``, ``person``, ``publish``, ``publisher``)
are in ``tests/conftest.py``."""

from __future__ import annotations

import re
import shutil

from playwright.sync_api import expect

from socialads.config import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# How long (ms) a page may take to show what a test waits for.
TIMEOUT = 10_000


def unit(page, index: int = 0):
    """The ad unit in a page, scrolled into view: a unit goes live only once a reader can
    see it (or touches it)."""
    page.locator("iframe").nth(index).scroll_into_view_if_needed()
    return page.frame_locator("iframe").nth(index)


def expect_text(locator, pattern):
    """Wait until ``locator`` shows text matching the regular expression ``pattern``."""
    expect(locator).to_have_text(re.compile(pattern), timeout=TIMEOUT)


def live_second_tab(page, url: str, live: str):
    """The same person (same browser storage) in a second tab of ``url``, once both tabs show
    the status ``live``. The first is live before the second opens: it has stored this
    browser's viewer id by then (two tabs that both start before either stored one would be
    two viewers)."""
    expect_text(page.locator("[data-socialad-status]"), live)
    tab = page.context.new_page()
    tab.goto(url)
    expect_text(tab.locator("[data-socialad-status]"), live)
    return tab


def axe_violations(page, frame=None) -> list[str]:
    """Serious or critical WCAG 2 A/AA problems axe-core finds in a page (or one of its frames)."""
    target = frame or page
    target.add_script_tag(path=str(ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    result = target.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    assert len(result["passes"]) > 10, "axe-core did not really audit the page"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
