"""The viewer namespace (``/``): the Socket.IO events of CONTRACT §4, each handed to this
process's real-time service (``socialads.realtime.service``).

Every handler answers through its acknowledgement, errors included: a handler that raised
would leave the client waiting for an ack that never comes. The handlers are registered on
the ``socketio`` singleton as this module is imported (`bind` is what ``create_app`` calls).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import ConnectionRefusedError as Refused
from redis.exceptions import RedisError

from socialads.domain.errors import Problem
from socialads.protocol import ErrorCode
from socialads.realtime.rooms import socketio
from socialads.realtime.service import EXTENSION, Realtime

log = logging.getLogger(__name__)

Handler = Callable[[str, Any], dict[str, Any]]


def bind(app: Flask, realtime: Realtime) -> None:
    """Serve the viewer namespace of ``app`` with ``realtime``."""
    app.extensions[EXTENSION] = realtime


def _realtime() -> Realtime:
    return current_app.extensions[EXTENSION]


def _answer(handler: Handler, payload: Any) -> dict[str, Any]:
    try:
        return handler(request.sid, payload)  # type: ignore[attr-defined]
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


@socketio.on("join")
def on_join(payload: Any = None, *_extra: Any) -> dict[str, Any]:
    return _answer(_realtime().viewers.join, payload)


@socketio.on("act")
def on_act(payload: Any = None, *_extra: Any) -> dict[str, Any]:
    started = time.perf_counter()
    realtime = _realtime()
    ack = _answer(realtime.viewers.act, payload)
    metrics = realtime.metrics
    if not ack.get("ok"):
        metrics.actions.labels("rejected").inc()
    else:
        metrics.actions.labels("duplicate" if ack.get("duplicate") else "ok").inc()
    # The ack is written as this returns (from this greenlet, socialads.realtime.floor).
    metrics.ack_seconds.observe(time.perf_counter() - started)
    return ack


@socketio.on("say")
def on_say(payload: Any = None, *_extra: Any) -> dict[str, Any]:
    return _answer(_realtime().viewers.say, payload)


@socketio.on("leave")
def on_leave(payload: Any = None, *_extra: Any) -> dict[str, Any]:
    return _answer(_realtime().viewers.leave, payload)


@socketio.on("*")
def on_unknown(event: Any, *_args: Any) -> dict[str, Any]:
    return Problem(ErrorCode.INVALID, f"Unknown event {str(event)[:40]!r}.").ack()


@socketio.on_error_default
def on_error(exc: Exception) -> dict[str, Any]:
    log.exception("unhandled Socket.IO error")
    return Problem(ErrorCode.UNAVAILABLE, "Something went wrong on our side; retry.").ack()
