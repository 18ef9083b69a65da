"""The progress coalescer: ``progress`` to this process's viewers, at a pace they can read.

Totals travel between processes on our own Redis channel (the count script publishes them,
``socialads.realtime.listener`` hears them) and every process pushes ``progress`` to its
local clients through this coalescer: one update per campaign at most every
``PROGRESS_INTERVAL`` (counted from when the last went out), sent at once when idle plus one
trailing update, so a burst of actions costs each viewer under ten messages a second and
still ends on the latest totals. The numbers come from the notices themselves: the count
script publishes every figure a viewer's progress shows (``socialads.store.lua``'s
record_action), so an update reads the counters only where this process has not heard them
since it last forgot (a campaign or session newly here, a gap in the subscription, once a
heartbeat against drift); an activity's extras (leaderboard, match ledger) are read once a
round. Sessions with the same update share one packet.

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
from socialads.realtime.totals import (
    Known,
    Totals,
    absorb,
    hear_session,
    is_count,
    merged,
    notice_part,
    whole_of,
)
from socialads.store import Store
from socialads.store.events import ChannelEvent
from socialads.store.parts import summed

log = logging.getLogger(__name__)


Totals2 = tuple[int, int]  # a campaign's total and a session's


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
        # What the notices and reads told us (socialads.realtime.totals) of the campaigns and
        # sessions with viewers here; one not (wholly) known is read at its next update.
        self.totals: dict[str, Totals] = {}
        self.session_counts: Known = {}  # the sessions read whole: session, part: counts
        self.partial: Known = {}  # part notices of sessions not yet read whole
        self.last_progress: dict[str, bytes] = {}  # session -> the update its viewers have
        self.last_sent: dict[str, float] = {}  # campaign -> when its last update went out
        self.last_status: dict[str, str] = {}  # campaign -> status last sent to our viewers
        self.wake = threading.Event()

    # -- what is due ----------------------------------------------------------------------

    def due(self, cid: str) -> None:
        """Progress is due for campaign ``cid`` (its status or definition changed)."""
        with self.lock:
            if not self.connections.has_campaign(cid):
                return
            self._pend(cid)
        self.wake.set()

    def heard(self, event: ChannelEvent) -> None:
        """A notice of new totals (``{"k": "p", c, s, t, st, sp, sm, f}``): keep its numbers
        and make progress due. A notice without them (from an older process) leaves what it
        concerns to be read afresh."""
        cid, session = event["c"], event.get("s")
        fields = event.get("f")
        with self.lock:
            if not self.connections.has_campaign(cid):
                return
            totals = self.totals.get(cid)
            if totals is None:
                totals = self.totals[cid] = Totals()
            part = notice_part(event)
            if is_count(event.get("t")) and isinstance(fields, dict):
                totals.hear(part or 0, event["t"], {k: v for k, v in fields.items() if is_count(v)})
            else:
                totals.whole = False
            if isinstance(session, str) and self.connections.has_session(cid, session):
                numbers = [event.get("st"), event.get("sp"), event.get("sm")]
                hear_session(self.session_counts, self.partial, session, part, numbers)
            self._pend(cid)
        self.wake.set()

    def in_whole(self, cid: str, session: str, part: int, answer: Totals2) -> Totals2:
        """An act's totals in parts: part ``part``'s (``answer``: campaign, session) plus what
        is known here of the others (read when not wholly known)."""
        with self.lock:
            totals = self.totals.get(cid)
            known = self.session_counts.get(session)
            if totals is not None and totals.whole and known is not None:
                totals.hear(part, answer[0], {})
                merged(known.setdefault(part, {}), {"total": answer[1]})
                return totals.total, sum(c.get("total", 0) for c in known.values())
        readings = self.store.progress_by_part(cid, [session])
        with self.lock:  # what was read is known here from now
            if self.connections.has_session(cid, session):
                absorb(readings, [session], [session], self.session_counts, self.partial)
        return whole_of(readings, part, *answer)

    def _pend(self, cid: str) -> None:
        self.pending.add(cid)
        self.due_since.setdefault(cid, time.monotonic())

    def due_if_status_changed(self, cids: Iterable[str]) -> None:
        """A schedule can end (or start) a campaign with nobody touching it: progress is due
        for each of ``cids`` whose status is no longer the one its viewers have."""
        for cid in cids:
            entry = self.campaigns.get(cid)
            if (entry.status if entry else "ended") != self.last_status.get(cid):
                self.due(cid)

    def forget_counts(self, cids: Iterable[str] | None = None, due: bool = False) -> None:
        """Read the counters of ``cids`` (None: every campaign here) afresh at their next
        update, ``due`` now: after a gap in what we heard of them (a new subscription), and
        all of them once a heartbeat, so nothing can drift for long."""
        with self.lock:
            for cid in list(self.connections.campaigns() if cids is None else cids):
                self.totals.pop(cid, None)
                for session in self.connections.sessions(cid):
                    self.session_counts.pop(session, None)
                if due and self.connections.has_campaign(cid):
                    self._pend(cid)
        self.wake.set()

    def forget_session_counts(self, session: str) -> None:
        """A session that had no viewer here gets one: what we knew of it may be old."""
        with self.lock:
            self.session_counts.pop(session, None)

    def forget_session(self, cid: str, session: str) -> None:
        """The last viewer here left ``session`` (of campaign ``cid``)."""
        with self.lock:
            self.last_progress.pop(session, None)
            self.session_counts.pop(session, None)
            self.partial.pop(session, None)
            if not self.connections.has_campaign(cid):
                self._forget_campaign(cid)

    # -- the loop -------------------------------------------------------------------------

    def coalesce(self) -> None:
        interval = self.config["PROGRESS_INTERVAL"]
        quiet = False  # the outage was already logged
        failing: set[str] = set()  # campaigns whose update failed (logged once, retried)
        if self.pending:  # a restart after an error: what was owed is owed still
            self.wake.set()
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
                        failing.discard(cid)
                    except RedisError:
                        if not quiet:  # once per outage, not ten times a second
                            log.warning("progress not sent: Redis unavailable; retrying")
                            quiet = True
                        with self.lock:
                            self.pending.add(cid)
                    except Exception:  # a bug (a widget's state, say): the others still go
                        if cid not in failing:
                            log.exception("progress for campaign %s failed; retrying", cid)
                            failing.add(cid)
                        with self.lock:
                            self.pending.add(cid)
                    # The interval counts from when the update has gone out: a busy process
                    # sends a little less often, so its viewers still get no more than ten
                    # in a second however late they read.
                    sent = time.monotonic()
                    if self.connections.has_campaign(cid):  # else forgotten (_forget_campaign)
                        self.last_sent[cid] = sent
                    if cid not in self.pending:  # sent (not to be retried): how late?
                        since = self.due_since.pop(cid, None)
                        if since is not None:
                            self.metrics.coalescer_lag.observe(sent - since)
                if self.pending:
                    soonest = min(self.last_sent.get(c, 0) for c in self.pending) + interval
                    time.sleep(max(0.005, soonest - time.monotonic()))

    def _send_progress(self, cid: str) -> None:
        # One packet for all the sessions whose update is the same (most sessions of a
        # campaign have the same few totals of their own): encoded once, not once a session.
        manager = socketio.server.manager
        for encoded, (_, rooms) in self.updates(cid).items():
            manager.emit_json("progress", encoded, rooms)

    def updates(self, cid: str) -> dict[bytes, tuple[dict[str, Any], list[str]]]:
        """The progress updates campaign ``cid``'s viewers here are owed, by their JSON, each
        with the session rooms it goes to; remembered as sent."""
        entry = self.campaigns.get(cid)
        with self.lock:
            sessions = list(self.connections.sessions(cid))
            if not sessions:
                self._forget_campaign(cid)
                return {}
            # Our own copy: a heartbeat (or a leave) may forget the shared maps while we read.
            # A session's counts are kept per part of the campaign's counts, and only once
            # read whole: a part's notice alone does not say the other parts' numbers.
            counts = {
                s: {part: dict(c) for part, c in known.items()}
                for s in sessions
                if (known := self.session_counts.get(s))
            }
            stale = [s for s in sessions if s not in counts]
            totals = self.totals.get(cid)
            if totals is None:
                totals = self.totals[cid] = Totals()
            mine = totals.copy()
        if stale or not mine.whole:
            # Read what we have not heard: the campaign's totals, and the sessions new here.
            readings = self.store.progress_by_part(cid, stale)
            for part, (read_total, read_state, _) in enumerate(readings):
                mine.hear(part, read_total, read_state)
            with self.lock:
                # Only sessions still here: one that left meanwhile is read if it returns.
                here = self.connections.sessions(cid)
                counts.update(absorb(readings, stale, here, self.session_counts, self.partial))
                if self.totals.get(cid) is totals:  # else forgotten meanwhile: read again
                    mine.into(totals)
                    totals.whole = True
        with self.lock:  # what was heard while we read is newer still
            for session, known in counts.items():
                for heard_of in (self.session_counts, self.partial):
                    for part, heard in (heard_of.get(session) or {}).items():
                        merged(known.setdefault(part, {}), heard)
            if self.totals.get(cid) is totals:
                totals.into(mine)
        total, state = mine.total, mine.state
        public_state = entry.public_state(self.store, state) if entry else {}
        base: dict[str, Any] = {
            "total": total,
            "goal": entry.campaign.goal if entry else 0,
            "state": public_state,
            "status": entry.status if entry else "ended",
        }
        self.last_status[cid] = base["status"]
        alike: dict[bytes, tuple[dict[str, Any], list[str]]] = {}
        with self.lock:
            here = self.connections.sessions(cid)
            for session in sessions:
                if session not in here:
                    continue  # left while we read: nothing to send, nothing to remember
                own = summed(counts[session].values())
                payload = {**base, "session_total": own.get("total", 0)}
                group = entry.group(own) if entry else None
                if group is not None:
                    payload["group"] = group
                encoded = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
                # A notice heard again (or one whose numbers an update already carried)
                # finds nothing new: the viewers get nothing twice.
                if self.last_progress.get(session) == encoded:
                    continue
                self.last_progress[session] = encoded
                alike.setdefault(encoded, (payload, []))[1].append(session_room(cid, session))
        return alike

    def _forget_campaign(self, cid: str) -> None:
        """No viewer of ``cid`` is here any more (under the lock)."""
        self.pending.discard(cid)
        self.totals.pop(cid, None)
        self.last_sent.pop(cid, None)
        self.last_status.pop(cid, None)
        self.due_since.pop(cid, None)
