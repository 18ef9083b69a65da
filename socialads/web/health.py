"""Liveness for load balancers: can we reach Redis, and do we still hear the other processes?

``/healthz`` answers 200 ``{"status": "ok"}`` only when Redis answers *and* this process
heard its own nonce come back through the Socket.IO message queue and our events channel
(``socialads.realtime.liveness``): a process whose listener died keeps answering pings while hearing
no broadcasts, and must be taken out of rotation (503 with a ``reason``) until it hears again.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        current_app.extensions["socialads.store"].ping()
        deaf = current_app.extensions["socialads.liveness"].check()
    except RedisError:
        return jsonify(status="unavailable"), 503
    if deaf:
        return jsonify(status="unavailable", reason=" and ".join(deaf) + " not heard"), 503
    return jsonify(status="ok")
