"""The progress coalescer: ``progress`` to this process's viewers, at a pace they can read.

Totals travel between processes on our own Redis channel (the count script publishes them,
``socialads.realtime.listener`` hears them) and every process pushes ``progress`` to its
local clients through this coalescer: one update per campaign at most every
``PROGRESS_INTERVAL`` (counted from when the last went out), sent at once when idle plus one
trailing update, so a burst of actions costs each viewer under ten messages a second and
still ends on the latest totals. An update reads only the sessions that changed, and
sessions with the same update share one packet.

Its maps are guarded by the lock of the connection registry it walks
(``socialads.realtime.connections``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from redis.exceptions import RedisError

from socialads.domain.campaigns import Campaigns
from socialads.metrics import Metrics
from socialads.realtime.connections import Connections
from socialads.realtime.rooms import session_room, socketio
from socialads.store import Store

log = logging.getLogger(__name__)


class Progress:
    """Which campaigns owe their viewers an update, what each session's viewers were last
    sent, and the loop that sends the updates."""

    def __init__(
        self,
        config: Mapping[str, Any],
        store: Store,
        campaigns: Campaigns,
        connections: Connections,
        metrics: Metrics | None = None,
    ):
        self.config = config
        self.metrics = metrics or Metrics()
        self.store = store
        self.campaigns = campaigns
        self.connections = connections
        self.lock = connections.lock  # see the module docstring
        self.pending: set[str] = set()  # campaigns an update is due for
        self.due_since: dict[str, float] = {}  # campaign -> when it became due (the lag)
        # session -> its counters as last read from Redis, and, per campaign, the sessions
        # an action changed since: a progress update reads only those (one session, not all
        # of this process's hundreds), and the campaign's total.
        self.session_counts: dict[str, dict[str, int]] = {}
        self.changed: dict[str, set[str]] = {}
        self.last_progress: dict[str, dict[str, Any]] = {}  # session -> what its viewers have
        self.last_sent: dict[str, float] = {}  # campaign -> when its last update went out
        self.last_status: dict[str, str] = {}  # campaign -> status last sent to our viewers
        self.wake = threading.Event()

    # -- what is due ----------------------------------------------------------------------

    def due(self, cid: str, session: str | None = None) -> None:
        """Progress is due for campaign ``cid``; ``session``, when given, is the session whose
        counters changed."""
        with self.lock:
            if not self.connections.has_campaign(cid):
                return
            self.pending.add(cid)
            self.due_since.setdefault(cid, time.monotonic())
            if session is not None:
                self.changed.setdefault(cid, set()).add(session)
        self.wake.set()

    def all_due(self) -> None:
        """Progress is due for every campaign with viewers here (after a gap in what we
        heard: see `forget_counts`)."""
        with self.lock:
            self.pending.update(self.connections.campaigns())
        self.wake.set()

    def due_if_status_changed(self, cids: Iterable[str]) -> None:
        """A schedule can end (or start) a campaign with nobody touching it: progress is due
        for each of ``cids`` whose status is no longer the one its viewers have."""
        for cid in cids:
            entry = self.campaigns.get(cid)
            if (entry.status if entry else "ended") != self.last_status.get(cid):
                self.due(cid)

    def forget_counts(self) -> None:
        """Read every session's counters afresh at its next update: after a gap in what we
        heard (a new subscription), and once a heartbeat, so nothing can drift for long."""
        with self.lock:
            self.session_counts.clear()

    def forget_session_counts(self, session: str) -> None:
        """A session that had no viewer here gets one: what we knew of it may be old."""
        with self.lock:
            self.session_counts.pop(session, None)

    def forget_session(self, session: str) -> None:
        """The last viewer here left ``session``."""
        with self.lock:
            self.last_progress.pop(session, None)
            self.session_counts.pop(session, None)

    # -- the loop -------------------------------------------------------------------------

    def coalesce(self) -> None:
        interval = self.config["PROGRESS_INTERVAL"]
        quiet = False  # the outage was already logged
        while True:
            self.wake.wait()
            self.wake.clear()
            while self.pending:
                now = time.monotonic()
                with self.lock:
                    due = [c for c in self.pending if now - self.last_sent.get(c, 0) >= interval]
                    self.pending.difference_update(due)
                for cid in due:
                    try:
                        self._send_progress(cid)
                        quiet = False
                    except RedisError:
                        if not quiet:  # once per outage, not ten times a second
                            log.warning("progress not sent: Redis unavailable; retrying")
                            quiet = True
                        with self.lock:
                            self.pending.add(cid)
                    # The interval counts from when the update has gone out: a process busy
                    # enough that sending takes a while sends a little less often, so its
                    # viewers still get no more than ten in a second however late they read.
                    self.last_sent[cid] = sent = time.monotonic()
                    if cid not in self.pending:  # sent (not to be retried): how late?
                        since = self.due_since.pop(cid, None)
                        if since is not None:
                            self.metrics.coalescer_lag.observe(sent - since)
                if self.pending:
                    soonest = min(self.last_sent.get(c, 0) for c in self.pending) + interval
                    time.sleep(max(0.005, soonest - time.monotonic()))

    def _send_progress(self, cid: str) -> None:
        entry = self.campaigns.get(cid)
        with self.lock:
            sessions = list(self.connections.sessions(cid))
            changed = self.changed.pop(cid, set())
            known = {
                s: self.session_counts[s]
                for s in sessions
                if s not in changed and s in self.session_counts
            }
            stale = [s for s in sessions if s not in known]
        if not sessions:
            return
        # Totals fresh from Redis, not from the notices: the campaign's, and those of the
        # sessions that changed or that we have not read since a gap (forget_counts).
        try:
            total, state, fresh = self.store.campaign_progress(cid, stale)
            public_state = entry.public_state(self.store, state) if entry else {}
        except BaseException:
            with self.lock:  # not read: still to be read next time
                self.changed.setdefault(cid, set()).update(changed)
            raise
        read = dict(zip(stale, fresh, strict=True))
        with self.lock:
            # Only sessions still here: one that left meanwhile is read afresh if it returns.
            here = self.connections.sessions(cid)
            self.session_counts.update((s, c) for s, c in read.items() if s in here)
        counts = {**known, **read}
        base: dict[str, Any] = {
            "total": total,
            "goal": entry.campaign.goal if entry else 0,
            "state": public_state,
            "status": entry.status if entry else "ended",
        }
        self.last_status[cid] = base["status"]
        alike: dict[bytes, tuple[dict[str, Any], list[str]]] = {}
        for session in sessions:
            own = counts[session]
            payload = {**base, "session_total": own["total"]}
            group = entry.group(own) if entry else None
            if group is not None:
                payload["group"] = group
            # An action is heard twice here (our own `due`, then its notice on the
            # events channel): the second finds nothing new, and the viewers get nothing twice.
            if self.last_progress.get(session) == payload:
                continue
            self.last_progress[session] = payload
            key = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
            alike.setdefault(key, (payload, []))[1].append(session_room(session))
        # One packet for all the sessions whose update is the same (most sessions of a
        # campaign have the same few totals of their own): encoded once, not once a session.
        for payload, rooms in alike.values():  # never an empty list (that would be everyone)
            socketio.emit("progress", payload, to=rooms, ignore_queue=True)
