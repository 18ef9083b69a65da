"""Who is connected to this process: each connection's viewer and session, and each
campaign's sessions with the connections in them here.

Room membership is per process, so everything that must be global (presence, totals, chat)
lives in Redis; a process keeps only who is connected *to it*, and only for as long as they
are. A connection the brand blocked is remembered until it joins again or goes, so what it
sends next is refused with the brand's reason rather than ``not_joined``.

One re-entrant ``lock`` guards these maps, and also the progress coalescer's
(``socialads.realtime.progress``): an update's list of sessions and the counters it keeps of
them must agree with who is here, so the two take the same lock rather than one each. The
plain reads (`get`, `sessions`, `has_campaign`) take no lock, as a dictionary read needs
none; a caller that needs them consistent with a later step holds ``lock`` across both.
"""

from __future__ import annotations

import threading
from collections.abc import KeysView, Mapping
from dataclasses import dataclass
from typing import Any

from socialads.domain.analytics import DIRECT

# What the heartbeat refreshes in Redis for one connection: campaign, session, sid, member.
PresenceEntry = tuple[str, str, str, dict[str, Any]]

_NOBODY: Mapping[str, set[str]] = {}


@dataclass
class Connection:
    """One Socket.IO connection that joined a session: one viewer, in one session."""

    campaign: str
    session: str
    viewer: str
    member: str  # the viewer's public id in this campaign (socialads.domain.identity)
    name: str
    joined_at: float
    origin: str = DIRECT  # the publisher page the widget is on, as the widget says (analytics)

    def presence_entry(self) -> dict[str, Any]:
        """The presence entry of this connection, as stored in Redis."""
        return {"viewer": self.viewer, "id": self.member, "name": self.name, "t": self.joined_at}


class Connections:
    """This process's joined connections, by connection id and by campaign and session."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._by_sid: dict[str, Connection] = {}
        self._by_campaign: dict[str, dict[str, set[str]]] = {}  # campaign -> session -> sids
        self._refused: dict[str, str] = {}  # sid -> why its viewer was blocked

    # -- reads ----------------------------------------------------------------------------

    def get(self, sid: str) -> Connection | None:
        return self._by_sid.get(sid)

    def count(self) -> int:
        """Joined viewers here (``socialads_viewers``)."""
        return len(self._by_sid)

    def refusal(self, sid: str) -> str | None:
        """The reason the brand gave for blocking the viewer of connection ``sid``, if it did
        while the connection was joined."""
        return self._refused.get(sid)

    def has_campaign(self, cid: str) -> bool:
        return cid in self._by_campaign

    def has_session(self, cid: str, session: str) -> bool:
        return session in self._by_campaign.get(cid, _NOBODY)

    def campaigns(self) -> KeysView[str]:
        """The campaigns with connections here (a live view: read it under ``lock``)."""
        return self._by_campaign.keys()

    def sessions(self, cid: str) -> Mapping[str, set[str]]:
        """Campaign ``cid``'s sessions with connections here, each with their connection ids
        (the registry's own mapping: read it under ``lock``, never change it)."""
        return self._by_campaign.get(cid, _NOBODY)

    def sids_in(self, cid: str, session: str) -> list[str]:
        with self.lock:
            return list(self._by_campaign.get(cid, _NOBODY).get(session, ()))

    def sids_of(self, cid: str, member: str) -> list[str]:
        """The connections of one member (a viewer, by public id) of campaign ``cid``."""
        with self.lock:
            return [
                sid for sid, c in self._by_sid.items() if c.campaign == cid and c.member == member
            ]

    def campaign_counts(self) -> dict[str, int]:
        """The connections joined here now, per campaign."""
        with self.lock:
            return {
                cid: sum(len(sids) for sids in sessions.values())
                for cid, sessions in self._by_campaign.items()
            }

    def presence(self) -> tuple[list[PresenceEntry], set[tuple[str, str]]]:
        """What the heartbeat keeps alive: every connection's presence entry, and every
        (campaign, session) with a connection here."""
        with self.lock:
            entries = [
                (c.campaign, c.session, sid, c.presence_entry()) for sid, c in self._by_sid.items()
            ]
            places = {(c, s) for c, sessions in self._by_campaign.items() for s in sessions}
        return entries, places

    # -- changes --------------------------------------------------------------------------

    def add(self, sid: str, connection: Connection) -> bool:
        """Connection ``sid`` joined ``connection.session`` (whatever it was refused before);
        True when that session had no connection here yet."""
        with self.lock:
            self._refused.pop(sid, None)
            self._by_sid[sid] = connection
            sessions = self._by_campaign.setdefault(connection.campaign, {})
            new = connection.session not in sessions
            sessions.setdefault(connection.session, set()).add(sid)
        return new

    def remove(self, sid: str) -> Connection | None:
        """Take connection ``sid`` out of its session; the connection it was, if joined."""
        with self.lock:
            connection = self._by_sid.pop(sid, None)
            if connection is None:
                return None
            sessions = self._by_campaign.get(connection.campaign, {})
            sids = sessions.get(connection.session, set())
            sids.discard(sid)
            if not sids:
                sessions.pop(connection.session, None)
            if not sessions:
                self._by_campaign.pop(connection.campaign, None)
        return connection

    def refuse(self, sid: str, reason: str) -> bool:
        """Remember that connection ``sid``'s viewer was blocked, if it is still joined (True);
        a connection gone meanwhile has nothing to refuse (False)."""
        with self.lock:
            if sid not in self._by_sid:
                return False
            self._refused[sid] = reason
        return True

    def forget_refusal(self, sid: str) -> None:
        self._refused.pop(sid, None)
