"""Liveness for load balancers: are we able to reach Redis?"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        current_app.extensions["socialads.store"].ping()
    except RedisError:
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")
