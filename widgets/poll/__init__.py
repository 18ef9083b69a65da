"""Poll: friends vote on which cause the brand funds.

Each viewer votes once per poll (the core refuses a second vote with ``already``, atomically,
in the one counting script); a vote adds 1 to the campaign and session totals and bumps the
chosen option's counter ``o<index>``. ``summarise`` turns those counters into
``{"votes": [count per option], "options": [labels]}``.

The words around the brand's question and options come from ``texts/<lang>.json`` in the
campaign's language; the default question and options are brand content, in English.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from socialads.activities import ActionRejected, Activity, Effect, Settings

ONCE = "vote"
# The refusal as the API says it (English); widget.js shows texts/<lang>.json's "already".
ALREADY = "You have already voted."
OptionLabel = Annotated[str, Field(min_length=1, max_length=40)]


class PollSettings(Settings):
    question: Annotated[
        str,
        Field(
            min_length=1,
            max_length=140,
            title="Question",
            description='What people vote on, e.g. "Which cause should we fund?"',
        ),
    ] = "Which cause should we fund?"
    options: Annotated[
        list[OptionLabel],
        Field(
            min_length=2,
            max_length=6,
            title="Options",
            description="2 to 6 short answers (up to 40 characters each), in the order shown",
        ),
    ] = ["Plant trees", "Clean rivers", "Feed families"]
    results: Annotated[
        Literal["after_vote", "always"],
        Field(
            title="Show results",
            description='"after_vote": each person sees the results once they have voted; '
            '"always": everyone sees them from the start',
        ),
    ] = "after_vote"
    button_label: Annotated[
        str,
        Field(
            max_length=24,
            title="Button label",
            description="The word on each option's button, e.g. "
            '"Choose"; empty: "Vote" in the campaign\'s '
            "language",
        ),
    ] = ""

    @field_validator("options")
    @classmethod
    def _distinct(cls, options: list[str]) -> list[str]:
        labels = [option.strip() for option in options]
        if any(not label for label in labels):
            raise ValueError("an option can't be blank")
        if len({label.casefold() for label in labels}) != len(labels):
            raise ValueError("options must differ from each other")
        return labels


class Poll(Activity):
    name = "poll"
    title = "Poll"
    description = "Friends vote on which cause the brand funds; one vote each, results live."
    Settings = PollSettings
    package = __name__

    def effect(self, settings: PollSettings, kind, data) -> Effect:
        if kind not in (None, "vote"):
            raise ActionRejected("invalid", "A poll action has no kind other than 'vote'.")
        if not isinstance(data, dict) or set(data) != {"option"}:
            raise ActionRejected("invalid", 'A vote carries exactly {"option": index}.')
        index = data["option"]
        # bool is an int in Python: True must not vote for option 1
        if type(index) is not int or not 0 <= index < len(settings.options):
            raise ActionRejected(
                "invalid", f"option: a number from 0 to {len(settings.options) - 1}."
            )
        return Effect(
            amount=1, once=ONCE, choice=str(index), already=ALREADY, state={f"o{index}": 1}
        )

    def summarise(self, settings: PollSettings, state: dict[str, int]) -> dict:
        votes = [max(0, int(state.get(f"o{i}", 0) or 0)) for i in range(len(settings.options))]
        return {"votes": votes, "options": list(settings.options)}


widget = Poll()
