"""The poll activity (issue 4): friends vote on which cause the brand funds; one vote each,
live results. Real Redis, real `serve` processes, real Socket.IO clients and Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ..unit.test_texts import english_left
from ..web.test_embed import HOOKS
from .test_browser import (  # noqa: F401
    TIMEOUT,
    _QuietHandler,
    _ThreadingServer,
    browser,
    expect_text,
    live_second_tab,
    person,
    publish,
    unit,
)

DEFAULT_OPTIONS = ["Plant trees", "Clean rivers", "Feed families"]


def vote(viewer, option, action_id=None, **extra):
    return viewer.act(action_id, kind="vote", data={"option": option}, **extra)


def results_section(html: str) -> str:
    return re.search(r"<section class=\"sa-poll-results\"[^>]*>", html).group(0)


# -- the activity and its settings ----------------------------------------------------------


def test_poll_is_listed_with_its_settings_schema(client):
    response = client.get("/api/v1/activities")
    assert response.status_code == 200
    poll = {a["name"]: a for a in response.get_json()["activities"]}["poll"]
    assert poll["title"] == "Poll" and poll["description"]
    schema = poll["settings"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    props = schema["properties"]
    assert set(props) == {"question", "options", "results", "button_label"}
    for prop in props.values():
        assert prop["title"] and prop["description"] and "default" in prop
    assert props["options"]["default"] == DEFAULT_OPTIONS
    assert (props["options"]["minItems"], props["options"]["maxItems"]) == (2, 6)
    assert props["results"]["enum"] == ["after_vote", "always"]
    assert props["results"]["default"] == "after_vote"


def test_a_poll_campaign_with_default_settings_through_the_api(client, brand):
    headers = {"Authorization": f"Bearer {brand['api_token']}"}
    body = {"name": "Which cause?", "activity": "poll", "settings": {}, "goal": 100,
            "cause": {"title": "You choose", "description": "Vote for the cause we fund."},
            "status": "live"}
    response = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    campaign = response.get_json()
    assert campaign["activity"] == "poll" and campaign["id"] in campaign["embed_snippet"]
    assert client.get(f"/w/{campaign['id']}").status_code == 200


@pytest.mark.parametrize("settings", [
    {"options": ["Only one"]},
    {"options": [f"Option {i}" for i in range(7)]},
    {"options": ["Trees", "trees "]},
    {"options": ["Trees", "   "]},
    {"options": ["Trees", "x" * 41]},
    {"results": "never"},
    {"question": ""},
    {"colour": "red"},
])
def test_bad_poll_settings_are_refused(client, brand, settings):
    headers = {"Authorization": f"Bearer {brand['api_token']}"}
    body = {"name": "Bad poll", "activity": "poll", "settings": settings, "goal": 100,
            "cause": {"title": "t", "description": "d"}, "status": "draft"}
    response = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 422, response.get_json()


# -- voting over Socket.IO -------------------------------------------------------------------


def test_friends_vote_once_each_and_see_the_results(servers, viewers, make_campaign, store):
    campaign = make_campaign(activity="poll", settings={})
    cid = campaign["id"]
    ana = viewers(servers[0].url, name="Ana")
    ben = viewers(servers[1].url, name="Ben")
    joined = ana.join(cid)
    assert joined["state"] == {"votes": [0, 0, 0], "options": DEFAULT_OPTIONS}
    assert joined["mine"] == {}
    session = joined["session"]
    assert ben.join(cid, session=session)["session"] == session

    assert vote(ana, 1, "ana-vote") == {"ok": True, "total": 1, "session_total": 1}
    assert vote(ben, 0) == {"ok": True, "total": 2, "session_total": 2}
    for who in (ana, ben):
        progress = who.wait_for("progress", lambda p: p["total"] == 2)
        who.wait_for("progress", lambda p: p.get("state", {}).get("votes") == [1, 1, 0])
        assert progress["session_total"] == 2

    # a second vote of the same viewer is refused, with the activity's words, and not counted
    again = vote(ana, 2)
    assert again["ok"] is False and again["error"]["code"] == "invalid"
    assert again["error"]["already"] == "vote"
    assert again["error"]["message"] == "You have already voted."
    # a retried action id is a duplicate, never a second vote
    assert vote(ana, 1, "ana-vote") == {"ok": True, "total": 2, "session_total": 2,
                                        "duplicate": True}
    assert store.stats(cid)["total"] == 2

    # back later (a new connection, the same viewer): their vote comes back as `mine`
    ana.close()
    back = viewers(servers[1].url, viewer=ana.viewer, name="Ana")
    rejoined = back.join(cid, session=session)
    assert rejoined["mine"] == {"vote": "1"}
    assert rejoined["state"]["votes"] == [1, 1, 0]
    assert (rejoined["total"], rejoined["session_total"]) == (2, 2)
    assert vote(back, 0)["error"]["already"] == "vote"
    assert ben.call("join", {"campaign": cid, "viewer": ben.viewer, "session": session}
                    )["mine"] == {"vote": "0"}


@pytest.mark.parametrize("action", [
    {"kind": "vote", "data": {"option": 3}},
    {"kind": "vote", "data": {"option": -1}},
    {"kind": "vote", "data": {"option": "1"}},
    {"kind": "vote", "data": {"option": 1.0}},
    {"kind": "vote", "data": {"option": True}},
    {"kind": "vote", "data": {"option": None}},
    {"kind": "vote", "data": {"option": 1, "also": 2}},
    {"kind": "vote", "data": {}},
    {"kind": "vote"},
    {"kind": "pledge", "data": {"option": 1}},
])
def test_a_bad_vote_is_invalid_and_counts_nothing(server, viewers, make_campaign, store,
                                                  action):
    campaign = make_campaign(activity="poll", settings={"options": ["Yes", "No"]})
    carol = viewers(server.url)
    carol.join(campaign["id"])
    ack = carol.act(**action)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
    assert store.stats(campaign["id"])["total"] == 0
    # the refusal used nothing up: carol still has her one vote, without `kind` too
    assert carol.act(data={"option": 1})["total"] == 1
    assert carol.join(campaign["id"])["state"]["votes"] == [0, 1]


# -- the widget document ---------------------------------------------------------------------


def test_the_poll_widget_keeps_every_hook_and_hides_results_until_a_vote(client,
                                                                        make_campaign):
    campaign = make_campaign(activity="poll", settings={"question": "Which <cause>?"})
    response = client.get(f"/w/{campaign['id']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for hook in HOOKS:
        assert hook in html, hook
    assert "Which &lt;cause&gt;?" in html
    buttons = re.findall(r"<button[^>]*data-socialad-action[^>]*>", html)
    assert len(buttons) == 3
    for index, button in enumerate(buttons):
        assert f'data-option="{index}"' in button and "disabled" in button
        assert 'type="button"' in button and 'aria-pressed="false"' in button
    for label in DEFAULT_OPTIONS:
        assert label in html
    assert 'data-results="after_vote"' in html
    assert " hidden" in results_section(html)
    assert ' style="' not in html  # the CSP allows no style attributes


def test_results_shown_from_the_start_when_always(client, make_campaign, server, viewers):
    campaign = make_campaign(activity="poll",
                             settings={"results": "always", "options": ["Trees", "Rivers"]})
    cid = campaign["id"]
    for option in (0, 1, 1):
        viewer = viewers(server.url)
        viewer.join(cid)
        assert vote(viewer, option)["ok"]
    response = client.get(f"/w/{cid}")
    html = response.get_data(as_text=True)
    assert "hidden" not in results_section(html)
    assert 'data-results="always"' in html and 'data-votes="[1, 2]"' in html
    counts = re.findall(r"data-poll-count>([^<]*)<", html)
    assert counts == ["1 vote · 33%", "2 votes · 67%"]
    assert re.search(r'role="img"[^>]*aria-label="Rivers: 67% of the votes"', html)
    assert re.search(r"<span class=\"sa-total\" data-socialad-total>3</span>", html)
    # the bars' first widths come in a nonce'd style element, never a style attribute
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">#sa-poll-bar-0{{width:33%}}#sa-poll-bar-1{{width:67%}}' in html
    assert ' style="' not in html


def test_the_poll_speaks_the_campaign_s_language(client, make_campaign, server, viewers):
    campaign = make_campaign(activity="poll", language="es",
                             settings={"results": "always", "options": ["Árboles", "Ríos"]})
    cid = campaign["id"]
    for option in (0, 1, 1):
        viewer = viewers(server.url)
        viewer.join(cid)
        assert vote(viewer, option)["ok"]
    html = client.get(f"/w/{cid}").get_data(as_text=True)
    assert '<html lang="es"' in html
    buttons = re.findall(r"<button[^>]*data-socialad-action[^>]*>.*?</button>", html)
    assert len(buttons) == 2
    for button in buttons:
        assert 'data-your-vote="Tu voto"' in button
        assert '<span class="sa-poll-cta" aria-hidden="true">Votar</span>' in button
    assert re.findall(r"data-poll-count>([^<]*)<", html) == ["1 voto · 33\u00a0%",
                                                             "2 votos · 67\u00a0%"]
    assert re.search(r'aria-label="Ríos: 67\u00a0% de los votos"', html)
    assert ">Resultados</p>" in html and "Votos en total:" in html and "Tu grupo:" in html
    assert 'aria-label="Opciones"' in html
    assert english_left(html, "poll") == []
    # a label the brand wrote is theirs, in whatever language they wrote it
    labelled = make_campaign(activity="poll", language="es", settings={"button_label": "Elegir"})
    html = client.get(f"/w/{labelled['id']}").get_data(as_text=True)
    assert '<span class="sa-poll-cta" aria-hidden="true">Elegir</span>' in html
    assert ">Votar<" not in html


def test_the_button_label_defaults_to_the_catalog_s_word(client, make_campaign):
    campaign = make_campaign(activity="poll", settings={})
    assert campaign["settings"]["button_label"] == ""
    html = client.get(f"/w/{campaign['id']}").get_data(as_text=True)
    assert '<span class="sa-poll-cta" aria-hidden="true">Vote</span>' in html
    assert 'data-your-vote="Your vote"' in html and '<html lang="en"' in html


# -- in Chromium -----------------------------------------------------------------------------


@pytest.fixture
def poll_publisher(publish):  # noqa: F811
    """The example news site on http://localhost:PORT with a live poll embedded."""
    return publish(activity="poll", settings={})


def test_friends_vote_in_the_browser_and_both_see_two_votes(person, poll_publisher,  # noqa: F811
                                                             server):
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


def test_a_spanish_poll_lives_in_spanish(person, server, make_campaign):  # noqa: F811
    campaign = make_campaign(activity="poll", language="es", settings={})
    url = f"{server.url}/w/{campaign['id']}"
    page = person()
    page.goto(url)
    other_tab = live_second_tab(page, url, r"^En vivo$")  # the same person, before voting
    expect_text(page.locator("[data-socialad-presence]"), r"persona")
    page.get_by_role("button", name=re.compile("Clean rivers")).click()
    expect_text(page.locator("[data-socialad-note]"), r"^¡Gracias! Tu voto cuenta\.$")
    expect_text(page.locator('[data-poll-result="1"] [data-poll-count]'), "^1 voto · 100\u00a0%$")
    expect_text(page.locator("[data-poll-summary]"),
                r"^Has votado por Clean rivers\. Va en cabeza: Clean rivers, con 1 voto de 1\.$")
    chosen = page.locator('[data-option="1"]')
    assert "Tu voto" in chosen.evaluate("el => getComputedStyle(el, '::after').content")

    # the server refuses the second tab's vote in English (an API message); the viewer reads
    # the catalog's words
    expect(other_tab.locator('[data-option="0"]')).to_be_enabled(timeout=TIMEOUT)
    other_tab.locator('[data-option="0"]').click()
    expect_text(other_tab.locator("[data-socialad-note]"), r"^Ya has votado\.$")
    expect(other_tab.locator("[data-poll-results]")).to_be_visible()
    expect_text(other_tab.locator("[data-poll-summary]"), r"^Ya has votado\.")
