"""One home for what a value means on every side: Python, the Lua scripts, the wire.

- `ActionStatus`: what the counting script answers for an act (``record_action.lua``).
- `PostStatus`: what the chat script answers for a message (``post_message.lua``).
- `SeatStatus`: what the seat script answers for a connection taking a seat (``seat.lua``).
- `EventKind`: the ``k`` of each message on our events channel between processes.
- `ErrorCode`: the ``error.code`` of CONTRACT.md, over HTTP and in socket acks.

The Lua scripts never spell a status or an event kind themselves: ``socialads.store.scripts``
prepends ``lua_constants()`` to each script (``local ACTION_COUNTED = 1``, ``local
EVENT_PROGRESS = "p"`` ...), so the script and the enum cannot disagree, and a test
(tests/unit/test_protocol.py) checks that no script returns a number of its own.

May import nothing of the package: every layer imports it.
"""

from __future__ import annotations

import json
from enum import IntEnum, StrEnum


class ActionStatus(IntEnum):
    """The first value the counting script returns for one act."""

    COUNTED = 1
    DUPLICATE = 0  # this (viewer, action id) was counted before: nothing added
    CAPPED = -1  # the viewer reached the campaign's per-viewer cap
    ALREADY_CHOSEN = -2  # a once-only choice (a vote, an answer) was made before
    COOLING_DOWN = -3  # the activity's cooldown has not passed for this viewer
    SESSION_CLOSED = -4  # the brand closed the session
    RATE_LIMITED = -5  # a shared token bucket (per viewer or address) is empty


class PostStatus(IntEnum):
    """The first value the chat script returns for one message."""

    POSTED = 1
    REPEATED = 0  # the client's message id was posted before: the original comes back
    SESSION_CLOSED = -1


class SeatStatus(IntEnum):
    """What the seat script returns for a connection taking a seat in a session's room."""

    FIRST = 2  # seated, the viewer's first join of this session (counted once)
    BACK = 1  # seated, the viewer joined this session before
    FULL = 0  # the room holds as many people as it may


class JoinStatus(IntEnum):
    """What the join's count script returns (socialads.store.joins)."""

    COUNTED = 1  # counted (and told)
    BLOCKED = 0  # the brand blocked the viewer since the join was admitted: nothing counted
    CLOSED = -1  # the brand closed the session meanwhile: nothing counted


class EventKind(StrEnum):
    """The ``k`` field of a message on the events channel (``socialads.store.events``)."""

    PING = "ping"  # {n}: a liveness nonce (socialads.realtime.liveness)
    PROGRESS = "p"  # {c, s, t, st, sp, sm, f}: new totals after an action
    CAMPAIGN = "c"  # {c}: a campaign definition changed
    BLOCKED = "b"  # {c, m, reason}: a viewer (member id m) was blocked from a campaign
    CLOSED = "x"  # {c, s, reason}: the brand closed session s
    MEMBERS = "m"  # {c, s}: someone joined or left session s


# The string fields each kind must carry to be one of ours.
EVENT_FIELDS: dict[EventKind, tuple[str, ...]] = {
    EventKind.PING: ("n",),
    EventKind.PROGRESS: ("c",),
    EventKind.CAMPAIGN: ("c",),
    EventKind.BLOCKED: ("c", "m", "reason"),
    EventKind.CLOSED: ("c", "s", "reason"),
    EventKind.MEMBERS: ("c", "s"),
}


class ErrorCode(StrEnum):
    """Every ``error.code`` an answer may carry (CONTRACT.md §3 and §4)."""

    INVALID = "invalid"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    NOT_JOINED = "not_joined"
    NOT_FOUND = "not_found"
    INACTIVE = "inactive"
    UNAVAILABLE = "unavailable"
    UNAUTHORIZED = "unauthorized"
    BAD_REQUEST = "bad_request"
    CONFLICT = "conflict"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    METHOD_NOT_ALLOWED = "method_not_allowed"


def lua_constants() -> str:
    """The statuses and event kinds as Lua locals, prepended to every script: one meaning in
    both languages. Names are prefixed by their enum (``ACTION_COUNTED``, ``POST_REPEATED``,
    ``EVENT_PROGRESS``)."""
    lines = [f"local ACTION_{status.name} = {status.value}" for status in ActionStatus]
    lines += [f"local POST_{status.name} = {status.value}" for status in PostStatus]
    lines += [f"local SEAT_{status.name} = {status.value}" for status in SeatStatus]
    lines += [f"local JOIN_{status.name} = {status.value}" for status in JoinStatus]
    lines += [f"local EVENT_{kind.name} = {json.dumps(kind.value)}" for kind in EventKind]
    return "\n".join(lines) + "\n"
