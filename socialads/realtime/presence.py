"""Who is in each session, as this process's viewers see it, and the heartbeat that keeps it
true.

Presence is global, in Redis: each member entry expires unless the process holding its
connection refreshes it, so the members of a process that died vanish within
``PRESENCE_TTL + HEARTBEAT_INTERVAL``. A change made anywhere (a join, a leave) is announced
on the events channel with the change itself (``socialads.store.sessions``); each process then
tells its own viewers of that session, coalesced like progress: at once when the session was
quiet, then at most once every ``PRESENCE_INTERVAL``, always ending on the roster as Redis has
it (read when the update goes out, many sessions in one round trip), so a crowd arriving
costs each viewer one roster a second, not one per arrival. A change we only find (a member
that expired) is found by the heartbeat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
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
        self.pending: dict[str, str] = {}  # session -> its campaign, for sessions owed an update
        self.last_sent: dict[str, float] = {}  # session -> when its last update went out
        self.counted: set[str] = set()  # campaigns whose live count the last beat wrote
        self.wake = threading.Event()

    def due(self, cid: str, session: str) -> None:
        """The members of ``session`` changed: its viewers here are owed the new roster."""
        with self.connections.lock:
            if not self.connections.has_session(cid, session):
                return
            self.pending[session] = cid
        self.wake.set()

    def all_due(self, cids: Iterable[str] | None = None) -> None:
        """Every session here of ``cids`` (None: all) is owed its roster (after a gap in
        what we heard of them)."""
        with self.connections.lock:
            for cid in list(self.connections.campaigns() if cids is None else cids):
                for session in self.connections.sessions(cid):
                    self.pending[session] = cid
        self.wake.set()

    def forget(self, session: str) -> None:
        """The last viewer here left ``session`` (under the connections' lock)."""
        self.last.pop(session, None)
        self.last_sent.pop(session, None)
        self.pending.pop(session, None)

    def coalesce(self) -> None:
        """Send the rosters that are due, each session at most once a ``PRESENCE_INTERVAL``."""
        interval = self.config["PRESENCE_INTERVAL"]
        quiet = False  # the outage was already logged
        if self.pending:  # a restart after an error: what was owed is owed still
            self.wake.set()
        while True:
            self.wake.wait()
            self.wake.clear()
            while self.pending:
                now = time.monotonic()
                with self.connections.lock:
                    due = [
                        (cid, session)
                        for session, cid in self.pending.items()
                        if now - self.last_sent.get(session, -interval) >= interval
                    ]
                    for _, session in due:
                        del self.pending[session]
                for chunk in range(0, len(due), HEARTBEAT_CHUNK):
                    part = due[chunk : chunk + HEARTBEAT_CHUNK]
                    try:
                        rosters = self.store.members_of(part)
                        for (cid, session), members in zip(part, rosters, strict=True):
                            self.send(cid, session, members)
                        quiet = False
                    except BaseException as exc:
                        with self.connections.lock:  # still owed (a resend is harmless)
                            for cid, session in due[chunk:]:
                                self.pending.setdefault(session, cid)
                        if not isinstance(exc, RedisError):
                            raise  # logged and restarted by the service; the work is kept
                        if not quiet:  # once per outage, not once a second
                            log.warning("presence not sent: Redis unavailable; retrying")
                            quiet = True
                        time.sleep(interval)
                        break
                    time.sleep(0)
                if self.pending:
                    soonest = min(self.last_sent.get(s, 0.0) for s in self.pending) + interval
                    time.sleep(max(0.005, soonest - time.monotonic()))

    def send(self, cid: str, session: str, members: list[dict[str, Any]]) -> None:
        """Tell this process's viewers of ``session`` its roster, unless they have it."""
        public = public_members(members)
        with self.connections.lock:
            if not self.connections.has_session(cid, session):
                return  # left meanwhile
            self.last_sent[session] = time.monotonic()
            if public == self.last.get(session):
                return
            self.last[session] = public
        socketio.emit(
            "presence",
            {"members": public, "count": len(public)},
            to=session_room(cid, session),
            ignore_queue=True,
        )

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
                # Counted now, not when the beat began (a leave meanwhile is not undone), and
                # 0 for a campaign this process served at the last beat and serves no more.
                counts = self.connections.campaign_counts()
                gone = dict.fromkeys(self.counted - counts.keys(), 0)
                self.store.count_live({**gone, **counts}, self.config["PRESENCE_TTL"])
                self.counted = set(counts)
                self.guard.refresh()
                places = sorted(here)
                for chunk in range(0, len(places), HEARTBEAT_CHUNK):
                    part = places[chunk : chunk + HEARTBEAT_CHUNK]
                    for (cid, session), members in zip(
                        part, self.store.members_of(part), strict=True
                    ):
                        if public_members(members) != self.last.get(session):
                            self.due(cid, session)  # sent by the coalescer, at its pace
                    time.sleep(0)
                self.progress.forget_counts()
                self.progress.due_if_status_changed({cid for cid, _ in places})
            except RedisError:
                log.warning("heartbeat: Redis unavailable")
