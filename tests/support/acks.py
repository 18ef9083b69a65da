"""What a refusal looks like on a socket: an error ack with a CONTRACT code and a message."""

from __future__ import annotations

CODES = {
    "invalid",
    "not_found",
    "inactive",
    "not_joined",
    "too_large",
    "rate_limited",
    "unavailable",
}


def assert_error(ack, code=None):
    assert ack["ok"] is False, ack
    assert set(ack["error"]) >= {"code", "message"} and ack["error"]["code"] in CODES, ack
    assert isinstance(ack["error"]["message"], str) and ack["error"]["message"]
    if code:
        assert ack["error"]["code"] == code, ack
