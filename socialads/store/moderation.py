"""Moderation in the open: the brand's people hide a message, block a viewer or close a
group, always with a reason, and each decision goes into the campaign's public log.

A hidden message keeps who wrote it and why it was hidden, never its text. Decisions that
every process must act on (a block, a close) are announced on the events channel.
"""

from __future__ import annotations

from typing import cast

import orjson

from socialads.store.base import Domain, JSONObject
from socialads.store.events import session_closed, viewer_blocked
from socialads.store.keys import SESSION_TTL

MODERATION_SHOWN = 500  # moderation log entries returned at once (all are kept)


class Moderation(Domain):
    """Hidden messages, blocked viewers, closed sessions and the log of it all."""

    def _shown_message(self, cid: str, token: str, message_id: int) -> str | None:
        prefix = f'{{"id":{int(message_id)},'  # as post_message.lua writes it
        chat = cast(
            "list[str]", self.redis.lrange(self.keys.campaign(cid).session(token).chat, 0, -1)
        )
        return next((raw for raw in chat if raw.startswith(prefix)), None)

    def session_message(self, cid: str, token: str, message_id: int) -> JSONObject | None:
        """One message of a session, shown or hidden (a hidden one without its text)."""
        raw = self._shown_message(cid, token, message_id) or self.redis.hget(
            self.keys.campaign(cid).session(token).hidden, str(message_id)
        )
        return orjson.loads(raw) if raw else None

    def hide_message(
        self,
        cid: str,
        token: str,
        message_id: int,
        record: JSONObject,
    ) -> JSONObject | None:
        """Take a shown message out of its session (join snapshots and ``since`` no longer
        include it), keep who wrote it and why it was hidden but not its text, and log it.
        ``record``: {at, reason, by, user}. Returns the hidden message's record, or None when
        no such message is shown (or someone hid it at the same moment)."""
        key = self.keys.campaign(cid)
        session = key.session(token)
        raw = self._shown_message(cid, token, message_id)
        if raw is None or not self.redis.lrem(session.chat, 1, raw):
            return None
        message = orjson.loads(raw)
        kept = {
            "id": message["id"],
            "ts": message["ts"],
            "author": message["author"],
            "hidden": record,
        }
        pipe = self.transaction(one_slot=True)  # the campaign's keys
        pipe.hset(session.hidden, str(message["id"]), orjson.dumps(kept))
        pipe.expire(session.hidden, SESSION_TTL)
        pipe.lpush(key.modlog, orjson.dumps({**record, "action": "hide", "message": message["id"]}))
        pipe.execute()
        return kept

    def blocked(self, cid: str, member: str) -> JSONObject | None:
        """Why a viewer (by member id) is blocked from the campaign, or None."""
        raw = self.redis.hget(self.keys.campaign(cid).blocked, member)
        return orjson.loads(raw) if raw else None

    def blocked_viewers(self, cid: str) -> list[JSONObject]:
        raws = self.redis.hgetall(self.keys.campaign(cid).blocked)
        viewers = [{"member": member, **orjson.loads(raw)} for member, raw in raws.items()]
        return sorted(viewers, key=lambda viewer: viewer["at"], reverse=True)

    def block_viewer(self, cid: str, member: str, record: JSONObject) -> bool:
        """Block a viewer from the campaign and log it (``record``: {at, reason, by, user,
        name}; the log leaves the name out). Every process hears it and drops that viewer's
        connections. False when they were already blocked."""
        if not self.redis.hsetnx(self.keys.campaign(cid).blocked, member, orjson.dumps(record)):
            return False
        entry = {k: v for k, v in record.items() if k != "name"}
        self._log_decision(
            cid, {**entry, "action": "block"}, viewer_blocked(cid, member, record["reason"])
        )
        return True

    def unblock_viewer(self, cid: str, member: str, record: JSONObject) -> bool:
        """Let a blocked viewer take part again, and log it. False when they were not
        blocked."""
        if not self.redis.hdel(self.keys.campaign(cid).blocked, member):
            return False
        self._log_decision(cid, {**record, "action": "unblock"})
        return True

    def close_session(self, cid: str, token: str, record: JSONObject) -> bool:
        """Close a session for good (``record``: {at, reason, by, user}) and log it in the
        public moderation log; every process hears it and takes its viewers out. False when
        it was closed already (or is gone)."""
        key = self.keys.campaign(cid).session_hash(token)
        if not self.redis.exists(key) or self.redis.hexists(key, "closed"):
            return False
        others = self.parts.of(cid).all[1:]
        if others:  # each part's count script refuses on its own copy: those first, so a
            pipe = self.redis.pipeline(transaction=False)  # close that failed is done again
            for part in others:
                pipe.hset(part.session_hash(token), "closed", orjson.dumps(record))
                pipe.expire(part.session_hash(token), SESSION_TTL)
            pipe.execute()
        if not self.redis.hsetnx(key, "closed", orjson.dumps(record)):
            return False
        self._log_decision(
            cid, {**record, "action": "close"}, session_closed(cid, token, record["reason"])
        )
        return True

    def _log_decision(self, cid: str, entry: JSONObject, event: bytes | None = None) -> None:
        """Write a moderation decision into the campaign's public log and, when every process
        must act on it, tell them on the campaign's channel."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.lpush(self.keys.campaign(cid).modlog, orjson.dumps(entry))
        if event is not None:
            self.publish_on(pipe, self.keys.bus(cid), event)
        pipe.execute()

    def moderation_log(self, cid: str, limit: int = MODERATION_SHOWN) -> list[JSONObject]:
        """What the brand's people hid, blocked and unblocked, newest first."""
        raws = self.redis.lrange(self.keys.campaign(cid).modlog, 0, limit - 1)
        return [orjson.loads(raw) for raw in raws]
