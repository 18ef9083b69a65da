"""The events channel between processes (``sa:events``): what goes on it, and reading it back.

Every message is a JSON object whose ``k`` is an `EventKind` (``socialads.protocol``) and
which carries that kind's string fields (`EVENT_FIELDS`):

- ``{"k": "p", c, s, t, st, sp, sm, f}``: new totals after an action (published by
  record_action.lua): the campaign's total, the session's total, people and matched, and the
  new value of each activity state counter the action moved;
- ``{"k": "m", c, s}``: someone joined or left session ``s`` (published with the change);
- ``{"k": "c", c}``: a campaign definition changed;
- ``{"k": "b", c, m, reason}``: a viewer (member id ``m``) was blocked from a campaign;
- ``{"k": "x", c, s, reason}``: the brand closed session ``s``;
- ``{"k": "ping", n}``: a liveness nonce (also sent on the Socket.IO channel; see
  ``socialads.realtime.liveness``).

The listener (``socialads.realtime``) reads them with `channel_event`.
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
    """A message of our events channel, or None when it is not one of ours: the channel
    carries JSON objects only, and whatever else reaches it (a pickle, a typo in redis-cli)
    must not stop a process from listening."""
    try:
        event: object = orjson.loads(data)
    except orjson.JSONDecodeError:
        event = None
    if isinstance(event, dict) and isinstance(event.get("k"), str):
        fields = _FIELDS.get(event["k"])
        if fields is not None and all(isinstance(event.get(key), str) for key in fields):
            return event
    log.warning("ignored a message on the events channel that is not ours")
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

    def publish_ping(self, channels: list[str], message: bytes) -> None:
        """A liveness nonce on each channel, in one round trip (``socialads.realtime.liveness``)."""
        pipe = self.redis.pipeline(transaction=False)
        for channel in channels:
            pipe.publish(channel, message)
        pipe.execute()
