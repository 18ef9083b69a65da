"""Issue 3's whole journey in Chromium: a brand manager logs in, creates a campaign with a live
preview, copies its snippet into a publisher's page, a reader pledges there, and the Overview
moves without a reload."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from socialads.config import ROOT
from socialads.runtime.processes import free_port
from tests.support.browser import TIMEOUT, expect_text
from tests.support.servers import serve_wsgi, stop_wsgi


def serve_page(html: str, port: int):
    """A publisher's page on http://localhost:PORT: whatever HTML they pasted our snippet into."""
    body = html.encode()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body]

    return serve_wsgi(app, port)


def test_create_preview_embed_pledge_and_watch(browser, server, brand, store):
    port = free_port()
    publisher_origin = f"http://localhost:{port}"
    manager = browser.new_context()
    manager.set_default_timeout(TIMEOUT)
    reader = browser.new_context()
    reader.set_default_timeout(TIMEOUT)
    httpd = None
    try:
        page = manager.new_page()
        page.goto(f"{server.url}/admin/login")
        page.fill("input[name=email]", brand["email"])
        page.fill("input[name=password]", "password123")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/admin/$"))

        # a new campaign, seen in the preview before it is saved
        page.click("text=New campaign")
        page.select_option("#f-activity", "pledge")
        page.fill("#f-name", "Clean the river")
        page.fill("#f-cause-title", "Clean the Ashdown river")
        page.fill("#f-cause-description", "Pick up litter along the river with friends.")
        page.fill("#f-goal", "500")
        page.fill("#f-promise", "At 500 pledges we fund a clean-up boat.")
        page.fill("#f-allowed_origins", publisher_origin)
        page.select_option("#f-status", "live")
        preview = page.frame_locator("[data-preview-frame]")
        expect_text(preview.locator(".sa-title"), r"^Clean the Ashdown river$")
        expect_text(preview.locator(".sa-promise"), r"clean-up boat")
        page.click("form[data-campaign-editor] button[type=submit]")
        page.wait_for_url(re.compile(r"/admin/campaigns/c_[a-z0-9]+"))
        cid = re.search(r"/admin/campaigns/(c_[a-z0-9]+)", page.url).group(1)

        # the embed code, pasted into the publisher's page as it is
        page.goto(f"{server.url}/admin/campaigns/{cid}/embed")
        snippet = page.locator("textarea[readonly]").first.input_value()
        assert f'data-campaign="{cid}"' in snippet and f"{server.url}/embed.js" in snippet
        article = (ROOT / "examples" / "publisher" / "index.html").read_text()
        placeholder = re.search(r'<div class="socialad".*?</script>', article, re.S).group(0)
        httpd = serve_page(article.replace(placeholder, snippet), port)

        # the Overview, open while a reader pledges on the publisher's page
        page.goto(f"{server.url}/admin/campaigns/{cid}")
        expect(page.locator("[data-dashboard-chart] canvas").first).to_be_visible()
        expect_text(page.locator('[data-stat="total"]'), r"^0$")
        navigations = page.evaluate("performance.getEntriesByType('navigation').length")

        news = reader.new_page()
        news.goto(publisher_origin + "/")
        news.locator("iframe").first.scroll_into_view_if_needed()
        unit = news.frame_locator("iframe").first
        expect_text(unit.locator(".sa-title"), r"^Clean the Ashdown river$")
        pledge = unit.locator("[data-socialad-action]")
        expect(pledge).to_be_enabled()
        pledge.click()
        expect_text(unit.locator("[data-socialad-total]"), r"^1$")

        expect_text(page.locator('[data-stat="total"]'), r"^1$")
        expect_text(page.locator('.kpi [data-stat="actions"]'), r"^1$")
        expect_text(page.locator('.kpi [data-stat="impressions"]'), r"^1$")
        expect(page.locator("[data-dashboard-chart]")).to_have_attribute(
            "aria-label", re.compile(r": 1 action and 1 join$"), timeout=TIMEOUT
        )
        assert page.evaluate("performance.getEntriesByType('navigation').length") == navigations
        assert store.stats(cid)["total"] == 1
    finally:
        manager.close()
        reader.close()
        if httpd:
            stop_wsgi(httpd)
