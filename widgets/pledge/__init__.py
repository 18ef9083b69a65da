"""Pledge: people pledge toward a goal that the brand promises to match.

Each pledge adds ``amount`` to the campaign's total; the brand's promise ("at 10,000 pledges
we fund ...") is the campaign's goal and promise text. With a **group match** on
(``match_every`` > 0), friends unlock more together: every ``match_every`` different people
of one group who pledge make the brand add ``match_amount``, from a pool of ``match_pool``,
and each unlock is written to the campaign's public match ledger (``/c/<id>/ledger``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from socialads.activities import ActionRejected, Activity, Effect, Match, Settings


class PledgeSettings(Settings):
    unit: Annotated[
        str,
        Field(
            max_length=24,
            title="What one pledge is",
            description='Singular, e.g. "tree" or "meal"; '
            'empty: "pledge" in the campaign\'s language',
        ),
    ] = ""
    unit_plural: Annotated[
        str,
        Field(
            max_length=24,
            title="Plural",
            description='e.g. "trees" or "meals"; empty: "pledges" in the campaign\'s language',
        ),
    ] = ""
    button_label: Annotated[
        str,
        Field(
            max_length=32,
            title="Button label",
            description='e.g. "Pledge a tree"; empty: "Pledge" in the campaign\'s language',
        ),
    ] = ""
    amount: Annotated[
        int,
        Field(
            ge=1,
            le=1000,
            title="Amount per pledge",
            description="What one pledge adds to the total",
        ),
    ] = 1
    max_per_viewer: Annotated[
        int,
        Field(
            ge=0,
            le=1000,
            title="Pledges per person",
            description="How many times one person may pledge (0: no limit)",
        ),
    ] = 0
    match_every: Annotated[
        int,
        Field(
            ge=0,
            le=100,
            title="Group match: friends per unlock",
            description='"If 5 of you pledge, we add one more": how many different '
            "people of one group unlock a match (0: no group match)",
        ),
    ] = 0
    match_amount: Annotated[
        int,
        Field(
            ge=1,
            le=100_000,
            title="Group match: what an unlock adds",
            description="What the brand adds to the total for each unlock",
        ),
    ] = 1
    match_pool: Annotated[
        int,
        Field(
            ge=0,
            le=10**9,
            title="Group match: the brand's pool",
            description="The most the brand adds through unlocks, all groups together",
        ),
    ] = 100


class Pledge(Activity):
    name = "pledge"
    title = "Pledge"
    description = "Pledge toward a goal the brand matches; friends unlock more together."
    Settings = PledgeSettings
    package = __name__

    def effect(self, settings: PledgeSettings, kind, data) -> Effect:
        if kind not in (None, "pledge"):
            raise ActionRejected("invalid", "A pledge has no kind other than 'pledge'.")
        if data:
            raise ActionRejected("invalid", "A pledge carries no data.")
        return Effect(amount=settings.amount, per_viewer_cap=settings.max_per_viewer)

    def group_match(self, settings: PledgeSettings) -> Match | None:
        if settings.match_every <= 0:
            return None
        return Match(settings.match_every, settings.match_amount, settings.match_pool)


widget = Pledge()
