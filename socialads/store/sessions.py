"""Shared sessions (a group's room): creating one, and what a joining client reads of it
(joining it is ``socialads.store.joins``).

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

from socialads.store.actions import SESSION_PROGRESS, SessionProgress, session_progress
from socialads.store.base import Backend, Domain, JSONObject
from socialads.store.keys import (
    SOLO_SESSION_TTL,
)
from socialads.store.parts import summed
from socialads.store.presence import Presence, members_from


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
    """Sessions: their life, and what a join reads of them."""

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
