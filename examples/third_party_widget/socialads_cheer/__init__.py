"""Cheer: viewers send a cheer for the cause, and watch the cheers add up together.

A complete socialads activity in one small package, built only on the documented widget
interface (``socialads.activities``); the socialads core never names it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from socialads.activities import ActionRejected, Activity, Effect, Settings


class CheerSettings(Settings):
    """What a brand may set for a cheer campaign; every field has a default."""

    emoji_label: Annotated[
        str,
        Field(
            min_length=1,
            max_length=32,
            title="Button label",
            description='What the cheer button says, e.g. "👏 Cheer"',
        ),
    ] = "👏 Cheer"


class Cheer(Activity):
    name = "cheer"  # the entry point's name, and the value of a campaign's `activity`
    title = "Cheer"
    description = "Send a cheer for the cause; every cheer adds one to the total."
    Settings = CheerSettings
    package = __name__  # template.html, widget.js and widget.css are found here

    def effect(self, settings: CheerSettings, kind, data) -> Effect:
        if kind not in (None, "cheer"):
            raise ActionRejected("invalid", "A cheer has no kind other than 'cheer'.")
        if data:
            raise ActionRejected("invalid", "A cheer carries no data.")
        return Effect(amount=1)


widget = Cheer()
