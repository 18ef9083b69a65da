"""The events-channel listener: what every process hears from the others (and from itself)
on our own Redis channel, handed to the part of this process it concerns.

New totals make progress due (``socialads.realtime.progress``), a session whose members
changed owes its viewers presence (``socialads.realtime.presence``), a changed campaign is read
afresh, a block or a closed session takes the viewers concerned out
(``socialads.realtime.viewers``), and a liveness nonce tells ``/healthz`` that this listener
still hears (``socialads.realtime.liveness``). What the channel carries, and which messages
are ours, is ``socialads.store.events``.
"""

from __future__ import annotations

from socialads.domain.campaigns import Campaigns
from socialads.protocol import EventKind
from socialads.realtime.liveness import Hearing
from socialads.realtime.presence import Presence
from socialads.realtime.progress import Progress
from socialads.realtime.viewers import Viewers
from socialads.store import Store
from socialads.store.events import channel_event

# Looked up once here, not as the enum's attributes once a message.
PING, PROGRESS, CAMPAIGN = EventKind.PING, EventKind.PROGRESS, EventKind.CAMPAIGN
BLOCKED, CLOSED, MEMBERS = EventKind.BLOCKED, EventKind.CLOSED, EventKind.MEMBERS


class Listener:
    """This process's subscription to the events channel."""

    def __init__(
        self,
        store: Store,
        campaigns: Campaigns,
        hearing: Hearing,
        progress: Progress,
        presence: Presence,
        viewers: Viewers,
    ):
        self.store = store
        self.campaigns = campaigns
        self.hearing = hearing  # the liveness check's side of this listener
        self.progress = progress
        self.presence = presence
        self.viewers = viewers

    def listen(self) -> None:
        """Hear totals and campaign changes from every process (including this one)."""
        pubsub = self.store.listener_connection().pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.store.events_channel)
            # We may have missed notices while not subscribed: push fresh state to everyone.
            self.progress.forget_counts()
            self.progress.all_due()
            self.presence.all_due()
            for message in self.hearing.messages(pubsub):  # until /healthz finds it deaf
                event = channel_event(message["data"])
                if event is None:
                    continue  # not one of ours: ignored, never a reason to stop listening
                kind = event["k"]
                if kind == PING:
                    self.hearing.heard(event["n"])
                elif kind == PROGRESS:
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
        finally:
            pubsub.close()
