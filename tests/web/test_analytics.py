"""A campaign's analytics (issue 3 §6, §7): counted in Redis as things happen, per campaign and
per publisher origin, shown on the Overview tab, in stats.json / stats.csv and the JSON API.

The main test is one scripted story over real `serve` processes with the exact number expected
for every figure; the others pin down the rules behind single figures (what an invite open
is, what a seed session is, which hits never count), then the pages, then a real browser.
"""

from __future__ import annotations

import csv
import io
import re
import time
import uuid

import pytest

from socialads.admin.dashboard import origin_label
from socialads.domain import campaigns
from socialads.domain.accounts import make_brand
from socialads.domain.analytics import ignore_reason, minute_iso, minute_of, publisher_origin
from tests.support.seeds import CAMPAIGN

NEWS, BLOG = "https://news.example", "https://blog.example"
SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


def api_stats(client, brand, cid):
    answer = client.get(
        f"/api/v1/campaigns/{cid}/stats", headers={"Authorization": f"Bearer {brand['api_token']}"}
    )
    assert answer.status_code == 200
    return answer.get_json()


def series_sums(store, cid, minutes=60):
    rows = store.minutes(cid, minute_of(time.time()) - minutes + 1, minutes)
    busy = [row["minute"] for row in rows if row["impressions"] or row["joins"] or row["actions"]]
    return {
        field: sum(row[field] for row in rows) for field in ("impressions", "joins", "actions")
    }, busy


def shown_numbers(page: str) -> dict[str, str]:
    """The text of every ``data-stat`` element of the Overview."""
    return dict(re.findall(r'data-stat="([a-z_]+)">([^<]*)<', page))


@pytest.fixture
def story(servers, viewers, make_campaign, client, store):
    """Three loads on two publishers; Ana starts a group on news.example and pledges twice
    (one pledge re-sent); her invite is opened once (a link preview's fetch aside); Ben comes
    through it and pledges; Cam, a stranger, starts a group on blog.example, chats, and
    leaves."""
    cid = make_campaign()["id"]
    started = time.time()
    for origin in (NEWS, NEWS, BLOG):
        assert client.get(f"/w/{cid}", headers={"Referer": origin + "/"}).status_code == 200

    ana = viewers(servers[0].url, name="Ana")
    token = ana.join(cid, origin=NEWS)["session"]
    assert ana.act("a1")["ok"] and ana.act("a2")["ok"]
    assert ana.act("a1")["duplicate"] is True

    assert client.get(f"/s/{token}", headers={"User-Agent": SLACK}).status_code == 200
    assert client.get(f"/s/{token}").status_code == 200
    ben = viewers(servers[1].url, name="Ben")
    # the landing page is ours: its widget names our origin as the page's
    assert ben.join(cid, session=token, origin=servers[1].url)["ok"]
    assert ben.act("b1")["total"] == 3

    cam = viewers(servers[0].url, name="Cam")
    assert cam.join(cid, origin=BLOG)["session"] != token
    assert cam.say("Hello from the blog")["ok"]
    assert cam.call("leave", {}) == {"ok": True}
    return {
        "cid": cid,
        "token": token,
        "started": started,
        "finished": time.time(),
        "landing": servers[1].url,
    }


def test_a_scripted_story_counts_every_figure_exactly(story, store, client, brand):
    cid = story["cid"]
    stats = store.stats(cid)
    cycle = stats.pop("cycle_time_seconds")
    assert 0 <= cycle <= story["finished"] - story["started"] + 0.1
    expected_replies = 0 if callable(getattr(store, "brand_replies", None)) else None
    assert stats == {
        "impressions": 3,
        "viewers": 3,
        "engaged_viewers": 3,
        "actions": 3,
        "total": 3,
        "sessions": 2,
        "seed_sessions": 2,
        "joins": 3,
        "invite_joins": 1,
        "invites_opened": 1,
        "invited_sessions": 1,
        "friends_acted": 1,
        "invite_conversion": 1.0,
        "k_factor": 0.5,
        "messages": 1,
        "live_viewers": 2,
        "matched": 0,
        "brand_replies": expected_replies,
        "median_reply_seconds": None,
        "by_origin": {
            NEWS: {"impressions": 2, "joins": 1, "actions": 2},
            BLOG: {"impressions": 1, "joins": 1, "actions": 0},
            story["landing"]: {"impressions": 0, "joins": 1, "actions": 1},
        },
    }
    sums, busy = series_sums(store, cid)
    assert sums == {"impressions": 3, "joins": 3, "actions": 3}
    assert set(busy) <= {minute_of(story["started"]), minute_of(story["finished"])}

    # the JSON API answers the same figures (CONTRACT §3's among them)
    assert api_stats(client, brand, cid) == {
        "campaign": cid,
        "goal": 1000,
        "cycle_time_seconds": cycle,
        **stats,
    }


def test_the_overview_shows_the_story(story, store, admin):
    cid = story["cid"]
    page = admin.get(f"/admin/campaigns/{cid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    numbers = shown_numbers(html)
    cycle = numbers.pop("cycle_time_seconds")
    assert re.fullmatch(r"\d+s", cycle), cycle
    assert numbers == {
        "total": "3",
        "goal": "1,000",
        "percent": "0%",
        "live_viewers": "2",
        "impressions": "3",
        "viewers": "3",
        "engaged_viewers": "3",
        "actions": "3",
        "sessions": "2",
        "invites_opened": "1",
        "invite_joins": "1",
        "invite_conversion": "100%",
        "k_factor": "0.50",
        "messages": "1",
        "brand_replies": "0" if store.stats(cid)["brand_replies"] == 0 else "—",
        "median_reply_seconds": "—",
    }
    funnel = re.findall(r'data-step="([a-z_]+)".*?data-step-value>([^<]*)<', html, re.S)
    assert funnel == [
        ("impressions", "3"),
        ("engaged_viewers", "3"),
        ("invited_sessions", "1"),
        ("invite_joins", "1"),
        ("friends_acted", "1"),
    ]
    # (the landing page of the serve process Ben used: one deployment shares one PUBLIC_URL,
    # and the test app's is another, so here it reads as a host rather than "Our pages")
    landing = story["landing"].split("://")[1]
    for label, counts in (
        ("news.example", "2 1 2 50%"),
        ("blog.example", "1 1 0 100%"),
        (landing, "0 1 1 —"),
    ):
        cells = re.search(rf">{re.escape(label)}</td>((?:<td[^>]*>[^<]*</td>)+)", html)
        assert cells, label
        assert " ".join(re.findall(r">([^<]*)</td>", cells.group(1))) == counts
    assert f'href="/admin/campaigns/{cid}/stats.csv"' in html
    assert "<script>" not in html and "style=" not in html  # the admin CSP allows neither

    report = admin.get(f"/admin/campaigns/{cid}/stats.json").get_json()
    assert report["stats"] == store.stats(cid) | {
        "cycle_time_seconds": report["stats"]["cycle_time_seconds"]
    }
    assert report["display"]["invite_conversion"] == "100%"
    series = report["series"]
    assert len(series["t"]) == 60 and series["t"][-1] == minute_of(time.time()) * 60
    assert (sum(series["impressions"]), sum(series["joins"]), sum(series["actions"])) == (3, 3, 3)
    assert [step["value"] for step in report["funnel"]] == [3, 3, 1, 1, 1]
    assert [row["origin"] for row in report["origins"]] == [NEWS, BLOG, story["landing"]]


def test_the_csv_has_every_minute_of_the_last_day(story, admin):
    cid = story["cid"]
    before = minute_of(time.time())
    answer = admin.get(f"/admin/campaigns/{cid}/stats.csv")
    after = minute_of(time.time())
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    disposition = answer.headers["Content-Disposition"]
    assert re.fullmatch(
        rf'attachment; filename="{cid}-per-minute-\d{{8}}-\d{{4}}Z\.csv"', disposition
    ), disposition
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["minute", "impressions", "joins", "actions"]
    assert len(rows) == 1 + 24 * 60
    last = next(m for m in (before, after) if rows[-1][0] == minute_iso(m))
    assert [row[0] for row in rows[1:]] == [minute_iso(m) for m in range(last - 1439, last + 1)]
    totals = [sum(int(row[i]) for row in rows[1:]) for i in (1, 2, 3)]
    assert totals == [3, 3, 3]


def test_another_brands_campaign_is_not_found(app, store, admin, client):
    other = make_brand(store, "Other", f"o-{uuid.uuid4().hex[:8]}@other.test", "password123")
    theirs = campaigns.create(store, other["brand_id"], CAMPAIGN).id
    for path in ("", "/stats.json", "/stats.csv"):
        assert admin.get(f"/admin/campaigns/{theirs}{path}").status_code == 404
        assert admin.get(f"/admin/campaigns/c_nothing{path}").status_code == 404
        anonymous = app.test_client().get(f"/admin/campaigns/{theirs}{path}")
        assert anonymous.status_code == 302 and "/admin/login" in anonymous.location


def test_an_invite_opened_on_a_publisher_page_counts_once_its_friend_joins(
    server, viewers, make_campaign, store, client
):
    cid = make_campaign()["id"]
    ana = viewers(server.url)
    token = ana.join(cid, origin=NEWS)["session"]
    dan = viewers(server.url)
    # the invite opened on the publisher page (#socialad=TOKEN): no landing page, a join
    assert client.get(f"/w/{cid}?session={token}", headers={"Referer": BLOG}).status_code == 200
    assert dan.join(cid, session=token, origin=BLOG)["ok"]
    assert dan.join(cid, session=token, origin=BLOG)["ok"]  # a reconnect
    assert ana.join(cid, session=token, origin=NEWS)["ok"]  # the leader, again
    again = viewers(server.url, viewer=dan.viewer)  # a second tab
    assert again.join(cid, session=token, origin=BLOG)["ok"]
    stats = store.stats(cid)
    assert {
        k: stats[k]
        for k in (
            "invites_opened",
            "invited_sessions",
            "invite_joins",
            "joins",
            "invite_conversion",
            "friends_acted",
        )
    } == {
        "invites_opened": 1,
        "invited_sessions": 1,
        "invite_joins": 1,
        "joins": 2,
        "invite_conversion": 1.0,
        "friends_acted": 0,
    }
    assert stats["by_origin"][BLOG] == {"impressions": 1, "joins": 1, "actions": 0}
    # a second look at the landing page opens the same session's invite again
    assert client.get(f"/s/{token}").status_code == 200
    stats = store.stats(cid)
    assert (stats["invites_opened"], stats["invited_sessions"]) == (2, 1)
    assert stats["invite_conversion"] == 0.5


def test_a_friend_who_starts_a_group_is_no_seed(server, viewers, make_campaign, store):
    cid = make_campaign()["id"]
    ana = viewers(server.url)
    token = ana.join(cid)["session"]
    ben = viewers(server.url)
    ben.join(cid, session=token)
    ben.join(cid)  # Ben starts a group of his own: a second generation, not a seed
    viewers(server.url).join(cid)  # a stranger: a seed
    stats = store.stats(cid)
    assert (stats["sessions"], stats["seed_sessions"], stats["invite_joins"]) == (3, 2, 1)
    assert stats["k_factor"] == 0.5
    assert stats["by_origin"] == {"direct": {"impressions": 0, "joins": 4, "actions": 0}}
    ben.act("b1")
    ben.act("b2")  # one friend, acting twice
    assert store.stats(cid)["friends_acted"] == 1


def test_loads_that_do_not_count(make_campaign, store, client):
    cid = make_campaign(allowed_origins=[NEWS])["id"]
    public = "http://127.0.0.1:5999"  # the test app's PUBLIC_URL
    assert client.head(f"/w/{cid}").status_code == 200
    client.get(f"/w/{cid}", headers={"User-Agent": SLACK})
    client.get(f"/w/{cid}", headers={"Referer": f"{public}/admin/campaigns/{cid}/edit"})
    client.get(f"/w/{cid}", headers={"Referer": "https://elsewhere.example/"})
    assert store.stats(cid)["impressions"] == 0
    client.get(f"/w/{cid}", headers={"Referer": "https://news.example:443/a/story?x=1"})
    client.get(f"/w/{cid}")
    stats = store.stats(cid)
    assert stats["impressions"] == 2
    assert stats["by_origin"] == {
        NEWS: {"impressions": 1, "joins": 0, "actions": 0},
        "direct": {"impressions": 1, "joins": 0, "actions": 0},
    }
    token = store.create_session(cid, "ana")
    client.head(f"/s/{token}")
    client.get(f"/s/{token}", headers={"User-Agent": "facebookexternalhit/1.1"})
    client.get(f"/s/{token}", headers={"User-Agent": "Twitterbot/1.0"})
    assert store.stats(cid)["invites_opened"] == 0
    assert client.get("/s/" + "x" * 22).status_code == 404  # no session: nothing counted


@pytest.mark.parametrize(
    ("referrer", "origin"),
    [
        ("https://News.Example/story", "https://news.example"),
        ("https://news.example:443/", "https://news.example"),
        ("http://localhost:8080/", "http://localhost:8080"),
        (None, "direct"),
        ("", "direct"),
        ("android-app://com.example/", "direct"),
        ("not a url", "direct"),
        ("https://:80/", "direct"),
    ],
)
def test_the_publisher_origin_of_a_load(referrer, origin):
    assert publisher_origin(referrer) == origin


def test_publishers_read_as_hosts_and_our_own_origin_as_our_pages(app):
    with app.test_request_context():
        assert origin_label("https://news.example:8443") == "news.example:8443"
        assert origin_label("direct") == "Direct or unknown"
        assert origin_label(app.config["PUBLIC_URL"]) == "Our pages (invite, test)"


def test_why_a_hit_is_ignored():
    public = "https://ads.example"
    assert ignore_reason("GET", "Mozilla/5.0", None, public) is None
    assert ignore_reason("HEAD", "Mozilla/5.0", None, public) == "not a GET"
    assert ignore_reason("GET", "Discordbot/2.0", None, public) == "bot or link preview"
    assert ignore_reason("GET", "Mozilla/5.0", f"{public}/admin/x", public) == "admin preview"
    assert ignore_reason("GET", "Mozilla/5.0", f"{public}/s/t", public) is None
    assert ignore_reason("GET", None, "https://a.example/", public, [NEWS]) == "origin not allowed"


def test_a_join_names_its_origin_or_nothing(server, viewers, make_campaign):
    cid = make_campaign()["id"]
    viewer = viewers(server.url)
    for bad, code in (
        ("null", "invalid"),
        ("https://news.example/page", "invalid"),
        ("javascript:alert(1)", "invalid"),
        (5, "invalid"),
        ("https://" + "a" * 200 + ".example", "too_large"),
    ):
        ack = viewer.join(cid, origin=bad)
        assert ack["ok"] is False and ack["error"]["code"] == code, (bad, ack)
    assert viewer.join(cid, origin="https://News.Example:8443")["ok"]


# -- in a real browser ------------------------------------------------------------------------
