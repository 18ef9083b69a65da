"""Who is in each session, as this process's viewers see it, and the heartbeat that keeps it
true.

Presence is global, in Redis: each member entry expires unless the process holding its
connection refreshes it, so the members of a process that died vanish within
``PRESENCE_TTL + HEARTBEAT_INTERVAL``. A change we make (a join, a leave) is broadcast at once
through the message queue, to every process; one we only find (a member that expired) is
found by the heartbeat, which tells this process's own viewers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from redis.exceptions import RedisError

from socialads.realtime.connections import Connections
from socialads.realtime.guards import Guard
from socialads.realtime.progress import Progress
from socialads.realtime.rooms import session_room, socketio
from socialads.store import Store

log = logging.getLogger(__name__)

HEARTBEAT_CHUNK = 500  # connections (or sessions) a heartbeat handles per Redis round trip


def public_members(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What viewers see of a session's members: their public id and name."""
    return [{"id": m["id"], "name": m["name"]} for m in members]


class Presence:
    """The members this process last told each session's viewers about, and the heartbeat."""

    def __init__(
        self,
        config: Mapping[str, Any],
        store: Store,
        connections: Connections,
        guard: Guard,
        progress: Progress,
    ):
        self.config = config
        self.store = store
        self.connections = connections
        self.guard = guard
        self.progress = progress
        self.last: dict[str, list[dict[str, Any]]] = {}  # session -> members its viewers have

    def broadcast(
        self,
        cid: str,
        session: str,
        members: list[dict[str, Any]] | None = None,
        local_only: bool = False,
    ) -> list[dict[str, Any]]:
        """Tell the viewers of ``session`` (on every process, or only on this one) who is in
        it: ``members`` as just read, or as Redis has them now."""
        if members is None:
            members = self.store.members(cid, session)
        public = public_members(members)
        self.last[session] = public
        socketio.emit(
            "presence",
            {"members": public, "count": len(public)},
            to=session_room(session),
            ignore_queue=local_only,
        )
        return public

    def forget(self, session: str) -> None:
        """The last viewer here left ``session``."""
        self.last.pop(session, None)

    def heartbeat(self) -> None:
        """Keep our members alive in Redis and tell our clients about members that vanished
        (a process that died stops refreshing its members, which then expire)."""
        interval, beat = self.config["HEARTBEAT_INTERVAL"], time.monotonic()
        while True:
            # One beat per interval, however long a beat takes: the presence bound
            # (PRESENCE_TTL + HEARTBEAT_INTERVAL) counts on it.
            time.sleep(max(0.0, beat + interval - time.monotonic()))
            beat = time.monotonic()
            entries, here = self.connections.presence()
            try:
                for chunk in range(0, len(entries), HEARTBEAT_CHUNK):
                    self.store.refresh_presence(
                        entries[chunk : chunk + HEARTBEAT_CHUNK], self.config["PRESENCE_TTL"]
                    )
                    time.sleep(0)  # let the viewers' events in between chunks
                self.guard.refresh()
                places = sorted(here)
                for chunk in range(0, len(places), HEARTBEAT_CHUNK):
                    part = places[chunk : chunk + HEARTBEAT_CHUNK]
                    for (cid, session), members in zip(
                        part, self.store.members_of(part), strict=True
                    ):
                        if public_members(members) != self.last.get(session):
                            self.broadcast(cid, session, members, local_only=True)
                    time.sleep(0)
                self.progress.forget_counts()
                self.progress.due_if_status_changed({cid for cid, _ in places})
            except RedisError:
                log.warning("heartbeat: Redis unavailable")
