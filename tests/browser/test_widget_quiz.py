"""The quiz activity (issue 4) in Chromium: friends answer together on the publisher's page and
see the group's score, an accessibility audit with the keyboard alone, and a quiz in Spanish.
Its rules and document: tests/widgets/test_quiz.py."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import TIMEOUT, axe_violations, expect_text, live_second_tab, unit
from tests.support.widgets import RIGHT, one_question

# -- in the browser ----------------------------------------------------------------------------


@pytest.fixture
def quiz_publisher(publish):
    """The example news site on http://localhost:PORT with a live quiz embedded."""
    return publish(activity="quiz", settings={})


def test_friends_answer_in_the_browser_and_both_see_the_group_score(person, quiz_publisher, server):
    origin, campaign = quiz_publisher
    questions = campaign["settings"]["questions"]
    ana = person()
    ana.goto(origin + "/")
    ana.locator("iframe").first.scroll_into_view_if_needed()  # a unit goes live once in view
    ana_unit = unit(ana)
    expect_text(ana_unit.locator("[data-socialad-status]"), r"Live")
    first = ana_unit.locator('[data-question="0"][data-option="0"]')
    expect(first).to_be_enabled(timeout=TIMEOUT)
    explanation = ana_unit.locator('[data-quiz-question="0"] [data-quiz-explanation]')
    expect(explanation).to_be_hidden()

    first.click()  # right
    expect_text(explanation, re.escape(questions[0]["explanation"][:40]))
    expect(explanation).to_be_visible()
    expect_text(ana_unit.locator('[data-quiz-question="0"] [data-quiz-verdict]'), r"^Right!")
    expect_text(first.locator("[data-quiz-tag]"), r"Your answer: right")
    expect(first).to_be_disabled()
    expect_text(ana_unit.locator("[data-socialad-session-total]"), r"^1$")
    expect_text(ana_unit.locator("[data-socialad-total]"), r"^1$")
    expect_text(ana_unit.locator("[data-quiz-progress]"), r"^1 of 3 answered$")
    expect_text(ana_unit.locator("[data-quiz-announce]"), r"Right!")

    ana_unit.locator('[data-quiz-question="0"] [data-quiz-next]').click()
    expect(ana_unit.locator('[data-quiz-question="1"]')).to_be_visible()
    expect(ana_unit.locator('[data-quiz-question="0"]')).to_be_hidden()

    invite = ana_unit.locator("[data-socialad-invite]")
    expect(invite).to_be_enabled(timeout=TIMEOUT)
    invite_url = invite.get_attribute("data-invite-url")
    assert invite_url.startswith(f"{server.url}/s/")

    ben = person()
    ben.goto(invite_url)  # the friend follows the link: our landing page, same session
    expect_text(ben.locator("[data-socialad-presence]"), r"\b2\b")
    expect_text(ben.locator("[data-socialad-session-total]"), r"^1$")
    wrong = ben.locator('[data-question="0"][data-option="2"]')
    expect(wrong).to_be_enabled(timeout=TIMEOUT)
    wrong.click()  # wrong: it says so in words, with the right answer and what is true
    verdict = ben.locator('[data-quiz-question="0"] [data-quiz-verdict]')
    expect_text(verdict, r"^Not quite\. The right answer: " + re.escape(questions[0]["options"][0]))
    expect_text(
        ben.locator('[data-quiz-question="0"] [data-quiz-explanation]'),
        re.escape(questions[0]["explanation"][:40]),
    )
    expect_text(
        ben.locator('[data-question="0"][data-option="0"] [data-quiz-tag]'), r"^Right answer$"
    )
    expect_text(ben.locator("[data-quiz-progress]"), r"^1 of 3 answered$")
    ben.locator('[data-quiz-question="0"] [data-quiz-next]').click()
    ben.locator(f'[data-question="1"][data-option="{RIGHT[1]}"]').click()  # right
    expect_text(ben.locator('[data-quiz-question="1"] [data-quiz-verdict]'), r"^Right!")

    for where in (ana_unit, ben):
        expect_text(where.locator("[data-socialad-session-total]"), r"^2$")
        expect_text(where.locator("[data-socialad-total]"), r"^2$")

    # Ben comes back (the invite page keeps who he is; a cross-site frame may not be allowed
    # to): his answers are restored, and the quiz moves on to the question he has not answered
    ben.reload()
    expect_text(ben.locator("[data-socialad-status]"), r"Live")
    expect_text(ben.locator("[data-quiz-progress]"), r"^2 of 3 answered$")
    expect(ben.locator('[data-quiz-question="2"]')).to_be_visible()
    expect(ben.locator('[data-quiz-question="0"]')).to_be_hidden()
    expect(ben.locator('[data-question="2"][data-option="0"]')).to_be_enabled()
    expect(ben.locator('[data-question="0"][data-option="0"]')).to_be_disabled()
    expect_text(ben.locator('[data-quiz-question="0"] [data-quiz-verdict]'), r"^Not quite")
    expect_text(ben.locator("[data-socialad-session-total]"), r"^2$")

    # the last answer: every question is shown again to look back on, with the score
    ben.locator(f'[data-question="2"][data-option="{RIGHT[2]}"]').click()
    expect_text(ben.locator("[data-quiz-done]"), r"You got 2 of 3 right\. Your group's score: 3\.")
    for q in range(3):
        expect(ben.locator(f'[data-quiz-question="{q}"] [data-quiz-explanation]')).to_be_visible()
    expect(ben.locator("[data-quiz-next]:visible")).to_have_count(0)
    expect_text(ana_unit.locator("[data-socialad-session-total]"), r"^3$")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_quiz_passes_an_accessibility_audit_and_works_with_the_keyboard(
    browser, server, make_campaign, store, theme
):
    """axe-core in Chromium after a right and a wrong answer, in the light and the dark look;
    the answers given with the keyboard alone, focus following along."""
    campaign = make_campaign(
        activity="quiz", settings={}, look={"accent": "#0b6e4f", "theme": theme}
    )
    token = store.create_session(campaign["id"], "ana")
    context = browser.new_context(bypass_csp=True)  # lets the test inject axe-core
    context.set_default_timeout(TIMEOUT)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/s/{token}")
        first = page.locator('[data-question="0"][data-option="0"]')
        expect(first).to_be_enabled()
        assert axe_violations(page) == []
        first.focus()
        page.keyboard.press("Enter")  # right
        next_button = page.locator('[data-quiz-question="0"] [data-quiz-next]')
        expect(next_button).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator('[data-quiz-question="1"] .sa-quiz-text')).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.locator('[data-question="1"][data-option="0"]')).to_be_focused()
        page.keyboard.press("Enter")  # wrong
        expect_text(page.locator('[data-quiz-question="1"] [data-quiz-verdict]'), r"^Not quite")
        expect_text(page.locator("[data-socialad-session-total]"), r"^1$")
        assert axe_violations(page) == []
    finally:
        context.close()


def test_a_spanish_quiz_lives_in_spanish(person, server, make_campaign):
    campaign = make_campaign(
        activity="quiz",
        language="es",
        settings={
            "questions": [
                one_question(question="¿Cuál es un árbol?", options=["Roble", "Granito"]),
                one_question(question="¿Cuál es un río?", options=["Ebro", "Teide"]),
            ]
        },
    )
    url = f"{server.url}/w/{campaign['id']}"
    page = person()
    page.goto(url)
    other_tab = live_second_tab(page, url, r"^En vivo$")  # the same person, before answering
    wrong = page.locator('[data-question="0"][data-option="1"]')
    expect(wrong).to_be_enabled(timeout=TIMEOUT)
    wrong.click()
    expect_text(
        page.locator('[data-quiz-question="0"] [data-quiz-verdict]'),
        r"^No exactamente\. La respuesta correcta es: Roble\.$",
    )
    expect_text(wrong.locator("[data-quiz-tag]"), r"^Tu respuesta: incorrecta$")
    expect_text(
        page.locator('[data-question="0"][data-option="0"] [data-quiz-tag]'),
        r"^Respuesta correcta$",
    )
    expect_text(page.locator("[data-quiz-progress]"), r"^1 de 2 respondidas$")
    expect_text(
        page.locator('[data-quiz-question="0"] [data-quiz-crowd]'),
        r"^Hasta ahora ha respondido 1 persona; 0 han acertado\.$",
    )
    page.locator('[data-quiz-question="0"] [data-quiz-next]').click()
    page.locator('[data-question="1"][data-option="0"]').click()  # right
    expect_text(page.locator('[data-quiz-question="1"] [data-quiz-verdict]'), r"^¡Correcto!$")
    expect_text(
        page.locator("[data-quiz-done]"),
        r"^¡Hecho! Has acertado 1 de 2\. Puntuación de tu grupo: 1\.$",
    )
    expect_text(page.locator("[data-quiz-announce]"), r"Era la última pregunta\.$")

    # the server refuses the second tab's answer in English (an API message); the viewer reads
    # the catalog's words
    first = other_tab.locator('[data-question="0"][data-option="0"]')
    expect(first).to_be_enabled(timeout=TIMEOUT)
    first.click()
    expect_text(other_tab.locator("[data-socialad-note]"), r"^Ya has respondido a esta pregunta\.$")
    expect(first).to_be_disabled()
