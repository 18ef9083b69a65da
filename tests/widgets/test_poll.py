"""The poll activity (issue 4): friends vote on which cause the brand funds; one vote each,
live results. Its settings, its rules over real Socket.IO clients and `serve` processes, and its
widget document; in Chromium: tests/browser/test_widget_poll.py."""

from __future__ import annotations

import re

import pytest

from tests.support.pages import HOOKS, english_left

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
    body = {
        "name": "Which cause?",
        "activity": "poll",
        "settings": {},
        "goal": 100,
        "cause": {"title": "You choose", "description": "Vote for the cause we fund."},
        "status": "live",
    }
    response = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    campaign = response.get_json()
    assert campaign["activity"] == "poll" and campaign["id"] in campaign["embed_snippet"]
    assert client.get(f"/w/{campaign['id']}").status_code == 200


@pytest.mark.parametrize(
    "settings",
    [
        {"options": ["Only one"]},
        {"options": [f"Option {i}" for i in range(7)]},
        {"options": ["Trees", "trees "]},
        {"options": ["Trees", "   "]},
        {"options": ["Trees", "x" * 41]},
        {"results": "never"},
        {"question": ""},
        {"colour": "red"},
    ],
)
def test_bad_poll_settings_are_refused(client, brand, settings):
    headers = {"Authorization": f"Bearer {brand['api_token']}"}
    body = {
        "name": "Bad poll",
        "activity": "poll",
        "settings": settings,
        "goal": 100,
        "cause": {"title": "t", "description": "d"},
        "status": "draft",
    }
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
    assert vote(ana, 1, "ana-vote") == {
        "ok": True,
        "total": 2,
        "session_total": 2,
        "duplicate": True,
    }
    assert store.stats(cid)["total"] == 2

    # back later (a new connection, the same viewer): their vote comes back as `mine`
    ana.close()
    back = viewers(servers[1].url, viewer=ana.viewer, name="Ana")
    rejoined = back.join(cid, session=session)
    assert rejoined["mine"] == {"vote": "1"}
    assert rejoined["state"]["votes"] == [1, 1, 0]
    assert (rejoined["total"], rejoined["session_total"]) == (2, 2)
    assert vote(back, 0)["error"]["already"] == "vote"
    assert ben.call("join", {"campaign": cid, "viewer": ben.viewer, "session": session})[
        "mine"
    ] == {"vote": "0"}


@pytest.mark.parametrize(
    "action",
    [
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
    ],
)
def test_a_bad_vote_is_invalid_and_counts_nothing(server, viewers, make_campaign, store, action):
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


def test_the_poll_widget_keeps_every_hook_and_hides_results_until_a_vote(client, make_campaign):
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
    campaign = make_campaign(
        activity="poll", settings={"results": "always", "options": ["Trees", "Rivers"]}
    )
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
    campaign = make_campaign(
        activity="poll",
        language="es",
        settings={"results": "always", "options": ["Árboles", "Ríos"]},
    )
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
    assert re.findall(r"data-poll-count>([^<]*)<", html) == [
        "1 voto · 33\u00a0%",
        "2 votos · 67\u00a0%",
    ]
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
