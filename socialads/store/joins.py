"""Joining a session: a seat in its room (seat.lua, in the room's slot), then the join counted
in the campaign's slot (the live count; a viewer's first join of the session, per minute and
per publisher origin; an invited friend's cycle time and invite opened), in one script.

The two are two round trips on a cluster (the room has a slot of its own:
``socialads.store.keys``). A count that fails takes the seat back, so the widget's retry is
a first join again; a viewer the brand blocked, or a session it closed, since the join was
admitted is refused there, before anything is counted or told.
"""

from __future__ import annotations

import contextlib
import time

import orjson
import redis

from socialads.protocol import JoinStatus, SeatStatus
from socialads.store.analytics import DIRECT, minute_of
from socialads.store.base import Backend, Domain, JSONObject, publish_command
from socialads.store.events import members_changed
from socialads.store.keys import (
    INVITE_LOOKUP_TTL,
    SESSION_TTL,
    SOLO_SESSION_TTL,
    VIEWER_TTL,
    SessionKeys,
)
from socialads.store.presence import HERE_KEPT, UNTIL, Presence
from socialads.store.scripts import (
    count_join_args,
    count_join_keys,
    invite_opened_keys,
    no_args,
    seat_args,
    seat_keys,
)
from socialads.store.sessions import Sessions


class JoinRefused(Exception):
    """The brand blocked the viewer (``blocked``: its record) or closed the session (None)
    after the join was admitted: nothing of it is counted and the seat is taken back."""

    def __init__(self, blocked: JSONObject | None):
        super().__init__("blocked" if blocked else "closed")
        self.blocked = blocked


class RoomFull(Exception):
    """A session holds as many people as its campaign allows; ``name`` is its group name."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class Joins(Domain):
    """Seats in sessions' rooms, and the joins they count."""

    def __init__(self, backend: Backend, presence: Presence, sessions: Sessions):
        super().__init__(backend)
        self.presence = presence
        self.sessions = sessions

    def join_session(
        self,
        cid: str,
        token: str,
        sid: str,
        member: JSONObject,
        ttl: float,
        origin: str = DIRECT,
        landing: bool = False,
        room_size: int = 0,
        here: bool = True,
    ) -> bool:
        """Put a connection into a session's presence; returns True for an invited friend's
        first join (someone other than the leader joining this session for the first time).
        Raises `RoomFull` when the session already holds ``room_size`` other people, and
        `JoinRefused` when the brand blocked the viewer or closed the session meanwhile.
        ``here`` False: the connection is in this session already (a join again), so it is
        not one more live viewer.

        A viewer's first join of a session counts in ``joins`` (per minute, and per publisher
        ``origin``). An invited friend's first join also adds to the cycle time and counts as
        an invite opened, unless it comes from the invite ``landing`` page, whose load did."""
        key = self.keys.campaign(cid)
        session = key.session(token)
        viewer = member["viewer"]
        now = time.time()
        expires = now + ttl
        seat = SeatStatus(
            self.scripts.seat(
                seat_keys(
                    presence=session.presence,
                    members=session.members,
                    viewers=session.viewers,
                    # One Redis may hold the room where it was kept before: moved at this join.
                    before=() if self.cluster else [session.before(part) for part in "pmv"],
                ),
                seat_args(
                    now=now,
                    connection=sid,
                    member=orjson.dumps(member),
                    expires=expires,
                    viewer=viewer,
                    room_size=room_size,
                ),
            )
        )
        if seat is SeatStatus.FULL:
            raise RoomFull(self.sessions.session_name(cid, token))
        first_time = seat is SeatStatus.FIRST  # counted once: only one call seats them first
        try:
            invited, shared = self._count_seated(
                cid, token, member, first_time, ttl if here else 0, origin, now
            )
        except JoinRefused:
            self._unseat(session, sid, viewer, first_time)
            raise
        except redis.RedisError:
            # Nothing counted (the count is one script): the seat goes too, so the widget's
            # retry is a first join again, and counted then.
            with contextlib.suppress(redis.RedisError):
                self._unseat(session, sid, viewer, first_time)
            raise
        # What is not counting, in other slots; each write stands again at the next join. And
        # the invite opened, once the join is counted (a script: never inside a cluster's
        # MULTI, where a node that lacks it could not load it).
        kept = SESSION_TTL if invited or shared else SOLO_SESSION_TTL
        pipe = self.redis.pipeline(transaction=False)
        if invited and not landing:
            key = self.keys.campaign(cid)
            opened = invite_opened_keys(session=session.hash, counters=key.counters)
            self.scripts.invite_opened.queue(pipe, opened, no_args())
        if invited:
            pipe.expire(self.keys.session_campaign(token), INVITE_LOOKUP_TTL)
            me = self.parts.of(cid).of(viewer).viewer_state(viewer)
            pipe.hsetnx(me, "f", 0)
            pipe.expire(me, VIEWER_TTL)
        for each in (session.hash, session.presence, session.members, session.viewers):
            pipe.expire(each, kept)
        for part in self.parts.of(cid).all[1:]:  # its copies in a campaign's parts, if any
            pipe.expire(part.session_hash(token), kept)
        pipe.execute()
        return invited

    def _count_seated(
        self,
        cid: str,
        token: str,
        member: JSONObject,
        first_time: bool,
        here_ttl: float,
        origin: str,
        now: float,
    ) -> tuple[bool, bool]:
        """Count a seated connection's join in the campaign's slot, in one script
        (count_join.lua): one more live viewer here (kept ``here_ttl``; 0: a join again of a
        connection counted), and a first join's counts; refused (`JoinRefused`) when the
        viewer was blocked or the session closed since the join was admitted. Returns
        (invited, shared)."""
        key = self.keys.campaign(cid)
        session = key.session(token)
        status, *reply = self.scripts.count_join(
            count_join_keys(
                session=session.hash,
                blocked=key.blocked,
                origin_joins=key.by_origin("joins"),
                viewers=key.viewers,
                here=key.here,
                counters=key.counters,
                minute=key.minute(minute_of(now)),
                acted=session.acted,
            ),
            count_join_args(
                member=str(member.get("id", "")),
                viewer=member["viewer"],
                first=int(first_time),
                here_ttl=here_ttl,
                here_kept=HERE_KEPT,
                process=self.process,
                process_until=self.process + UNTIL,
                now=now,
                origin=origin,
                channel=self.keys.bus(cid),
                publish=publish_command(self.cluster),
                notice=members_changed(cid, token),
            ),
        )
        if status == JoinStatus.BLOCKED:
            raise JoinRefused(orjson.loads(reply[0]))
        if status == JoinStatus.CLOSED:
            raise JoinRefused(None)
        return bool(reply[0]), bool(reply[1])

    def _unseat(self, session: SessionKeys, sid: str, viewer: str, first_time: bool) -> None:
        """Take back a seat whose join was not counted."""
        pipe = self.transaction(one_slot=True)  # the room's keys
        pipe.zrem(session.presence, sid)
        pipe.hdel(session.members, sid)
        if first_time:
            pipe.srem(session.viewers, viewer)
        pipe.execute()
