"""Who is in a session right now: each connection's entry carries an expiry that its
process's heartbeat pushes forward, so the members of a process that died disappear on
their own (within the presence TTL and one heartbeat)."""

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
        pipe = self.transaction(one_slot=True)  # the campaign's keys
        pipe.zrem(session.presence, sid)
        pipe.hdel(session.members, sid)
        pipe.zrem(key.live, sid)
        self.publish_on(pipe, self.keys.bus(cid), members_changed(cid, token))
        pipe.execute()

    def refresh_presence(self, entries: list[PresenceEntry], ttl: float) -> None:
        """Heartbeat: push the expiry of (campaign, session, connection, member) entries
        forward, writing them again in full: a process that stalled past the TTL finds its
        still-connected members swept away by another process's read, and puts them back."""
        expires = time.time() + ttl
        scores: dict[str, dict[str, float]] = defaultdict(dict)  # session key -> sid -> expiry
        members: dict[str, dict[str, bytes]] = defaultdict(dict)  # session key -> sid -> member
        live: dict[str, dict[str, float]] = defaultdict(dict)  # campaign -> sid -> expiry
        for cid, token, sid, member in entries:
            key = self.keys.campaign(cid).session_hash(token)
            scores[key][sid] = expires
            members[key][sid] = orjson.dumps(member)
            live[cid][sid] = expires
        # A few commands a session, not three a connection: packing the pipeline is CPU the
        # viewers' events wait for.
        pipe = self.redis.pipeline(transaction=False)
        for key, sids in scores.items():
            session = SessionKeys(key)
            pipe.zadd(session.presence, sids)
            pipe.hset(session.members, mapping=members[key])  # type: ignore[arg-type]
        for cid, sids in live.items():
            campaign_live = self.keys.campaign(cid).live
            pipe.zadd(campaign_live, sids)
            pipe.zremrangebyscore(campaign_live, "-inf", time.time())
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
