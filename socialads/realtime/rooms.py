"""The Socket.IO server of this process and the rooms it emits to, by name.

``socketio`` is Flask-SocketIO's extension, a module-level singleton bound to the app in
``create_app``; the viewer namespace (``/``, ``socialads.realtime.namespace``) and the
brand's live conversation (``/admin``, ``socialads.admin.conversation``) both emit through
it. Rooms are per process: an emit reaches the room's members on every process through the
campaign's bus channel (``socialads.realtime.bus``) unless it says ``ignore_queue``. Every
room name carries its campaign, so the bus knows which campaigns this process serves: the
ones it holds rooms of (`campaign_of_room`).
"""

from __future__ import annotations

from flask_socketio import SocketIO

socketio = SocketIO()

SESSION_PREFIX = "s:"
ADMIN_PREFIX = "admin:"


def session_room(cid: str, session: str) -> str:
    """The viewers of one session of campaign ``cid`` (namespace ``/``)."""
    return f"{SESSION_PREFIX}{cid}:{session}"


def admin_room(cid: str) -> str:
    """The brand's team watching a campaign's conversation (namespace ``/admin``)."""
    return ADMIN_PREFIX + cid


def campaign_of_room(room: object) -> str | None:
    """The campaign of a room named by `session_room` or `admin_room`; None for any other
    room (a connection's own, python-socketio's ``None``)."""
    if not isinstance(room, str):
        return None
    if room.startswith(SESSION_PREFIX):
        cid, sep, _ = room[len(SESSION_PREFIX) :].partition(":")
        return cid if sep and cid else None
    if room.startswith(ADMIN_PREFIX):
        return room[len(ADMIN_PREFIX) :] or None
    return None
