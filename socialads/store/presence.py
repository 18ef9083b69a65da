"""Who is in a session right now: each connection's entry carries an expiry that its
process's heartbeat pushes forward, so the members of a process that died disappear on
their own (within the presence TTL and one heartbeat).

A session's room has a slot of its own on a cluster (``socialads.store.keys``); the campaign
keeps only a count per process of its live viewers (``:here``), not an entry per connection:
a popular campaign's heartbeats then cost its shard one field per process, not one per viewer.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

import orjson
from redis.client import Pipeline

from socialads.store.base import Domain, JSONObject
from socialads.store.events import members_changed
from socialads.store.keys import SessionKeys
from socialads.store.scripts import presence_args, presence_keys

PresenceEntry = tuple[str, str, str, JSONObject]  # campaign, session, connection id, member
UNTIL = ":until"  # a process's field in :here whose value is when its count expires
# A count expired this long is dropped by the next stats read (one expired a moment ago may
# be a late heartbeat's, about to be written again). No process beating: the key expires.
SWEEP_AFTER = 600
HERE_KEPT = 3  # :here is kept this many presence TTLs after the latest write to it


def live_count(here: dict[str, str], now: float) -> tuple[int, list[str]]:
    """The live viewers in a campaign's ``:here`` (the counts whose expiry has not passed),
    and the fields of processes that stopped refreshing theirs (to drop)."""
    live, gone = 0, []
    for field, value in here.items():
        if field.endswith(UNTIL):
            continue
        until = float(here.get(field + UNTIL) or 0)
        if until > now:
            live += max(0, int(value))
        elif until < now - SWEEP_AFTER:
            gone += [field, field + UNTIL]
    return live, gone


def members_from(raws: Iterable[str | None]) -> list[JSONObject]:
    """Member entries, one per viewer (a viewer may have several tabs), in joining order."""
    by_viewer: dict[str, JSONObject] = {}
    for raw in raws:
        if raw:
            member = orjson.loads(raw)
            by_viewer.setdefault(member["viewer"], member)
    return sorted(by_viewer.values(), key=lambda m: m["t"])


class Presence(Domain):
    """The live members of sessions, and the campaign's live viewers."""

    def queue_members(self, pipe: Pipeline, session: SessionKeys, now: float) -> None:
        """Read a session's live members in a pipeline (decode them with `members_from`)."""
        self.scripts.presence.queue(
            pipe,
            presence_keys(presence=session.presence, members=session.members),
            presence_args(now=now),
        )

    def leave_session(self, cid: str, token: str, sid: str) -> None:
        key = self.keys.campaign(cid)
        session = key.session(token)
        # On a cluster the room is in another slot: out of it first, then the notice (a
        # process reading the roster on hearing it must not find the leaver still there).
        pipe = self.transaction(one_slot=not self.cluster)
        pipe.zrem(session.presence, sid)
        pipe.hdel(session.members, sid)
        if self.cluster:
            pipe.execute()
            pipe = self.transaction(one_slot=True)  # the campaign's keys
        # One live viewer fewer here (a join's +1 is count_join.lua's; the heartbeat writes
        # the exact count again).
        pipe.hincrby(key.here, self.process, -1)
        self.publish_on(pipe, self.keys.bus(cid), members_changed(cid, token))
        pipe.execute()

    def count_live(self, counts: dict[str, int], ttl: float) -> None:
        """Heartbeat: this process's live viewers in each campaign it serves, ``counts``, kept
        ``ttl`` seconds (a process that died stops counting within that)."""
        until = time.time() + ttl
        pipe = self.redis.pipeline(transaction=False)
        for cid, count in counts.items():
            here = self.keys.campaign(cid).here
            pipe.hset(here, mapping={self.process: count, self.process + UNTIL: until})
            pipe.expire(here, int(ttl * HERE_KEPT) + 1)
        pipe.execute()

    def refresh_presence(self, entries: list[PresenceEntry], ttl: float) -> None:
        """Heartbeat: push the expiry of (campaign, session, connection, member) entries
        forward, writing them again in full: a process that stalled past the TTL finds its
        still-connected members swept away by another process's read, and puts them back."""
        expires = time.time() + ttl
        # (campaign, session) -> sid -> expiry, and -> sid -> member
        scores: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
        members: dict[tuple[str, str], dict[str, bytes]] = defaultdict(dict)
        for cid, token, sid, member in entries:
            scores[cid, token][sid] = expires
            members[cid, token][sid] = orjson.dumps(member)
        # Two commands a session, not two a connection: packing the pipeline is CPU the
        # viewers' events wait for.
        pipe = self.redis.pipeline(transaction=False)
        for (cid, token), sids in scores.items():
            session = self.keys.campaign(cid).session(token)
            pipe.zadd(session.presence, sids)
            pipe.hset(session.members, mapping=members[cid, token])  # type: ignore[arg-type]
        pipe.execute()

    def members(self, cid: str, token: str) -> list[JSONObject]:
        """Live members of a session, dropping those whose heartbeat expired."""
        session = self.keys.campaign(cid).session(token)
        return members_from(
            self.scripts.presence(
                presence_keys(presence=session.presence, members=session.members),
                presence_args(now=time.time()),
            )
        )

    def members_of(self, places: list[tuple[str, str]]) -> list[list[JSONObject]]:
        """`members` of many (campaign, session) places, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        now = time.time()
        for cid, token in places:
            self.queue_members(pipe, self.keys.campaign(cid).session(token), now)
        return [members_from(raws) for raws in pipe.execute()]
