"""GET /metrics (CONTRACT §5): off unless a token is set, refused without it, and every
series the contract names."""

from __future__ import annotations

import pytest
from redis.exceptions import RedisError

from socialads import create_app
from tests.support.seeds import SECRET

CONTRACT_SERIES = (
    "socialads_connections",
    "socialads_viewers",
    'socialads_actions_total{result="ok"}',
    'socialads_actions_total{result="duplicate"}',
    'socialads_actions_total{result="rejected"}',
    'socialads_updates_sent_total{event="progress"}',
    'socialads_updates_sent_total{event="presence"}',
    'socialads_updates_sent_total{event="message"}',
    "socialads_bus_messages_received_total",
    "socialads_ack_seconds_bucket",
    "socialads_ack_seconds_count",
    "socialads_redis_up",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
)


@pytest.fixture
def metered(redis_server):
    return create_app(
        {
            "REDIS_URL": redis_server.url,
            "SECRET_KEY": SECRET,
            "TESTING": True,
            "MESSAGE_QUEUE": False,
            "METRICS_TOKEN": "s3cret-token",
        }
    ).test_client()


def test_metrics_is_404_when_no_token_is_set(client):
    answer = client.get("/metrics")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer wrong", "Basic s3cret-token", "s3cret-token"]
)
def test_metrics_refuses_without_the_token(metered, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = metered.get("/metrics", headers=headers)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_metrics_answers_every_contract_series(metered):
    answer = metered.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    assert answer.headers["Cache-Control"] == "no-store"
    text = answer.get_data(as_text=True)
    for series in CONTRACT_SERIES:
        assert f"\n{series}" in text, series
    assert "socialads_redis_up 1.0" in text  # the app's Redis answered its last round trip


def test_redis_up_follows_the_last_round_trip(tmp_path):
    from socialads.runtime.embedded_redis import EmbeddedRedis

    redis = EmbeddedRedis(tmp_path).start()
    app = create_app(
        {"REDIS_URL": redis.url, "SECRET_KEY": SECRET, "MESSAGE_QUEUE": False, "METRICS_TOKEN": "t"}
    )
    scrape = app.test_client().get
    store = app.extensions["socialads.store"]
    store.ping()
    assert (
        "socialads_redis_up 1.0" in scrape("/metrics", headers={"Authorization": "Bearer t"}).text
    )
    redis.stop()
    with pytest.raises(RedisError):
        store.ping()
    assert (
        "socialads_redis_up 0.0" in scrape("/metrics", headers={"Authorization": "Bearer t"}).text
    )


def test_emits_the_library_sends_itself_are_counted_too(metered):
    """An emit with a callback (one packet per recipient, sent by python-socketio's own
    manager) counts each recipient as the floor's emit does."""
    from socialads.realtime.rooms import socketio

    app = metered.application
    metrics = app.extensions["socialads.metrics"]
    viewer = socketio.test_client(app)
    try:
        before = metrics.updates_sent.labels("message")._value.get()
        socketio.server.manager.emit("message", {"text": "hi"}, "/", callback=lambda *_: None)
        socketio.server.manager.emit("progress", {"total": 1}, "/")
        assert metrics.updates_sent.labels("message")._value.get() == before + 1
        assert [event["name"] for event in viewer.get_received()] == ["message", "progress"]
    finally:
        viewer.disconnect()
