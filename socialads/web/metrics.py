"""``GET /metrics``: this process's figures for Prometheus (CONTRACT §5).

Off unless ``SOCIALADS_METRICS_TOKEN`` is set (404, as if there were no such page); with it,
a scraper sends ``Authorization: Bearer <token>`` (401 otherwise). The figures themselves
are ``socialads.metrics``.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from socialads.metrics import CONTENT_TYPE, Metrics
from socialads.protocol import ErrorCode

bp = Blueprint("metrics", __name__)

EXTENSION = "socialads.metrics"  # the app's `Metrics` in app.extensions


def _error(status: int, code: ErrorCode, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


@bp.get("/metrics")
def metrics() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        return _error(404, ErrorCode.NOT_FOUND, "No such page.")
    sent = request.headers.get("Authorization", "")
    scheme, _, given = sent.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), str(token).encode()
    ):
        response = _error(
            401, ErrorCode.UNAUTHORIZED, "Send Authorization: Bearer <metrics token>."
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    figures: Metrics = current_app.extensions[EXTENSION]
    response = Response(figures.exposition(), mimetype=None, content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response
