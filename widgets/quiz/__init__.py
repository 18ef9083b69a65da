"""Quiz: friends answer a short question set about the cause together and see the group's score.

Each right answer adds 1 to the campaign total (everyone's right answers: learning together)
and to the session total (the group's score); a wrong answer counts the action only. A viewer
answers each question once (``once`` key ``q<i>``, their option kept as the choice and returned
to them as ``mine`` on join), and every answer shows an explanation: what is true.

The words around the questions come from ``texts/<lang>.json`` in the campaign's language; the
questions are the brand's content (the default ones are in English).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from socialads.activities import ActionRejected, Activity, Effect, Settings

# The refusal as the API says it (English); widget.js shows texts/<lang>.json's "already".
ALREADY = "You have already answered that question."


class Question(BaseModel):
    """One question: its options, which one is right, and what is true."""

    model_config = ConfigDict(extra="forbid", strict=True)

    question: Annotated[
        str,
        Field(min_length=1, max_length=200, title="Question", description="What viewers are asked"),
    ]
    options: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=80)]],
        Field(
            min_length=2,
            max_length=4,
            title="Options",
            description="2 to 4 answers to choose from, each up to 80 characters",
        ),
    ]
    answer: Annotated[
        int,
        Field(
            ge=0, le=3, title="Right option", description="Which option is right, counting from 0"
        ),
    ]
    explanation: Annotated[
        str,
        Field(
            min_length=1,
            max_length=500,
            title="Explanation",
            description="What is true, shown once a viewer answers",
        ),
    ]

    @field_validator("answer")
    @classmethod
    def _answer_is_an_option(cls, answer: int, info: ValidationInfo) -> int:
        options = info.data.get("options")
        if options is not None and answer >= len(options):
            raise ValueError(
                f"must be the index of one of the {len(options)} options (0 to {len(options) - 1})"
            )
        return answer


DEFAULT_QUESTIONS = [
    Question(
        question="How do trees on hillsides help protect towns downstream from floods?",
        options=[
            "They slow rainwater and help it soak into the ground",
            "They make less rain fall",
            "They have no effect on flooding",
        ],
        answer=0,
        explanation="Leaves catch part of the rain, and roots open up the soil so more water "
        "soaks in. Rain reaches streams more slowly, which lowers flood peaks, "
        "especially in smaller floods. Trees help; they cannot stop every flood.",
    ),
    Question(
        question="Where does much of the plastic in the sea start out?",
        options=[
            "Only on ships and fishing boats",
            "On land: rain washes litter into drains and rivers",
            "Nowhere: plastic does not reach the sea",
        ],
        answer=1,
        explanation="Much of the plastic in the sea starts on land. Rain washes litter from "
        "streets and parks into drains and rivers, which carry it to the sea. "
        "Ships and fishing gear add more, so picking up litter near rivers stops "
        "some of it at the source.",
    ),
    Question(
        question="Roughly how much of the food produced for people is lost or wasted?",
        options=["About 1 in 20", "About 1 in 3", "About 9 in 10"],
        answer=1,
        explanation="The UN's Food and Agriculture Organization estimates that roughly a "
        "third of food produced for people is lost or wasted between farm and "
        "fork. Wasting food also wastes the land, water and energy used to grow "
        "it, and food rotting in landfill gives off methane.",
    ),
]


class QuizSettings(Settings):
    questions: Annotated[
        list[Question],
        Field(
            min_length=1,
            max_length=10,
            title="Questions",
            description="1 to 10 questions about the cause, as JSON: a list of "
            '{"question": "...", "options": ["...", "..."], "answer": index of '
            'the right option (from 0), "explanation": "what is true"}',
        ),
    ] = DEFAULT_QUESTIONS  # pydantic copies a mutable default for each instance


def _index(value: Any, size: int, what: str) -> int:
    # bool is an int in Python; a JSON true is not a question number
    if type(value) is not int or not 0 <= value < size:
        raise ActionRejected("invalid", f"{what} must be a number from 0 to {size - 1}.")
    return value


class Quiz(Activity):
    name = "quiz"
    title = "Quiz"
    description = (
        "A short quiz about the cause; friends answer together, see the group's "
        "score and learn what is true."
    )
    Settings = QuizSettings
    package = __name__

    def effect(self, settings: QuizSettings, kind, data) -> Effect:
        if kind not in (None, "answer"):
            raise ActionRejected("invalid", "A quiz action has no kind other than 'answer'.")
        if not isinstance(data, dict) or set(data) != {"question", "option"}:
            raise ActionRejected("invalid", 'An answer is {"question": i, "option": j}.')
        i = _index(data["question"], len(settings.questions), "question")
        question = settings.questions[i]
        j = _index(data["option"], len(question.options), "option")
        correct = j == question.answer
        return Effect(
            amount=1 if correct else 0,
            once=f"q{i}",
            choice=str(j),
            already=ALREADY,
            state={f"q{i}": 1, **({f"q{i}c": 1} if correct else {})},
        )

    def summarise(self, settings: QuizSettings, state: dict[str, int]) -> dict[str, Any]:
        return {
            "questions": [
                {"answered": int(state.get(f"q{i}", 0)), "correct": int(state.get(f"q{i}c", 0))}
                for i in range(len(settings.questions))
            ]
        }


widget = Quiz()
