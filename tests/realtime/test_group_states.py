"""Issue 4's honest states and the pledge's group match: a room that is full, a goal reached,
friends unlocking a brand match with its pool and public ledger, and a unit in Spanish.
Real Redis, two real `serve` processes, Socket.IO clients and Chromium."""

from __future__ import annotations

import html
import json
import re

import pytest
import requests
from playwright.sync_api import expect

from tests.support.browser import TIMEOUT, axe_violations, expect_text, unit

MATCH = {"match_every": 2, "match_amount": 5, "match_pool": 7}


def config_of(page: str) -> dict:
    raw = re.search(
        r'<script type="application/json" id="socialad-config">(.*?)</script>', page, re.S
    ).group(1)
    return json.loads(raw)


# -- room full ------------------------------------------------------------------------------


def test_a_full_room_offers_the_next_friend_a_new_room_of_the_same_group(
    servers, viewers, make_campaign, store
):
    cid = make_campaign(room_size=2)["id"]
    ana = viewers(servers[0].url, name="Ana")
    ben = viewers(servers[1].url, name="Ben")
    cat = viewers(servers[0].url, name="Cat")
    first = ana.join(cid)
    assert "room_full" not in first
    token = first["session"]
    assert ben.join(cid, token)["session"] == token
    assert store.session_name(cid, token) == "Ana's group"

    # the invite page says it before the friend even joins
    landing = requests.get(f"{servers[0].url}/s/{token}", timeout=10).text
    assert "Ana&#39;s group is full, so you will join a new room of Ana&#39;s group." in landing

    third = cat.join(cid, token)
    assert third["ok"] is True  # a designed state, not an error
    assert third["room_full"] == {"group": "Ana's group", "size": 2}
    assert third["session"] != token
    assert store.session_name(cid, third["session"]) == "Ana's group"
    assert [m["name"] for m in third["members"]] == ["Cat"]
    assert third["invite_url"].endswith("/s/" + third["session"])
    # the full room never saw Cat
    assert [m["name"] for m in store.members(cid, token)] == ["Ana", "Ben"]
    # acting in the new room counts there
    cat.act()
    assert store.campaign_progress(cid, [token, third["session"]])[2][1]["total"] == 1

    # a friend who was in the room always gets back in, even when it is full again
    ben.close()
    dan = viewers(servers[1].url, name="Dan")
    assert "room_full" not in dan.join(cid, token)  # Ben left: one seat free
    ben_again = viewers(servers[0].url, viewer=ben.viewer, name="Ben")
    back = ben_again.join(cid, token)
    assert back["session"] == token and "room_full" not in back
    assert sorted(m["name"] for m in back["members"]) == ["Ana", "Ben", "Dan"]


def test_friends_of_a_full_room_share_its_next_room_and_keep_it(servers, viewers, make_campaign):
    cid = make_campaign(room_size=2)["id"]
    ana, ben = viewers(servers[0].url, name="Ana"), viewers(servers[1].url, name="Ben")
    token = ana.join(cid)["session"]
    ben.join(cid, token)
    cat, dan = viewers(servers[0].url, name="Cat"), viewers(servers[1].url, name="Dan")
    room = cat.join(cid, token)["session"]
    assert room != token
    assert dan.join(cid, token)["session"] == room  # the next friend follows Cat, not alone
    cat.close()  # a reload: the same viewer follows the same invite again
    again = viewers(servers[1].url, viewer=cat.viewer, name="Cat").join(cid, token)
    assert again["session"] == room and again["room_full"]["group"] == "Ana's group"
    eve = viewers(servers[0].url, name="Eve")
    third = eve.join(cid, token)  # both rooms full: the chain goes on
    assert third["session"] not in (token, room)
    assert third["group_name"] == "Ana's group"


def test_one_connection_cannot_pose_as_many_viewers(server, viewers, make_campaign, store):
    cid = make_campaign(
        room_size=3, settings={"match_every": 2, "match_amount": 100, "match_pool": 1000}
    )["id"]
    sock = viewers(server.url)
    token = sock.join(cid)["session"]
    sock.act()
    answer = sock.call("join", {"campaign": cid, "viewer": "someone-else", "session": token})
    assert answer["ok"] is False and answer["error"]["code"] == "invalid"
    assert "matched" not in sock.act()
    assert store.match_summary(cid, -1)[0] == 0


def test_several_tabs_of_one_person_take_one_seat(servers, viewers, make_campaign):
    cid = make_campaign(room_size=2)["id"]
    ana = viewers(servers[0].url, name="Ana")
    token = ana.join(cid)["session"]
    ana_tab = viewers(servers[1].url, viewer=ana.viewer, name="Ana")
    assert ana_tab.join(cid, token)["session"] == token
    ben = viewers(servers[1].url, name="Ben")
    assert "room_full" not in ben.join(cid, token)


def test_room_size_is_validated(client, brand):
    headers = {"Authorization": f"Bearer {brand['api_token']}"}
    body = {"name": "x", "activity": "pledge", "goal": 10, "cause": {"title": "x"}}
    for size in (1, 0, 10_001, "5", 2.5):
        response = client.post(
            "/api/v1/campaigns", json={**body, "room_size": size}, headers=headers
        )
        assert response.status_code == 422, size
        assert response.get_json()["error"]["code"] == "invalid"


# -- goal reached ---------------------------------------------------------------------------


def test_the_goal_reached_is_shown_on_first_paint(server, viewers, make_campaign):
    cid = make_campaign(goal=2)["id"]
    page = requests.get(f"{server.url}/w/{cid}", timeout=10).text
    assert 'data-goal="reached"' not in page
    assert re.search(r'<p class="sa-goal" data-socialad-goal hidden>', page)
    ana = viewers(server.url)
    ana.join(cid)
    ana.act()
    ana.act()
    page = requests.get(f"{server.url}/w/{cid}", timeout=10).text
    assert 'data-goal="reached"' in page
    assert re.search(
        r'<p class="sa-goal" data-socialad-goal>Goal reached! Thank you, everyone.', page
    )
    assert ana.act()["total"] == 3  # taking part goes on past the goal


# -- the pledge's group match ---------------------------------------------------------------


def test_friends_unlock_the_brand_match_from_its_pool_exactly_once(
    servers, viewers, make_campaign, store
):
    cid = make_campaign(settings=MATCH)["id"]
    ana, ben = viewers(servers[0].url, name="Ana"), viewers(servers[1].url, name="Ben")
    token = ana.join(cid)["session"]
    joined = ben.join(cid, token)
    assert joined["group"] == {"people": 0, "matched": 0}
    assert joined["state"]["match"] == {"every": 2, "amount": 5, "pool": 7, "used": 0, "ledger": []}

    first = ana.act("a1")
    assert first["total"] == 1 and "matched" not in first
    assert "matched" not in ana.act("a2")  # the same person again unlocks nothing
    mark = ana.mark()
    unlocked = ben.act("b1")
    assert unlocked["matched"] == 5 and unlocked["total"] == 2 + 1 + 5
    assert ben.act("b1")["duplicate"] is True  # a retry unlocks nothing more
    progress = ana.wait_for("progress", lambda p: p["total"] == 8, after=mark)
    assert progress["group"] == {"people": 2, "matched": 5}
    assert progress["session_total"] == 3  # the group's own pledges; the match is the brand's
    match = progress["state"]["match"]
    assert (match["used"], match["pool"]) == (5, 7)
    assert [(e["name"], e["amount"], e["people"]) for e in match["ledger"]] == [
        ("Ana's group", 5, 2)
    ]

    # a second group gets what is left of the pool, a third nothing
    for group in range(2):
        cat, dan = viewers(servers[0].url, name=f"Cat{group}"), viewers(servers[1].url)
        other = cat.join(cid)["session"]
        dan.join(cid, other)
        cat.act()
        result = dan.act()
        assert result.get("matched", 0) == (2 if group == 0 else 0)
    stats = store.stats(cid)
    assert (stats["total"], stats["matched"], stats["actions"]) == (8 + 2 + 2 + 2, 7, 7)
    used, ledger = store.match_summary(cid, -1)
    assert used == 7 and [e["amount"] for e in ledger] == [2, 5]

    page = requests.get(f"{servers[0].url}/c/{cid}/ledger", timeout=10)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Ana's group" in text and "Cat0's group" in text
    assert "has added 7 of its pool of 7; 0 left." in text
    assert page.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")


def test_a_campaign_without_a_match_has_no_ledger_and_no_group_fields(
    server, viewers, make_campaign
):
    cid = make_campaign()["id"]
    ana = viewers(server.url)
    joined = ana.join(cid)
    assert "group" not in joined and "match" not in joined["state"]
    assert "matched" not in ana.act()
    assert requests.get(f"{server.url}/c/{cid}/ledger", timeout=10).status_code == 404
    assert "data-pledge-match" not in requests.get(f"{server.url}/w/{cid}", timeout=10).text


# -- another language -----------------------------------------------------------------------


def test_a_campaign_in_spanish_speaks_spanish_on_first_paint(server, make_campaign):
    cid = make_campaign(language="es", goal=5000, settings=MATCH)["id"]
    page = requests.get(f"{server.url}/w/{cid}", timeout=10).text
    assert '<html lang="es"' in page
    for words in (
        "Patrocinado por",
        "Invitar a amigos",
        "Conectando…",
        "Tu grupo:",
        "Comprometerme",
        "de 5.000 compromisos",
        "Registro de aportaciones",
        "Escribe algo amable",
    ):
        assert words in html.unescape(page), words
    for english in ("Sponsored by", "Invite friends", "Connecting", "Pledge<", "Say something"):
        assert english not in page, english
    config = config_of(page)
    assert config["lang"] == "es"
    assert config["texts"]["status.live"] == "En vivo"
    assert config["texts"]["pledge.thanks"].startswith("¡Gracias!")
    assert "modlog.heading" not in config["texts"]  # only what the live code needs travels


def test_unknown_languages_are_refused(client, brand):
    headers = {"Authorization": f"Bearer {brand['api_token']}"}
    body = {
        "name": "x",
        "activity": "pledge",
        "goal": 10,
        "cause": {"title": "x"},
        "language": "xx",
    }
    response = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 422
    assert "language" in json.dumps(response.get_json())


# -- in Chromium ----------------------------------------------------------------------------


@pytest.mark.browser
def test_friends_unlock_a_match_and_reach_the_goal_in_the_browser(person, publish, server):
    trees = {**MATCH, "unit": "tree", "unit_plural": "trees"}
    origin, campaign = publish(goal=7, settings=trees)
    ana = person()
    ana.goto(origin + "/")
    ana_unit = unit(ana)
    expect_text(
        ana_unit.locator("[data-pledge-unlock]"), r"If 2 of you pledge, Brand \S+ adds 5 trees"
    )
    pledge = ana_unit.locator("[data-socialad-action]")
    expect(pledge).to_be_enabled(timeout=TIMEOUT)
    pledge.click()
    expect_text(
        ana_unit.locator("[data-pledge-unlock]"), r"1 of 2 in your group pledged: 1 more friend"
    )
    expect(ana_unit.locator("[data-pledge-seats] li.sa-filled")).to_have_count(1)
    invite = ana_unit.locator("[data-socialad-invite]")
    invite.click()
    ben = person()
    ben.goto(invite.get_attribute("data-invite-url"))
    ben_pledge = ben.locator("[data-socialad-action]")
    expect(ben_pledge).to_be_enabled(timeout=TIMEOUT)
    ben_pledge.click()
    expect_text(ben.locator("[data-socialad-note]"), r"just unlocked 5 trees from Brand")
    for where in (ana_unit, ben):
        expect_text(where.locator("[data-socialad-total]"), r"^7$")
        expect_text(
            where.locator("[data-pledge-unlock]"), r"Your group unlocked 5 trees from Brand"
        )
        expect_text(where.locator("[data-pledge-pool]"), r"2 of 7 left")
        expect(where.locator("[data-socialad-goal]")).to_be_visible()
        expect_text(where.locator("[data-pledge-ledger] li"), r"^\w+ \w+'s group unlocked 5 trees$")
    assert ben.locator("html").get_attribute("data-goal") == "reached"


@pytest.mark.browser
def test_a_spanish_unit_in_a_full_room(person, publish, server, viewers):
    origin, campaign = publish(language="es", room_size=2)
    ana, ben = viewers(server.url, name="Ana"), viewers(server.url, name="Ben")
    token = ana.join(campaign["id"])["session"]
    ben.join(campaign["id"], token)
    cat = person()
    cat.goto(f"{origin}/#socialad={token}")
    cat_unit = unit(cat)
    expect_text(cat_unit.locator("[data-socialad-status]"), r"^En vivo$")
    expect_text(
        cat_unit.locator("[data-socialad-note]"),
        r"^Grupo de Ana está completo \(2 personas\), así que tienes una sala nueva",
    )
    expect_text(cat_unit.locator("[data-socialad-presence]"), r"^1 persona aquí$")
    cat_unit.locator("[data-socialad-action]").click()
    expect_text(cat_unit.locator("[data-socialad-note]"), r"¡Gracias!")
    expect_text(cat_unit.locator("[data-socialad-session-total]"), r"^1$")


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_designed_states_pass_an_accessibility_audit(
    browser, server, make_campaign, store, viewers, theme
):
    """The match block, the goal banner and a Spanish unit, audited by axe-core like every
    activity's default unit (tests/browser/test_browser.py)."""
    campaign = make_campaign(
        goal=2, language="es", settings=MATCH, look={"accent": "#e8a33d", "theme": theme}
    )
    ana = viewers(server.url)
    token = ana.join(campaign["id"])["session"]
    ana.act()
    context = browser.new_context(bypass_csp=True)  # lets the test inject axe-core
    context.set_default_timeout(TIMEOUT)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/s/{token}")
        expect(page.locator("[data-socialad-action]")).to_be_enabled()
        page.locator("[data-socialad-action]").click()
        expect(page.locator("[data-socialad-goal]")).to_be_visible()
        expect_text(page.locator("[data-pledge-unlock]"), "Tu grupo desbloqueó 5")
        page.locator(".sa-ledger summary").click()
        expect_text(page.locator("[data-pledge-ledger] li"), "desbloqueó 5 compromisos")
        assert axe_violations(page) == []
    finally:
        context.close()


@pytest.mark.browser
def test_a_group_closed_by_the_brand_starts_anew_in_the_browser(
    person, publish, server, viewers, store
):
    origin, campaign = publish()
    cid = campaign["id"]
    ben = viewers(server.url, name="Ben")
    token = ben.join(cid)["session"]
    ana = person()
    ana.goto(f"{origin}/#socialad={token}")
    ana_unit = unit(ana)
    expect_text(ana_unit.locator("[data-socialad-presence]"), r"^2 people here$")
    ana_unit.locator("[data-socialad-action]").click()
    expect_text(ana_unit.locator("[data-socialad-session-total]"), r"^1$")
    store.close_session(
        cid,
        token,
        {"at": 0, "reason": "Spam ring", "user": "t", "by": {"id": "p", "name": "Sam", "role": ""}},
    )
    expect_text(
        ana_unit.locator("[data-socialad-note]"),
        r"closed that group \(Spam ring\), so you are in a new one",
    )
    expect_text(ana_unit.locator("[data-socialad-presence]"), r"^1 person here$")
    expect_text(ana_unit.locator("[data-socialad-session-total]"), r"^0$")
    expect_text(ana_unit.locator("[data-socialad-status]"), r"^Live$")
    ana_unit.locator("[data-socialad-action]").click()
    expect_text(ana_unit.locator("[data-socialad-session-total]"), r"^1$")
    expect_text(ana_unit.locator("[data-socialad-total]"), r"^2$")
