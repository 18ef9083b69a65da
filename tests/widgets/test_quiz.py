"""The quiz activity (issue 4): friends answer a short question set about the cause together
and see the group's score; every answer shows what is true. Its settings, its rules over real
Socket.IO clients and `serve` processes, its widget document and its admin form; in Chromium:
tests/browser/test_widget_quiz.py."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.admin import FORM
from tests.support.pages import HOOKS, english_left
from tests.support.widgets import RIGHT, one_question


def answer(viewer, question, option, action_id=None, **extra):
    return viewer.act(
        action_id, kind="answer", data={"question": question, "option": option}, **extra
    )


# -- the activity and its settings ----------------------------------------------------------


def test_quiz_is_listed_with_its_settings_schema(client):
    response = client.get("/api/v1/activities")
    assert response.status_code == 200
    quiz = {a["name"]: a for a in response.get_json()["activities"]}["quiz"]
    assert quiz["title"] == "Quiz" and quiz["description"]
    schema = quiz["settings"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    questions = schema["properties"]["questions"]
    assert questions["title"] and questions["description"] and questions["type"] == "array"
    assert (questions["minItems"], questions["maxItems"]) == (1, 10)
    assert [q["answer"] for q in questions["default"]] == RIGHT
    question = schema["$defs"]["Question"]
    assert question["additionalProperties"] is False
    assert set(question["properties"]) == {"question", "options", "answer", "explanation"}
    for prop in question["properties"].values():
        assert prop["title"] and prop["description"]
    options = question["properties"]["options"]
    assert (options["minItems"], options["maxItems"]) == (2, 4)


def test_a_quiz_campaign_with_default_settings_through_the_api(client, brand):
    headers = {"Authorization": f"Bearer {brand['api_token']}"}
    body = {
        "name": "Learn",
        "activity": "quiz",
        "goal": 100,
        "settings": {},
        "status": "live",
        "cause": {"title": "Know your river", "description": "Three questions."},
    }
    response = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    questions = response.get_json()["settings"]["questions"]
    assert len(questions) == 3 and [q["answer"] for q in questions] == RIGHT
    for q in questions:
        assert 2 <= len(q["options"]) <= 4 and q["question"] and q["explanation"]


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"questions": [one_question(answer=2)]}, "settings.questions.0.answer"),
        (
            {"questions": [one_question(), one_question(options=["a", "b", "c"], answer=3)]},
            "settings.questions.1.answer",
        ),
        ({"questions": [one_question(answer=-1)]}, "settings.questions.0.answer"),
        ({"questions": [one_question(options=["only one"])]}, "settings.questions.0.options"),
        (
            {"questions": [one_question(options=["a", "b", "c", "d", "e"])]},
            "settings.questions.0.options",
        ),
        ({"questions": [one_question(hint="x")]}, "settings.questions.0.hint"),
        ({"questions": [one_question(explanation="")]}, "settings.questions.0.explanation"),
        ({"questions": []}, "settings.questions"),
        ({"questions": [one_question()] * 11}, "settings.questions"),
        ({"questions": [one_question(answer="0")]}, "settings.questions.0.answer"),
        ({"surprise": True}, "settings.surprise"),
    ],
)
def test_bad_quiz_settings_are_refused_with_the_field(client, brand, settings, field):
    headers = {"Authorization": f"Bearer {brand['api_token']}"}
    body = {
        "name": "Learn",
        "activity": "quiz",
        "goal": 100,
        "settings": settings,
        "cause": {"title": "Know your river"},
    }
    response = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["message"].startswith(field), error
    assert field in [d["field"] for d in error["details"]]


def test_custom_questions_are_kept(make_campaign):
    campaign = make_campaign(activity="quiz", settings={"questions": [one_question()]})
    assert campaign["settings"] == {"questions": [one_question()]}


# -- answering together ----------------------------------------------------------------------


def test_friends_answer_together_and_see_the_group_score(servers, viewers, make_campaign, store):
    campaign = make_campaign(activity="quiz", settings={})
    cid = campaign["id"]
    ana = viewers(servers[0].url, name="Ana")
    ben = viewers(servers[1].url, name="Ben")
    joined = ana.join(cid)
    assert joined["mine"] == {}
    assert joined["state"] == {"questions": [{"answered": 0, "correct": 0}] * 3}
    session = joined["session"]
    assert ben.join(cid, session=session)["session"] == session

    # a right answer adds to the group's score and the total
    assert answer(ana, 0, RIGHT[0]) == {"ok": True, "total": 1, "session_total": 1}
    ben.wait_for("progress", lambda p: p["total"] == 1 and p["session_total"] == 1)
    # a wrong one counts as answered, and adds nothing
    assert answer(ben, 0, 2) == {"ok": True, "total": 1, "session_total": 1}
    assert answer(ben, 1, RIGHT[1]) == {"ok": True, "total": 2, "session_total": 2}
    progress = ana.wait_for("progress", lambda p: p["state"]["questions"][1]["answered"] == 1)
    assert progress["state"]["questions"][:2] == [
        {"answered": 2, "correct": 1},
        {"answered": 1, "correct": 1},
    ]
    assert progress["total"] == 2 and progress["session_total"] == 2

    # the same question twice: refused, and not counted, whatever the option
    for option in (RIGHT[0], 1):
        again = answer(ana, 0, option)
        assert again["ok"] is False and again["error"]["code"] == "invalid"
        assert again["error"]["message"] == "You have already answered that question."
        assert again["error"]["already"] == "q0"
    # the same action id again is a duplicate, not a second answer
    first = answer(ana, 2, RIGHT[2], action_id="a-q2")
    assert first == {"ok": True, "total": 3, "session_total": 3}
    assert answer(ana, 2, RIGHT[2], action_id="a-q2") == {**first, "duplicate": True}

    total, state, _ = store.campaign_progress(cid)
    assert total == 3
    assert state == {"q0": 2, "q0c": 1, "q1": 1, "q1c": 1, "q2": 1, "q2c": 1}

    # another group elsewhere: its score is its own; the total is everyone's
    cleo = viewers(servers[0].url, name="Cleo")
    assert cleo.join(cid)["session_total"] == 0
    assert answer(cleo, 1, RIGHT[1]) == {"ok": True, "total": 4, "session_total": 1}

    # back later (a new connection, the same viewer): their answers come back as `mine`
    ana.close()
    back = viewers(servers[1].url, viewer=ana.viewer, name="Ana")
    rejoined = back.join(cid, session=session)
    assert rejoined["mine"] == {"q0": str(RIGHT[0]), "q2": str(RIGHT[2])}
    assert rejoined["session_total"] == 3 and rejoined["total"] == 4
    assert rejoined["state"]["questions"] == [
        {"answered": 2, "correct": 1},
        {"answered": 2, "correct": 2},
        {"answered": 1, "correct": 1},
    ]
    assert answer(back, 0, RIGHT[0])["error"]["already"] == "q0"
    assert ben.join(cid, session=session)["mine"] == {"q0": "2", "q1": str(RIGHT[1])}
    assert store.campaign_progress(cid)[0] == 4


@pytest.mark.parametrize(
    "kind, data",
    [
        ("answer", {"question": 3, "option": 0}),
        ("answer", {"question": -1, "option": 0}),
        ("answer", {"question": 0, "option": 3}),
        ("answer", {"question": 0, "option": -1}),
        ("answer", {"question": "0", "option": 0}),
        ("answer", {"question": True, "option": 0}),
        ("answer", {"question": 0, "option": 1.0}),
        ("answer", {"question": 0}),
        ("answer", {"question": 0, "option": 0, "extra": 1}),
        ("answer", None),
        ("vote", {"question": 0, "option": 0}),
    ],
)
def test_a_bad_answer_is_invalid_and_counts_nothing(
    server, viewers, make_campaign, store, kind, data
):
    campaign = make_campaign(activity="quiz", settings={})
    ana = viewers(server.url)
    ana.join(campaign["id"])
    payload = {"kind": kind} | ({"data": data} if data is not None else {})
    refused = ana.act(**payload)
    assert refused["ok"] is False and refused["error"]["code"] == "invalid", refused
    assert store.campaign_progress(campaign["id"])[:2] == (0, {})
    # and the question can still be answered
    assert answer(ana, 0, RIGHT[0])["ok"] is True


def test_an_answer_without_a_kind_counts(server, viewers, make_campaign):
    campaign = make_campaign(activity="quiz", settings={})
    ana = viewers(server.url)
    ana.join(campaign["id"])
    ack = ana.act(data={"question": 1, "option": RIGHT[1]})
    assert ack == {"ok": True, "total": 1, "session_total": 1}


# -- the widget document ----------------------------------------------------------------------


def test_the_quiz_widget_keeps_every_hook_and_reveals_nothing_before_an_answer(
    client, make_campaign
):
    campaign = make_campaign(activity="quiz", settings={})
    response = client.get(f"/w/{campaign['id']}")
    assert response.status_code == 200
    html = response.data.decode()
    for hook in HOOKS:
        assert hook in html, hook
    assert campaign["promise"] in html
    assert "style=" not in html.split("<body", 1)[1]  # CSP: classes only
    assert "/widgets/quiz-" in html

    questions = campaign["settings"]["questions"]
    buttons = re.findall(r"<button[^>]*data-socialad-action[^>]*>", html)
    assert len(buttons) == sum(len(q["options"]) for q in questions)
    assert all("disabled" in b for b in buttons)  # until the live code joins
    for i, q in enumerate(questions):
        for j, option in enumerate(q["options"]):
            assert re.search(rf'data-question="{i}" data-option="{j}"', html)
            assert option in html
    # one question at a time: the others are there, hidden
    items = re.findall(r"<li class=\"sa-quiz-q\"[^>]*>", html)
    assert len(items) == 3 and "hidden" not in items[0] and all("hidden" in x for x in items[1:])
    assert "0 of 3 answered" in html

    # explanations and right answers only as data for the script, never as page text
    key_json = re.search(
        r'<script type="application/json" data-quiz-key>(.*?)</script>', html, re.S
    ).group(1)
    assert json.loads(key_json) == [
        {"answer": q["answer"], "explanation": q["explanation"]} for q in questions
    ]
    without_key = html.replace(key_json, "")
    for q in questions:
        assert q["explanation"][:40] not in without_key
    assert re.findall(r"<span class=\"sa-quiz-tag\" data-quiz-tag>(.*?)</span>", html) == [""] * 9
    for hook in ("data-quiz-verdict", "data-quiz-explanation"):
        assert re.findall(rf"<p[^>]*{hook}>(.*?)</p>", html) == [""] * 3


def test_the_quiz_speaks_the_campaign_s_language(client, make_campaign):
    questions = [
        one_question(
            question="¿Cuál es un árbol?",
            options=["Roble", "Granito"],
            explanation="El roble es un árbol; el granito, una roca.",
        ),
        one_question(question="¿Cuál es un río?", options=["Ebro", "Teide"]),
    ]
    campaign = make_campaign(
        activity="quiz", language="es", goal=25000, settings={"questions": questions}
    )
    html = client.get(f"/w/{campaign['id']}").data.decode()
    assert '<html lang="es"' in html
    assert "Puntuación de tu grupo:" in html and ">aciertos</span>" in html
    assert "de 25.000 aciertos entre todos" in html
    assert 'aria-label="Aciertos hacia la meta"' in html
    assert 'aria-valuetext="0 de 25.000 aciertos"' in html
    assert ">0 de 2 respondidas</p>" in html
    assert re.findall(r'<p class="sa-quiz-number">([^<]*)</p>', html) == [
        "Pregunta 1 de 2",
        "Pregunta 2 de 2",
    ]
    assert html.count(">Siguiente pregunta</button>") == 2
    assert english_left(html, "quiz") == []


def test_quiz_text_is_escaped(client, make_campaign):
    evil = "<img src=x onerror=alert(1)>"
    campaign = make_campaign(
        activity="quiz",
        settings={
            "questions": [
                one_question(question=evil, options=[evil, "b"], explanation=f"</script>{evil}")
            ]
        },
    )
    html = client.get(f"/w/{campaign['id']}").data.decode()
    assert evil not in html and "</script><img" not in html


def test_the_admin_edits_questions_as_json(admin, make_campaign):
    campaign = make_campaign(activity="quiz", settings={"questions": [one_question()]})
    page = admin.get(f"/admin/campaigns/{campaign['id']}/edit").get_data(as_text=True)
    area = re.search(
        r'<textarea id="f-settings-quiz-questions" name="settings.quiz.questions"'
        r"[^>]*>(.*?)</textarea>",
        page,
        re.S,
    )
    assert area, "the questions are a JSON textarea"
    import html as html_lib

    assert json.loads(html_lib.unescape(area.group(1))) == [one_question()]

    form = {**FORM, "activity": "quiz"}
    two = [one_question(), one_question(question="Which is a river?", options=["Danube", "Alps"])]
    response = admin.post(
        f"/admin/campaigns/{campaign['id']}/edit",
        data={**form, "settings.quiz.questions": json.dumps(two)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = admin.get(f"/admin/campaigns/{campaign['id']}/edit").get_data(as_text=True)
    assert "Which is a river?" in page and "Danube" in page
    response = admin.post(
        f"/admin/campaigns/{campaign['id']}/edit",
        data={**form, "settings.quiz.questions": json.dumps([one_question(answer=2)])},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "0.answer: must be the index of one of the 2 options" in page
    response = admin.post(
        f"/admin/campaigns/{campaign['id']}/edit",
        data={**form, "settings.quiz.questions": "[{not json"},
    )
    assert response.status_code == 422
    # the preview falls back to the default questions for what it cannot use
    preview = admin.get(
        "/admin/campaigns/preview", query_string={**form, "settings.quiz.questions": "[{not json"}
    )
    assert preview.status_code == 200 and "How do trees on hillsides" in preview.get_data(
        as_text=True
    )
