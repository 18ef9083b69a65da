"""The challenge activity: a shared effort with a per-person cooldown, a countdown to the
campaign's end and a leaderboard of groups. Its settings, its rules over real Socket.IO clients
and `serve` processes, and its widget document; in Chromium:
tests/browser/test_widget_challenge.py."""

from __future__ import annotations

import re
import time

import pytest

from tests.support.pages import HOOKS, english_left

CHALLENGE = {
    "activity": "challenge",
    "settings": {},
    "promise": "At 1,000 seeds, Brand plants a forest.",
}


def test_the_challenge_is_listed_with_its_settings(client):
    listed = {a["name"]: a for a in client.get("/api/v1/activities").get_json()["activities"]}
    schema = listed["challenge"]["settings"]
    fields = schema["properties"]
    assert set(fields) == {"verb", "unit", "cooldown_seconds", "button_label"}
    assert all(field.get("title") and field.get("description") for field in fields.values())
    assert (
        fields["cooldown_seconds"]["default"],
        fields["cooldown_seconds"]["minimum"],
        fields["cooldown_seconds"]["maximum"],
    ) == (10, 0, 3600)


@pytest.mark.parametrize(
    "settings",
    [
        {"cooldown_seconds": -1},
        {"cooldown_seconds": 3601},
        {"cooldown_seconds": "10"},
        {"leaderboard_size": 3},
        {"verb": "x" * 41},
        {"button_label": "x" * 33},
    ],
)
def test_bad_settings_are_refused(client, brand, settings):
    response = client.post(
        "/api/v1/campaigns",
        json={
            "name": "Seeds",
            "activity": "challenge",
            "goal": 100,
            "settings": settings,
            "cause": {"title": "Plant seeds", "description": ""},
        },
        headers={"Authorization": f"Bearer {brand['api_token']}"},
    )
    assert response.status_code == 422, response.get_json()


def test_a_second_act_inside_the_cooldown_waits(server, viewers, make_campaign):
    campaign = make_campaign(**CHALLENGE)  # the default cooldown: 10 s
    ana = viewers(server.url, name="Ana")
    joined = ana.join(campaign["id"])
    assert joined["state"] == {"cooldown": 10, "board": []}
    first = ana.act("first")
    assert first["ok"] is True and (first["total"], first["session_total"]) == (1, 1)
    again = ana.act()
    assert again["ok"] is False and again["error"]["code"] == "rate_limited"
    assert 8 < again["retry_after"] <= 10
    # refused actions count nothing
    assert ana.act("retry-me")["error"]["code"] == "rate_limited"
    progress = ana.wait_for("progress", lambda p: p["total"] == 1)
    assert progress["state"]["board"] == [{"name": "Ana's group", "total": 1}]
    # a re-sent action (same id) is answered as a duplicate, not as a wait
    assert ana.act("first") == {"ok": True, "total": 1, "session_total": 1, "duplicate": True}


def test_after_the_cooldown_the_next_act_counts(server, viewers, make_campaign):
    campaign = make_campaign(**{**CHALLENGE, "settings": {"cooldown_seconds": 1}})
    ana = viewers(server.url, name="Ana")
    assert ana.join(campaign["id"])["state"]["cooldown"] == 1
    assert ana.act("one")["ok"] is True
    refused = ana.act("two")
    assert refused["error"]["code"] == "rate_limited" and 0 < refused["retry_after"] <= 1
    time.sleep(refused["retry_after"] + 0.05)
    counted = ana.act("two")  # refused ids are not remembered: the same id counts now
    assert counted["ok"] is True and "duplicate" not in counted
    assert (counted["total"], counted["session_total"]) == (2, 2)
    assert ana.act("two")["duplicate"] is True  # and only once


def test_other_people_are_not_slowed_by_my_cooldown(server, viewers, make_campaign):
    campaign = make_campaign(**CHALLENGE)
    ana = viewers(server.url, name="Ana")
    ben = viewers(server.url, name="Ben")
    session = ana.join(campaign["id"])["session"]
    ben.join(campaign["id"], session=session)
    assert ana.act()["ok"] and ben.act()["ok"]
    assert ana.act()["error"]["code"] == "rate_limited"
    assert ben.wait_for("progress", lambda p: p["total"] == 2)["session_total"] == 2


def test_the_board_ranks_groups_by_their_totals(servers, viewers, make_campaign):
    campaign = make_campaign(**{**CHALLENGE, "settings": {"cooldown_seconds": 0}})
    ana = viewers(servers[0].url, name="Ana")
    ben = viewers(servers[1].url, name="Ben")
    cat = viewers(servers[1].url, name="Cat")
    ana.join(campaign["id"])
    ben_session = ben.join(campaign["id"])["session"]
    cat.join(campaign["id"], session=ben_session)  # Cat plays in Ben's group
    assert ana.act()["ok"]
    for person_ in (ben, cat, ben):
        assert person_.act()["ok"]
    board = [{"name": "Ben's group", "total": 3}, {"name": "Ana's group", "total": 1}]
    progress = ana.wait_for("progress", lambda p: p["total"] == 4 and p["state"]["board"] == board)
    assert progress["session_total"] == 1
    # names and totals only: no session token ever reaches the board
    assert all(set(row) == {"name", "total"} for row in progress["state"]["board"])
    late = viewers(servers[0].url, name="Dee")
    assert late.join(campaign["id"])["state"]["board"] == board


def test_the_board_keeps_the_top_five(server, viewers, make_campaign):
    campaign = make_campaign(**{**CHALLENGE, "settings": {"cooldown_seconds": 0}})
    for index, name in enumerate(["A1", "B2", "C3", "D4", "E5", "F6"]):
        person_ = viewers(server.url, name=name)
        person_.join(campaign["id"])
        for _ in range(index + 1):
            assert person_.act()["ok"]
    ack = viewers(server.url, name="Gil").join(campaign["id"])
    assert [row["name"] for row in ack["state"]["board"]] == [
        "F6's group",
        "E5's group",
        "D4's group",
        "C3's group",
        "B2's group",
    ]


def test_a_challenge_refuses_other_kinds_and_data(server, viewers, make_campaign):
    campaign = make_campaign(**CHALLENGE)
    ana = viewers(server.url)
    ana.join(campaign["id"])
    assert ana.act(kind="vote")["error"]["code"] == "invalid"
    assert ana.act(data={"x": 1})["error"]["code"] == "invalid"
    assert ana.act(kind="push")["ok"] is True


def test_the_widget_document(client, make_campaign):
    campaign = make_campaign(
        **{
            **CHALLENGE,
            "ends_at": "2030-07-01T18:30:00Z",
            "settings": {
                "verb": "Plant a seed",
                "unit": "seeds",
                "button_label": "Plant",
                "cooldown_seconds": 30,
            },
        }
    )
    response = client.get(f"/w/{campaign['id']}")
    assert response.status_code == 200
    html = response.data.decode()
    for hook in HOOKS:
        assert hook in html, hook
    assert re.search(r"<button[^>]*data-socialad-action[^>]*>Plant</button>", html)
    assert "every 30 s" in html and "of 1,000 seeds" in html
    assert '<p class="sa-promise">At 1,000 seeds, Brand plants a forest.</p>' in html
    assert re.search(
        r'<time datetime="2030-07-01T18:30:00Z" data-challenge-end>'
        r"2030-07-01 at 18:30 UTC</time>",
        html,
    )
    assert "data-challenge-board" in html and "data-challenge-cooldown" in html
    assert " style=" not in html  # CSP: classes only, widths come from the script


def test_no_end_no_countdown(client, make_campaign):
    html = client.get(f"/w/{make_campaign(**CHALLENGE)['id']}").data.decode()
    assert "data-challenge-end" not in html and "<time" not in html
    assert "every 10 s" in html


def test_labels_left_empty_take_the_catalog_s_words(client, make_campaign):
    campaign = make_campaign(**CHALLENGE)
    assert {k: campaign["settings"][k] for k in ("verb", "unit", "button_label")} == {
        "verb": "",
        "unit": "",
        "button_label": "",
    }
    html = client.get(f"/w/{campaign['id']}").data.decode()
    assert re.search(r"<button[^>]*data-socialad-action[^>]*>Add mine</button>", html)
    assert "<strong>Add a step</strong>: everyone may add one every 10 s." in html
    assert "of 1,000 steps" in html and 'data-verb="Add a step"' in html


def test_the_challenge_speaks_the_campaign_s_language(client, make_campaign):
    campaign = make_campaign(
        **{
            **CHALLENGE,
            "language": "es",
            "goal": 12000,
            "ends_at": "2030-07-01T18:30:00Z",
            "settings": {"cooldown_seconds": 120},
        }
    )
    html = client.get(f"/w/{campaign['id']}").data.decode()
    assert '<html lang="es"' in html
    assert re.search(r"<button[^>]*data-socialad-action[^>]*>Sumarme</button>", html)
    assert (
        "<strong>Da un paso</strong>: cada persona puede sumar una vez cada 2 min. "
        "Juntos llegamos más lejos."
    ) in html
    assert "de 12.000 pasos" in html and 'aria-valuetext="0 de 12.000 pasos"' in html
    assert re.search(
        r"<span data-challenge-ends-label>Termina el</span> <time[^>]*>"
        r"2030-07-01 a las 18:30 UTC</time>",
        html,
    )
    assert ">Grupos en cabeza</p>" in html and "¡Empieza tú!" in html
    assert english_left(html, "challenge") == []
    # what the brand wrote stays as they wrote it
    own = make_campaign(
        **{
            **CHALLENGE,
            "language": "es",
            "settings": {
                "verb": "Planta una semilla",
                "unit": "semillas",
                "button_label": "Plantar",
                "cooldown_seconds": 0,
            },
        }
    )
    html = client.get(f"/w/{own['id']}").data.decode()
    assert re.search(r"<button[^>]*data-socialad-action[^>]*>Plantar</button>", html)
    assert "<strong>Planta una semilla</strong>: suma tantas veces como quieras." in html
    assert "de 1.000 semillas" in html and 'data-verb="Planta una semilla"' in html
