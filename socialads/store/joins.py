"""Joining a session: a seat in its room (seat.lua, in the room's slot), then the join counted
in the campaign's slot (the live count; a viewer's first join of the session, per minute and
per publisher origin; an invited friend's cycle time and invite opened), in one MULTI.

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
from redis.client import Pipeline

from socialads.protocol import SeatStatus
from socialads.store.analytics import DIRECT, count_minute
from socialads.store.base import Backend, Domain, JSONObject
from socialads.store.events import members_changed
from socialads.store.keys import (
    INVITE_LOOKUP_TTL,
    ORIGINS_KEPT,
    OTHER_ORIGIN,
    SESSION_TTL,
    SOLO_SESSION_TTL,
    VIEWER_TTL,
    CampaignKeys,
    SessionKeys,
)
from socialads.store.presence import Presence
from socialads.store.scripts import invite_opened_keys, no_args, seat_args, seat_keys
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
            # Nothing counted (the count is one MULTI): the seat goes too, so the widget's
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
        """Count a seated connection's join in the campaign's slot, in one MULTI: one more
        live viewer here (kept ``here_ttl``; 0: a join again of a connection counted), and a
        first join's counts; refused (`JoinRefused`) when the viewer was blocked or the
        session closed since the join was admitted. Returns (invited, shared)."""
        key = self.keys.campaign(cid)
        session = key.session(token)
        viewer = member["viewer"]
        pipe = self.redis.pipeline(transaction=False)  # what decides, in the campaign's slot
        pipe.hmget(session.hash, ["leader", "shared", "created_at", "closed"])
        pipe.hget(key.blocked, str(member.get("id", "")))
        pipe.hexists(key.by_origin("joins"), origin)
        pipe.hlen(key.by_origin("joins"))
        (leader, shared, created_at, closed), block, known, origins = pipe.execute()
        if block or closed:
            raise JoinRefused(orjson.loads(block) if block else None)
        if not known and origins >= ORIGINS_KEPT:
            origin = OTHER_ORIGIN  # what clients say: a flood of made-up origins grows nothing
        invited = first_time and leader != viewer
        pipe = self.transaction(one_slot=True)  # the campaign's keys: all counted, or none
        pipe.pfadd(key.viewers, viewer)
        if here_ttl:
            self.presence.count_here(pipe, key, 1, here_ttl)
        if invited:
            pipe.hincrby(key.counters, "invite_joins", 1)
            pipe.hset(session.hash, "shared", 1)
        if first_time:
            self._count_join(pipe, key, now, origin, invited, created_at)
        kept = SESSION_TTL if invited or shared else SOLO_SESSION_TTL
        pipe.expire(session.hash, kept)
        pipe.expire(session.acted, kept)
        self.publish_on(pipe, self.keys.bus(cid), members_changed(cid, token))
        pipe.execute()
        return invited, bool(shared)

    def _unseat(self, session: SessionKeys, sid: str, viewer: str, first_time: bool) -> None:
        """Take back a seat whose join was not counted."""
        pipe = self.transaction(one_slot=True)  # the room's keys
        pipe.zrem(session.presence, sid)
        pipe.hdel(session.members, sid)
        if first_time:
            pipe.srem(session.viewers, viewer)
        pipe.execute()

    def _count_join(
        self,
        pipe: Pipeline,
        key: CampaignKeys,
        now: float,
        origin: str,
        invited: bool,
        created_at: str | None,
    ) -> None:
        pipe.hincrby(key.counters, "joins", 1)
        pipe.hincrby(key.by_origin("joins"), origin, 1)
        count_minute(pipe, key, "joins", now)
        if invited:
            if created_at:
                pipe.hincrbyfloat(key.counters, "cycle_seconds", max(0.0, now - float(created_at)))
                pipe.hincrby(key.counters, "cycle_joins", 1)
