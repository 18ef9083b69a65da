"""Shared sessions (a group's room): creating one, joining it, and what a joining client
reads of it.

A session is a hash (``sa:c:{C}:s:T``) keyed by an unguessable token, the one in invite
links. A session nobody else joined expires after a week; once a friend joins, it is kept
for a month and its invite link remembers the campaign for a year (``socialads.store.keys``).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import cast

import orjson
from redis.client import Pipeline

from socialads.protocol import SeatStatus
from socialads.store.actions import SESSION_PROGRESS, SessionProgress, session_progress
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
from socialads.store.parts import summed
from socialads.store.presence import Presence, members_from
from socialads.store.scripts import invite_opened_keys, no_args, seat_args, seat_keys


class RoomFull(Exception):
    """A session holds as many people as its campaign allows; ``name`` is its group name."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


@dataclass(frozen=True)
class SessionSnapshot:
    total: int
    session_total: int
    state: dict[str, int]
    members: list[JSONObject]
    messages: list[JSONObject]
    session: SessionProgress  # what a session's viewers see of it
    name: str  # the group's name
    blocked: JSONObject | None  # why the brand blocked the joining viewer, if it has
    closed: bool  # the brand closed the session


def new_session_token() -> str:
    """128 random bits: an invite link must not be guessable."""
    return secrets.token_urlsafe(16)


class Sessions(Domain):
    """Sessions: their life, their seats, their first joins (counted for the analytics)."""

    def __init__(self, backend: Backend, presence: Presence):
        super().__init__(backend)
        self.presence = presence

    def session_campaign(self, token: str) -> str | None:
        """The campaign an invite token belongs to, even after the session expired."""
        return cast("str | None", self.redis.get(self.keys.session_campaign(token)))

    def session_name(self, cid: str, token: str) -> str:
        """A session's public group name ("Sam's group")."""
        name = self.redis.hget(self.keys.campaign(cid).session_hash(token), "name")
        return cast("str | None", name) or ""

    def session_exists(self, cid: str, token: str) -> bool:
        """The session is kept (open, or closed by the brand: its conversation remains)."""
        return bool(self.redis.exists(self.keys.campaign(cid).session_hash(token)))

    def session_state(self, cid: str, token: str) -> str | None:
        """``"open"``, ``"closed"`` (by the brand) or None (expired or unknown)."""
        key = self.keys.campaign(cid).session_hash(token)
        pipe = self.redis.pipeline(transaction=False)
        pipe.exists(key)
        pipe.hexists(key, "closed")
        kept, closed = pipe.execute()
        return None if not kept else "closed" if closed else "open"

    def session_open(self, cid: str, token: str) -> bool:
        """Viewers can join the session: it is kept and the brand has not closed it."""
        return self.session_state(cid, token) == "open"

    def overflow_room(self, cid: str, token: str) -> str | None:
        """The room friends go to when session ``token``'s room is full."""
        room = self.redis.hget(self.keys.campaign(cid).session_hash(token), "overflow")
        return cast("str | None", room)

    def set_overflow_room(self, cid: str, token: str, room: str) -> None:
        self.redis.hset(self.keys.campaign(cid).session_hash(token), "overflow", room)

    def create_session(self, cid: str, leader: str, name: str = "") -> str:
        """A new shared session led by ``leader``; ``name`` is the group's public name."""
        token = new_session_token()
        key = self.keys.campaign(cid)
        session = key.session_hash(token)
        pipe = self.transaction(one_slot=False)  # the session, then its invite's lookup
        pipe.hset(
            session,
            mapping={
                "created_at": time.time(),
                "leader": leader,
                "total": 0,
                "msg_seq": 0,
                "name": name,
            },
        )
        pipe.expire(session, SOLO_SESSION_TTL)
        pipe.set(self.keys.session_campaign(token), cid, ex=SOLO_SESSION_TTL)
        pipe.hincrby(key.counters, "sessions", 1)
        pipe.hexists(self.parts.of(cid).of(leader).viewer_state(leader), "f")
        pipe.hexists(key.friends, leader)  # as kept before viewer_state
        *_, invited, invited_before = pipe.execute()
        invited = invited or invited_before
        if not invited:  # a seed: started by someone no invite brought (the k-factor's base)
            self.redis.hincrby(key.counters, "seed_sessions", 1)
        return token

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
    ) -> bool:
        """Put a connection into a session's presence; returns True for an invited friend's
        first join (someone other than the leader joining this session for the first time).
        Raises `RoomFull` when the session already holds ``room_size`` other people.

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
            raise RoomFull(self.session_name(cid, token))
        first_time = seat is SeatStatus.FIRST  # counted once: only one call seats them first
        pipe = self.transaction(one_slot=True)  # the campaign's keys
        pipe.hget(session.hash, "leader")
        pipe.pfadd(key.viewers, viewer)
        self.presence.count_here(pipe, key, 1, ttl)
        pipe.hget(session.hash, "shared")
        pipe.hget(session.hash, "created_at")
        pipe.hexists(key.by_origin("joins"), origin)
        pipe.hlen(key.by_origin("joins"))
        leader, *_, shared, created_at, known, origins = pipe.execute()
        if not known and origins >= ORIGINS_KEPT:
            origin = OTHER_ORIGIN  # what clients say: a flood of made-up origins grows nothing
        invited = bool(first_time) and leader != viewer
        pipe = self.transaction(one_slot=False)  # the counts, and the invite's lookup
        if invited:
            pipe.hincrby(key.counters, "invite_joins", 1)
            pipe.hset(session.hash, "shared", 1)
            pipe.expire(self.keys.session_campaign(token), INVITE_LOOKUP_TTL)
        if first_time:
            self._count_join(
                pipe,
                cid,
                key,
                session,
                viewer,
                now,
                origin,
                invited=invited,
                created_at=created_at,
                landing=landing,
            )
        kept = SESSION_TTL if invited or shared else SOLO_SESSION_TTL
        for each in (
            session.hash,
            session.presence,
            session.members,
            session.viewers,
            session.acted,
        ):
            pipe.expire(each, kept)
        self.publish_on(pipe, self.keys.bus(cid), members_changed(cid, token))
        pipe.execute()
        return invited

    def _count_join(
        self,
        pipe: Pipeline,
        cid: str,
        key: CampaignKeys,
        session: SessionKeys,
        viewer: str,
        now: float,
        origin: str,
        invited: bool,
        created_at: str | None,
        landing: bool,
    ) -> None:
        pipe.hincrby(key.counters, "joins", 1)
        pipe.hincrby(key.by_origin("joins"), origin, 1)
        count_minute(pipe, key, "joins", now)
        if invited:
            me = self.parts.of(cid).of(viewer).viewer_state(viewer)
            pipe.hsetnx(me, "f", 0)
            pipe.expire(me, VIEWER_TTL)
            if created_at:
                pipe.hincrbyfloat(key.counters, "cycle_seconds", max(0.0, now - float(created_at)))
                pipe.hincrby(key.counters, "cycle_joins", 1)
            if not landing:
                self.scripts.invite_opened.queue(
                    pipe, invite_opened_keys(session=session.hash, counters=key.counters), no_args()
                )

    def session_snapshot(
        self,
        cid: str,
        token: str,
        since: int | None,
        latest: int,
        member: str = "",
    ) -> SessionSnapshot:
        """Everything a joining client needs, in one round trip: totals, state, members,
        and the latest ``latest`` messages or every kept message after id ``since``; and
        whether viewer ``member`` is blocked or the session closed (read after the process
        hears the campaign, so a block or close that came before it is not missed)."""
        key = self.keys.campaign(cid)
        session = key.session(token)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(key.counters, "total")
        pipe.hmget(session.hash, SESSION_PROGRESS)
        pipe.hgetall(key.state)
        self.presence.queue_members(pipe, session, time.time())
        pipe.lrange(session.chat, 0, -1)
        pipe.hget(session.hash, "name")
        pipe.hget(key.blocked, member)
        pipe.hexists(session.hash, "closed")
        others = self.parts.of(cid).all[1:]  # the other parts of its counts, if any
        for part in others:
            pipe.hget(part.counters, "total")
            pipe.hget(part.session_hash(token), "total")
            pipe.hgetall(part.state)
        replies = pipe.execute()
        total, values, state, raw_members, raw_messages, name, block, closed = replies[:8]
        progress = session_progress(values)
        if others:
            more = replies[8:]
            total = int(total or 0) + sum(int(n or 0) for n in more[0::3])
            progress["total"] += sum(int(n or 0) for n in more[1::3])
            state = summed([state, *more[2::3]])
        messages = [orjson.loads(raw) for raw in raw_messages]
        if since is not None:
            messages = [m for m in messages if m["id"] > since]
        else:
            messages = messages[-latest:]
        return SessionSnapshot(
            int(total or 0),
            progress["total"],
            {k: int(v) for k, v in state.items()},
            members_from(raw_members),
            messages,
            progress,
            name or "",
            orjson.loads(block) if block else None,
            bool(closed),
        )
