"""What this process hears from the others (and from itself), handed to the part of this
process it concerns.

New totals make progress due (``socialads.realtime.progress``), a session whose members
changed owes its viewers presence (``socialads.realtime.presence``), a changed campaign is read
afresh, a block or a closed session takes the viewers concerned out
(``socialads.realtime.viewers``). What the channels carry, and which messages are ours, is
``socialads.store.events``; which channels this process hears, ``socialads.realtime.bus``.
"""

from __future__ import annotations

from typing import Any

from socialads.domain.campaigns import Campaigns
from socialads.protocol import EventKind
from socialads.realtime.presence import Presence
from socialads.realtime.progress import Progress
from socialads.realtime.viewers import Viewers

# Looked up once here, not as the enum's attributes once a message.
PROGRESS, CAMPAIGN = EventKind.PROGRESS, EventKind.CAMPAIGN
BLOCKED, CLOSED, MEMBERS = EventKind.BLOCKED, EventKind.CLOSED, EventKind.MEMBERS


class Listener:
    """Our events, as the bus hears them (``Bus.on_event`` and ``Bus.on_gap``)."""

    def __init__(
        self,
        campaigns: Campaigns,
        progress: Progress,
        presence: Presence,
        viewers: Viewers,
    ):
        self.campaigns = campaigns
        self.progress = progress
        self.presence = presence
        self.viewers = viewers

    def heard(self, event: dict[str, Any]) -> None:
        kind = event["k"]
        if kind == PROGRESS:
            self.progress.heard(event)
        elif kind == MEMBERS:
            self.presence.due(event["c"], event["s"])
        elif kind == CAMPAIGN:
            self.campaigns.forget(event["c"])
            self.progress.due(event["c"])
        elif kind == BLOCKED:
            self.viewers.drop_blocked(event["c"], event["m"], event["reason"])
        elif kind == CLOSED:
            self.viewers.drop_session(event["c"], event["s"], event["reason"])

    def gap(self, cids: list[str]) -> None:
        """A listener (re)subscribed to the channels of campaigns ``cids``: we may have missed
        their notices while it was not, so their viewers here get fresh state."""
        self.progress.forget_counts(cids, due=True)
        self.presence.all_due(cids)
