"""One shape for every error: ``{"error": {"code", "message"}}`` over HTTP and in socket acks."""

from __future__ import annotations

from flask import jsonify

from socialads.protocol import ErrorCode


class Problem(Exception):
    """An expected failure with a CONTRACT error code, raised anywhere and answered once.
    ``code`` is an `ErrorCode`; only an HTTP error of werkzeug's that we have no code for
    passes its own name (``socialads.web.api.http_error``)."""

    def __init__(self, code: ErrorCode | str, message: str, http_status: int = 400, **extra):
        super().__init__(message)
        self.code, self.message, self.http_status, self.extra = code, message, http_status, extra

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}

    def ack(self) -> dict:
        # Extra details (``retry_after``) also sit at the top level, where clients look first.
        return {"ok": False, **self.body(), **self.extra}

    def response(self):
        return jsonify(self.body()), self.http_status
