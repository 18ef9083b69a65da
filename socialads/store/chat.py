"""A session's chat, the brand people's replies in it, and the campaign's conversations as
the brand sees them (latest first, with how long viewers waited for an answer).

Messages are numbered per session by post_message.lua and deduplicated by their client
id, like actions; a viewer's message starts the wait for a brand reply (the session's
``waiting_since``), which brand_reply.lua turns into the campaign's reply latencies.
"""

from __future__ import annotations

import time
from typing import Any, TypedDict, cast

import orjson

from socialads.protocol import PostStatus
from socialads.store.base import Backend, Domain, JSONObject
from socialads.store.keys import SESSION_TTL
from socialads.store.scripts import (
    brand_reply_args,
    brand_reply_keys,
    post_message_args,
    post_message_keys,
)


class SessionClosed(Exception):
    """The brand closed this session: nothing more is counted or said in it."""


class Conversation(TypedDict):
    session: str  # the session's token
    last: int  # ms of its latest message
    messages: list[JSONObject]  # oldest first; a hidden one is its record, without its text
    waiting_since: int | None  # ms of the oldest viewer message no brand reply answered yet
    closed: JSONObject | None  # the record of the brand closing the session


class Chat(Domain):
    """Messages, brand replies and conversations."""

    def __init__(self, backend: Backend, chat_keep: int):
        super().__init__(backend)
        self.chat_keep = chat_keep  # messages kept per session

    def post_message(
        self, cid: str, token: str, client_key: str, message: JSONObject, viewer: str | None = None
    ) -> tuple[bool, JSONObject]:
        """Store a chat message; returns (posted, message) and the original on a repeat.
        A ``viewer``'s message makes them an engaged viewer."""
        key = self.keys.campaign(cid)
        session = key.session(token)
        status, raw = self.scripts.post_message(
            post_message_keys(
                sent=session.sent, session=session.hash, chat=session.chat, counters=key.counters
            ),
            post_message_args(
                client_key=client_key, message=orjson.dumps(message), keep=self.chat_keep
            ),
        )
        if status == PostStatus.SESSION_CLOSED:
            raise SessionClosed(token)
        posted = status == PostStatus.POSTED
        if posted:
            self._note_talk(cid, token, message)
        if posted and viewer is not None:
            self.redis.pfadd(self.parts.of(cid).of(viewer).engaged, viewer)  # their part's
        return posted, orjson.loads(raw)

    def _note_talk(self, cid: str, token: str, message: JSONObject) -> None:
        """List the session among the campaign's conversations; a viewer's message starts the
        wait for a brand reply unless an earlier one is still unanswered."""
        key = self.keys.campaign(cid)
        at = message["ts"] if "ts" in message else int(time.time() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(key.talk, {token: at})
        pipe.zremrangebyscore(key.talk, "-inf", (time.time() - SESSION_TTL) * 1000)
        pipe.expire(key.talk, SESSION_TTL)
        if not message.get("author", {}).get("brand_person"):
            pipe.hsetnx(key.session_hash(token), "waiting_since", at)
        pipe.execute()

    def post_brand_reply(
        self,
        cid: str,
        token: str,
        reply_id: str,
        message: JSONObject,
    ) -> tuple[bool, JSONObject]:
        """Post a reply a brand person typed (numbered like any message), and count it with
        how long the session waited; a repeated ``reply_id`` answers the original."""
        posted, message = self.post_message(cid, token, f"\0brand\0{reply_id}", message)
        if posted:
            key = self.keys.campaign(cid)
            self.scripts.brand_reply(
                brand_reply_keys(
                    session=key.session_hash(token),
                    counters=key.counters,
                    replies=key.replies,
                    reply_median=key.reply_median,
                ),
                brand_reply_args(at=message["ts"]),
            )
        return posted, message

    def brand_replies(self, cid: str) -> int:
        """How many replies the brand's people posted in the campaign."""
        return int(self.redis.hget(self.keys.campaign(cid).counters, "brand_replies") or 0)

    def median_reply_seconds(self, cid: str) -> float | None:
        """The median wait for a brand reply over the last 1000 answered waits; None until
        the first."""
        value = self.redis.get(self.keys.campaign(cid).reply_median)
        return float(value) if value is not None else None

    def reply_seconds(self, cid: str) -> list[float]:
        """The last 1000 waits for a brand reply in seconds, newest first."""
        return [float(v) for v in self.redis.lrange(self.keys.campaign(cid).replies, 0, -1)]

    def talk_summary(
        self,
        cid: str,
        brand_id: str,
        person_ids: list[str],
    ) -> tuple[list[JSONObject], float | None]:
        """What a widget shows of the brand's people, in one round trip: the featured people
        (skipping ids no longer on the roster) and the median reply time."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self.keys.campaign(cid).reply_median)
        if person_ids:
            pipe.hmget(self.keys.brand_people(brand_id), person_ids)
        median, *raws = pipe.execute()
        people = [orjson.loads(raw) for raw in (raws[0] if raws else []) if raw]
        return people, float(median) if median is not None else None

    def conversations(
        self,
        cid: str,
        before: int | None = None,
        limit: int = 20,
    ) -> list[Conversation]:
        """Sessions with messages, latest activity first (``before``: ms, to page back),
        hidden messages as their record."""
        key = self.keys.campaign(cid)
        found = cast(
            "list[tuple[str, float]]",
            self.redis.zrevrangebyscore(
                key.talk,
                f"({before}" if before is not None else "+inf",
                "-inf",
                start=0,
                num=limit,
                withscores=True,
            ),
        )
        pipe = self.redis.pipeline(transaction=False)
        for token, _ in found:
            session = key.session(token)
            pipe.lrange(session.chat, 0, -1)
            pipe.hvals(session.hidden)
            pipe.hget(session.hash, "waiting_since")
            pipe.hget(session.hash, "closed")
        results: list[Any] = pipe.execute()
        talks: list[Conversation] = []
        gone = []
        for index, (token, last) in enumerate(found):
            shown, hidden, waiting, closed = results[4 * index : 4 * index + 4]
            messages = sorted(
                (orjson.loads(raw) for raw in [*shown, *hidden]), key=lambda message: message["id"]
            )
            if not messages:
                gone.append(token)  # the session expired
                continue
            talks.append(
                {
                    "session": token,
                    "last": int(last),
                    "messages": messages,
                    "waiting_since": int(waiting) if waiting else None,
                    "closed": orjson.loads(closed) if closed else None,
                }
            )
        if gone:
            self.redis.zrem(key.talk, *gone)
        return talks
