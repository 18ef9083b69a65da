"""Challenge: a shared collective effort, one action per person every few seconds.

In the spirit of r/place: everyone may add one (a seed, a step, a brick) and then waits out a
short cooldown, so the total grows with how many people take part together rather than with
how fast one person can click. Groups (sessions) race on a small leaderboard of group names
and totals, never of individuals; the campaign's ``ends_at`` is the challenge's deadline.
Every word around the brand's own comes from ``texts/<lang>.json``, in the campaign's language.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from socialads.activities import ActionRejected, Activity, Effect, Settings


class ChallengeSettings(Settings):
    verb: Annotated[
        str,
        Field(
            max_length=40,
            title="What one action is",
            description='An instruction, e.g. "Plant a seed"; empty: "Add a '
            "step\" in the campaign's language",
        ),
    ] = ""
    unit: Annotated[
        str,
        Field(
            max_length=24,
            title="What the total counts",
            description='Plural, e.g. "seeds"; empty: "steps" in the campaign\'s language',
        ),
    ] = ""
    button_label: Annotated[
        str,
        Field(
            max_length=32,
            title="Button label",
            description='e.g. "Plant"; empty: "Add mine" in the campaign\'s language',
        ),
    ] = ""
    cooldown_seconds: Annotated[
        int,
        Field(
            ge=0,
            le=3600,
            title="Seconds between a person's actions",
            description="How long one person waits before acting again (0: no wait)",
        ),
    ] = 10


class Challenge(Activity):
    name = "challenge"
    title = "Challenge"
    description = (
        "A shared effort against the clock: everyone adds one every few seconds "
        "and groups race on a leaderboard."
    )
    Settings = ChallengeSettings
    package = __name__
    leaderboard = 5

    def effect(self, settings: ChallengeSettings, kind, data) -> Effect:
        if kind not in (None, "push"):
            raise ActionRejected("invalid", "A challenge action has no kind other than 'push'.")
        if data:
            raise ActionRejected("invalid", "A challenge action carries no data.")
        return Effect(amount=1, cooldown=settings.cooldown_seconds)

    def summarise(self, settings: ChallengeSettings, state: dict[str, int]) -> dict:
        return {"cooldown": settings.cooldown_seconds}


widget = Challenge()
