"""The Socket.IO server of this process and the rooms it emits to, by name.

``socketio`` is Flask-SocketIO's extension, a module-level singleton bound to the app in
``create_app``; the viewer namespace (``/``, ``socialads.realtime.namespace``) and the
brand's live conversation (``/admin``, ``socialads.admin.conversation``) both emit through
it. Rooms are per process: an emit reaches the room's members on every process through the
message queue unless it says ``ignore_queue``.
"""

from __future__ import annotations

from flask_socketio import SocketIO

socketio = SocketIO()


def session_room(session: str) -> str:
    """The viewers of one session (namespace ``/``)."""
    return "s:" + session


def admin_room(cid: str) -> str:
    """The brand's team watching a campaign's conversation (namespace ``/admin``)."""
    return "admin:" + cid
