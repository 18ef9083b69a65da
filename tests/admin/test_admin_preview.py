"""The campaign editor's live preview, its embed code and test page, and schedules (issue 3
§2–§3), down to the preview following the form in Chromium."""

from __future__ import annotations

import html
import re
import time
import uuid
from datetime import UTC, datetime

import pytest

from socialads.domain import campaigns
from socialads.domain.accounts import make_brand
from socialads.store import Campaign
from tests.support.admin import FORM, textarea
from tests.support.browser import TIMEOUT, expect_text


def utc(seconds_from_now: float) -> str:
    return datetime.fromtimestamp(time.time() + seconds_from_now, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


@pytest.fixture
def other_campaign(store):
    suffix = uuid.uuid4().hex[:8]
    other = make_brand(store, f"Other {suffix}", f"other-{suffix}@example.test", "password123")
    theirs = campaigns.create(
        store,
        other["brand_id"],
        {"name": "Theirs", "activity": "pledge", "cause": {"title": "Theirs"}, "goal": 10},
    )
    return theirs.to_json()


# -- the preview -------------------------------------------------------------------------------


def test_the_preview_shows_unsaved_values_and_only_the_admin_may_frame_it(
    admin, store, make_campaign
):
    response = admin.get(
        "/admin/campaigns/preview",
        query_string={
            **FORM,
            "cause.title": "Not saved yet",
            "settings.pledge.button_label": "Plant now",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Not saved yet" in page and "Plant now" in page and "5,000 trees" in page
    assert "Preview" in re.search(r"data-socialad-status[^>]*>(.*?)</p>", page, re.S).group(1)
    assert 'data-theme="dark"' in page and "--accent: #aa3300" in page
    assert "widgets/pledge-" not in page.split("</head>")[1]  # no live code: no socket
    assert re.search(r"<button[^>]*data-socialad-action[^>]*disabled", page)
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Cache-Control"] == "no-store"
    # the editor frames it; every other admin page stays unframeable
    editor = admin.get("/admin/campaigns/new")
    assert "frame-src 'self'" in editor.headers["Content-Security-Policy"]
    assert editor.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in editor.headers["Content-Security-Policy"]
    assert 'src="/admin/campaigns/preview?' in editor.get_data(as_text=True)


def test_the_preview_falls_back_to_defaults_and_shows_saved_totals(admin, store, make_campaign):
    page = admin.get(
        "/admin/campaigns/preview",
        query_string={
            "cause.title": "",
            "goal": "lots",
            "look.accent": "red",
            "settings.pledge.amount": "-4",
            "settings.pledge.unit_plural": "",
            "activity": "nope",
            "starts_at": "2030-01-01T00:00",
            "ends_at": "2020-01-01T00:00",
        },
    ).get_data(as_text=True)
    assert "Your cause" in page and "0</span></strong> of 1,000 pledges" in page
    assert "--accent: #0b6e4f" in page

    campaign = make_campaign()
    token = store.create_session(campaign["id"], "v")
    store.record_action(campaign["id"], token, "v", "a", 42)
    page = admin.get(
        "/admin/campaigns/preview",
        query_string={"cid": campaign["id"], "cause.title": "Edited", "goal": "100"},
    ).get_data(as_text=True)
    assert "Edited" in page and ">42</span></strong> of 100" in page
    assert store.get_campaign(campaign["id"]).to_json() == campaign  # nothing saved
    assert store.stats(campaign["id"])["impressions"] == 0  # a preview is no impression


def test_the_preview_needs_a_login(client):
    response = client.get("/admin/campaigns/preview?cause.title=x")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


# -- embed code and test page ------------------------------------------------------------------


def test_the_embed_tab_shows_the_exact_snippet_and_the_invite_preview(app, admin, make_campaign):
    campaign = make_campaign(
        cause={
            "title": "Clean the bay",
            "description": "Pick up litter.",
            "image_url": "https://cdn.example/bay.jpg",
        }
    )
    page = admin.get(f"/admin/campaigns/{campaign['id']}/embed").get_data(as_text=True)
    snippet = campaigns.embed_snippet(app.config["PUBLIC_URL"], campaign["id"])
    assert textarea(page, "embed-snippet") == snippet
    assert re.search(r'<textarea[^>]*id="embed-snippet"[^>]*readonly', page)
    assert 'data-copy="#embed-snippet"' in page
    assert "Join me: Clean the bay" in page and "Pick up litter." in page
    assert 'src="https://cdn.example/bay.jpg"' in page
    assert f'href="/admin/campaigns/{campaign["id"]}/test-page"' in page
    plain = make_campaign()
    page = admin.get(f"/admin/campaigns/{plain['id']}/embed").get_data(as_text=True)
    assert 'src="/og.png"' in page


def test_the_test_page_embeds_the_campaign_as_a_publisher_would(app, admin, make_campaign):
    campaign = make_campaign(allowed_origins=["https://news.example"])
    response = admin.get(f"/admin/campaigns/{campaign['id']}/test-page")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert campaigns.embed_snippet(app.config["PUBLIC_URL"], campaign["id"]) in page
    assert re.findall(r"<script[^>]*>", page) == [
        '<script async src="http://127.0.0.1:5999/embed.js">'
    ]  # nothing inline
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' http://127.0.0.1:5999;" in csp
    assert "frame-src 'self' http://127.0.0.1:5999;" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert ' style="' not in page
    # and the widget lets our own pages frame it, besides the brand's publishers
    widget_csp = admin.get(f"/w/{campaign['id']}").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://news.example" in widget_csp


def test_another_brands_campaign_is_not_found(admin, other_campaign, store):
    cid = other_campaign["id"]
    for path in (
        f"/admin/campaigns/{cid}/edit",
        f"/admin/campaigns/{cid}/embed",
        f"/admin/campaigns/{cid}/test-page",
        f"/admin/campaigns/preview?cid={cid}",
        "/admin/campaigns/c_nothing/edit",
        "/admin/campaigns/preview?cid=" + "x" * 99,
    ):
        assert admin.get(path).status_code == 404, path
    response = admin.post(
        f"/admin/campaigns/{cid}/edit",
        {**FORM, "name": "Mine now"},
        csrf_from="/admin/campaigns/new",
    )
    assert response.status_code == 404
    assert store.get_campaign(cid).to_json() == other_campaign


def test_the_editor_pages_need_a_login_and_a_csrf_token(client, admin, make_campaign):
    campaign = make_campaign()
    for path in (
        "/admin/campaigns/new",
        f"/admin/campaigns/{campaign['id']}/edit",
        f"/admin/campaigns/{campaign['id']}/embed",
        f"/admin/campaigns/{campaign['id']}/test-page",
    ):
        assert client.get(path).status_code == 302, path
    assert admin.client.post("/admin/campaigns/new", data=FORM).status_code == 400


# -- schedules ---------------------------------------------------------------------------------


def test_effective_status_applies_the_schedule_to_live_campaigns_only():
    stored = {
        "id": "c_schedule",
        "brand_id": "b_schedule",
        "name": "N",
        "activity": "pledge",
        "cause": {"title": "T"},
        "goal": 10,
        "settings": {},
        "status": "live",
        "look": {"accent": "#0b6e4f", "theme": "light"},
        "created_at": 0.0,
        "updated_at": 0.0,
    }
    campaign = Campaign.from_json(
        {**stored, "starts_at": "2030-06-01T09:00:00Z", "ends_at": "2030-06-02T09:00:00Z"}
    )
    at = datetime(2030, 6, 1, 9, tzinfo=UTC).timestamp()
    assert campaigns.effective_status(campaign, at - 1) == "draft"
    assert campaigns.effective_status(campaign, at) == "live"
    assert campaigns.effective_status(campaign, at + 86399) == "live"
    assert campaigns.effective_status(campaign, at + 86400) == "ended"
    assert campaigns.effective_status(campaign.replace(status="paused"), at) == "paused"
    # stored before schedules
    assert campaigns.effective_status(Campaign.from_json(stored)) == "live"


@pytest.mark.parametrize(
    ("schedule", "text", "status"),
    [
        ({"starts_at": utc(3600)}, "hasn't started yet", "draft"),
        ({"starts_at": utc(-7200), "ends_at": utc(-3600)}, "has ended", "ended"),
    ],
)
def test_a_live_campaign_outside_its_schedule_is_inactive(
    client, make_campaign, server, viewers, schedule, text, status
):
    campaign = make_campaign(status="live", **schedule)
    page = client.get(f"/w/{campaign['id']}").get_data(as_text=True)
    shown = re.search(r"data-socialad-status[^>]*>(.*?)</p>", page, re.S).group(1)
    assert text in html.unescape(shown)
    assert 'data-state="inactive"' in page and "widgets/pledge-" not in page.split("</head>")[1]
    assert f'"status":"{status}"' in page.replace(" ", "")
    refused = viewers(server.url).join(campaign["id"])
    assert refused["ok"] is False
    assert (refused["error"]["code"], refused["error"]["status"]) == ("inactive", status)
    assert text in refused["error"]["message"]


def test_a_live_campaign_within_its_schedule_takes_part(client, make_campaign, server, viewers):
    campaign = make_campaign(status="live", starts_at=utc(-60), ends_at=utc(3600))
    page = client.get(f"/w/{campaign['id']}").get_data(as_text=True)
    assert 'data-state="connecting"' in page
    ana = viewers(server.url)
    assert ana.join(campaign["id"])["ok"] is True
    assert ana.act()["ok"] is True


def test_an_invite_preview_uses_the_cause_image(client, make_campaign, store):
    campaign = make_campaign(cause={"title": "Bay", "image_url": "https://cdn.example/bay.jpg"})
    token = store.create_session(campaign["id"], "v")
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert '<meta property="og:image" content="https://cdn.example/bay.jpg">' in page


# -- in a browser ------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_preview_follows_the_form_and_the_test_page_runs_the_unit(
    chromium, server, brand, store, make_campaign
):
    from playwright.sync_api import expect

    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    try:
        page.goto(server.url + "/admin/login")
        page.fill("input[name=email]", brand["email"])
        page.fill("input[name=password]", "password123")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/admin/$"))
        page.goto(server.url + "/admin/campaigns/new")
        preview = page.frame_locator("[data-preview-frame]")
        expect_text(preview.locator(".sa-title"), r"Your cause")
        expect_text(preview.locator("[data-socialad-status]"), r"Preview")
        page.fill("#f-cause-title", "Plant a forest together")
        page.fill("#f-settings-pledge-button_label", "Plant a tree")
        expect_text(preview.locator(".sa-title"), r"^Plant a forest together$")
        expect(preview.locator("[data-socialad-action]")).to_have_text("Plant a tree")
        expect(preview.locator("[data-socialad-action]")).to_be_disabled()
        assert "csrf_token" not in page.locator("[data-preview-frame]").get_attribute("src")
        assert store.brand_campaigns(brand["brand_id"]) == []  # nothing was saved

        # the test page frames the real unit, live, though the brand lists only other sites
        campaign = make_campaign(allowed_origins=["https://news.example"])
        page.goto(f"{server.url}/admin/campaigns/{campaign['id']}/test-page")
        page.locator("iframe[data-socialad-frame]").scroll_into_view_if_needed()
        unit = page.frame_locator("iframe[data-socialad-frame]")
        expect(unit.locator("[data-socialad-action]")).to_be_enabled()
        unit.locator("[data-socialad-action]").click()
        expect_text(unit.locator("[data-socialad-total]"), r"^1$")
        assert not [p for p in problems if "Content Security Policy" in p], problems
    finally:
        context.close()
