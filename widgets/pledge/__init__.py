"""Pledge: people pledge toward a goal that the brand promises to match.

Each pledge adds ``amount`` to the campaign's total; the brand's promise ("at 10,000 pledges
we fund ...") is the campaign's goal and promise text.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from socialads.activities import ActionRejected, Activity, Effect, Settings


class PledgeSettings(Settings):
    unit: Annotated[str, Field(min_length=1, max_length=24, title="What one pledge is",
                               description='Singular, e.g. "tree" or "meal"')] = "pledge"
    unit_plural: Annotated[str, Field(min_length=1, max_length=24, title="Plural",
                                      description='e.g. "trees" or "meals"')] = "pledges"
    button_label: Annotated[str, Field(min_length=1, max_length=32, title="Button label",
                                       description='e.g. "Pledge a tree"')] = "Pledge"
    amount: Annotated[int, Field(ge=1, le=1000, title="Amount per pledge",
                                 description="What one pledge adds to the total")] = 1
    max_per_viewer: Annotated[
        int, Field(ge=0, le=1000, title="Pledges per person",
                   description="How many times one person may pledge (0: no limit)")
    ] = 0


class Pledge(Activity):
    name = "pledge"
    title = "Pledge"
    description = "Pledge toward a goal the brand matches; friends pledge together."
    Settings = PledgeSettings
    package = __name__

    def effect(self, settings: PledgeSettings, kind, data) -> Effect:
        if kind not in (None, "pledge"):
            raise ActionRejected("invalid", "A pledge has no kind other than 'pledge'.")
        if data:
            raise ActionRejected("invalid", "A pledge carries no data.")
        return Effect(amount=settings.amount, per_viewer_cap=settings.max_per_viewer)


widget = Pledge()
