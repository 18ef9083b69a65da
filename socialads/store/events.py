"""Our messages between processes: what goes on the channels, and reading it back.

What concerns one campaign goes on its channel (``sa:c:{C}:bus``, heard only by the
processes serving its viewers: ``socialads.realtime.bus``); what concerns every process, on
the global one (``sa:events``). Every message is a JSON object whose ``k`` is an
`EventKind` (``socialads.protocol``) and which carries that kind's string fields
(`EVENT_FIELDS`):

- ``{"k": "p", c, s, t, st, sp, sm, f}``: new totals after an action (published by
  record_action.lua, on the campaign's channel): the campaign's total, the session's total,
  people and matched, and the new value of each activity state counter the action moved;
- ``{"k": "m", c, s}``: someone joined or left session ``s`` (with the change, on the
  campaign's channel);
- ``{"k": "b", c, m, reason}``: a viewer (member id ``m``) was blocked from a campaign (on
  its channel);
- ``{"k": "x", c, s, reason}``: the brand closed session ``s`` (on the campaign's channel);
- ``{"k": "c", c}``: a campaign definition changed (global: any process may hold it);
- ``{"k": "ping", n}``: a liveness nonce (on a listener's own channel; see
  ``socialads.realtime.liveness``).

A campaign's channel also carries python-socketio's messages for the rooms of that campaign
(JSON objects with a ``method``, ``socialads.realtime.wire``). On one Redis the channels
are classic pub/sub (PUBLISH); on a cluster, sharded (SPUBLISH: a campaign's channel lives in
the campaign's slot, so it costs only the shard that holds the campaign).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from socialads.protocol import EVENT_FIELDS, EventKind
from socialads.store.base import Domain

log = logging.getLogger(__name__)

ChannelEvent = dict[str, Any]
_FIELDS: dict[str, tuple[str, ...]] = {str(kind): fields for kind, fields in EVENT_FIELDS.items()}


def channel_event(data: bytes | str) -> ChannelEvent | None:
    """A message of ours, or None when it is not one of ours: the channels carry JSON
    objects only, and whatever else reaches them (a pickle, a typo in redis-cli) must not
    stop a process from listening."""
    try:
        event: object = orjson.loads(data)
    except orjson.JSONDecodeError:
        event = None
    return our_event(event)


def our_event(event: object) -> ChannelEvent | None:
    """``event`` (a message already parsed) when it is one of ours, else None (logged)."""
    if isinstance(event, dict) and isinstance(event.get("k"), str):
        fields = _FIELDS.get(event["k"])
        if fields is not None and all(isinstance(event.get(key), str) for key in fields):
            return event
    log.warning("ignored a message on the bus that is not ours")
    return None


def campaign_changed(cid: str) -> bytes:
    return orjson.dumps({"k": EventKind.CAMPAIGN, "c": cid})


def viewer_blocked(cid: str, member: str, reason: str) -> bytes:
    return orjson.dumps({"k": EventKind.BLOCKED, "c": cid, "m": member, "reason": reason})


def members_changed(cid: str, token: str) -> bytes:
    return orjson.dumps({"k": EventKind.MEMBERS, "c": cid, "s": token})


def session_closed(cid: str, token: str, reason: str) -> bytes:
    return orjson.dumps({"k": EventKind.CLOSED, "c": cid, "s": token, "reason": reason})


class Events(Domain):
    """Publishing what is not published inside a script."""

    def publish(self, channel: str, message: bytes) -> None:
        self.publish_on(self.redis, channel, message)

    def publish_ping(self, channels: list[str], message: bytes) -> None:
        """A liveness nonce on each channel, in one round trip (``socialads.realtime.liveness``)."""
        pipe = self.redis.pipeline(transaction=False)
        for channel in channels:
            self.publish_on(pipe, channel, message)
        pipe.execute()
