"""The viewer namespace (``/``): the Socket.IO events of CONTRACT §4, each handed to this
process's real-time service (``socialads.realtime.service``).

Every handler answers through its acknowledgement, errors included: a handler that raised
would leave the client waiting for an ack that never comes. ``connect``, ``disconnect`` and
unknown events go through Flask-SocketIO (registered on the ``socketio`` singleton as this
module is imported), which wraps each in a Flask request context; the four events a viewer
sends all the time (join, act, say, leave) need none of it (no request, no session, no URL
matching: they take the connection id and the service), so `serve_events` registers them on
python-socketio's server itself, its documented ``Server.on``, and skips that work (about a
tenth of a busy process). `bind` and `serve_events` are what ``create_app`` calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import ConnectionRefusedError as Refused
from redis.exceptions import RedisError
from socketio import server as socketio_server

from socialads.domain.errors import Problem
from socialads.protocol import ErrorCode
from socialads.realtime.rooms import socketio
from socialads.realtime.service import EXTENSION, Realtime

log = logging.getLogger(__name__)

Handler = Callable[[str, Any], dict[str, Any]]


def bind(app: Flask, realtime: Realtime) -> None:
    """Serve the viewer namespace of ``app`` with ``realtime``."""
    app.extensions[EXTENSION] = realtime


def serve_events(server: socketio_server.Server, realtime: Realtime) -> None:
    """Answer the viewers' events of ``server`` (the app's python-socketio server, made by
    ``socketio.init_app``) with ``realtime``, outside any Flask context."""

    def on_join(sid: str, payload: Any = None, *_extra: Any) -> dict[str, Any]:
        return _answer(realtime.viewers.join, sid, payload)

    def on_act(sid: str, payload: Any = None, *_extra: Any) -> dict[str, Any]:
        started = time.perf_counter()
        ack = _answer(realtime.viewers.act, sid, payload)
        metrics = realtime.metrics
        if not ack.get("ok"):
            metrics.actions.labels("rejected").inc()
        else:
            metrics.actions.labels("duplicate" if ack.get("duplicate") else "ok").inc()
        # The ack is written as this returns (from this greenlet, socialads.realtime.floor).
        metrics.ack_seconds.observe(time.perf_counter() - started)
        return ack

    def on_say(sid: str, payload: Any = None, *_extra: Any) -> dict[str, Any]:
        return _answer(realtime.viewers.say, sid, payload)

    def on_leave(sid: str, payload: Any = None, *_extra: Any) -> dict[str, Any]:
        return _answer(realtime.viewers.leave, sid, payload)

    for event, handler in (
        ("join", on_join),
        ("act", on_act),
        ("say", on_say),
        ("leave", on_leave),
    ):
        server.on(event, handler, namespace="/")


def _realtime() -> Realtime:
    return current_app.extensions[EXTENSION]


def _answer(handler: Handler, sid: str, payload: Any) -> dict[str, Any]:
    try:
        return handler(sid, payload)
    except Problem as problem:
        return problem.ack()
    except RedisError:
        log.warning("Redis unavailable during %s", handler.__name__)
        return Problem(ErrorCode.UNAVAILABLE, "The service is briefly unavailable; retry.").ack()
    except Exception:
        log.exception("%s failed", handler.__name__)
        return Problem(ErrorCode.UNAVAILABLE, "Something went wrong on our side; retry.").ack()


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    realtime, sid = _realtime(), request.sid  # type: ignore[attr-defined]
    realtime.start()
    try:
        realtime.guard.connect(sid, request.remote_addr)
    except Problem as problem:  # refused: the client's connect_error carries the ack
        raise Refused(problem.code, problem.ack()) from None


@socketio.on("disconnect")
def on_disconnect(*_reason: Any) -> None:
    sid = request.sid  # type: ignore[attr-defined]
    try:
        _realtime().viewers.disconnect(sid)
    except RedisError:
        log.warning("Redis unavailable while %s disconnected", sid)


@socketio.on("*")
def on_unknown(event: Any, *_args: Any) -> dict[str, Any]:
    return Problem(ErrorCode.INVALID, f"Unknown event {str(event)[:40]!r}.").ack()


@socketio.on_error_default
def on_error(exc: Exception) -> dict[str, Any]:
    log.exception("unhandled Socket.IO error")
    return Problem(ErrorCode.UNAVAILABLE, "Something went wrong on our side; retry.").ack()
