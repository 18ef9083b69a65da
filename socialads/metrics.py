"""This process's figures for an operator, in Prometheus's terms (CONTRACT §5), by
prometheus_client.

One `Metrics` per app, each with a registry of its own (a test process builds many apps;
a registry per app keeps their counts apart), read by ``GET /metrics``
(``socialads.web.metrics``). Every layer that counts something is handed the app's
`Metrics`; this module imports nothing of ours, so any layer may.

No label ever carries a viewer, a session or a campaign id: a label value is one of a few
fixed words (an event name, an act's result, a channel), so the number of series stays
the same whatever the traffic (cardinality).
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST

# The server-to-client events whose deliveries are counted (CONTRACT §5); every other event
# counts as "other".
UPDATE_EVENTS = ("progress", "presence", "message")

# An ack is written in about a millisecond when Redis is near; the buckets reach up to the
# seconds a Redis failover can take.
ACK_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.125, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """The series of one process (one app), registered in a registry of their own."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=registry)
        self.connections = Gauge(
            "socialads_connections", "Open Socket.IO connections on this process", registry=registry
        )
        self.viewers = Gauge(
            "socialads_viewers", "Joined viewers on this process", registry=registry
        )
        self.actions = Counter(
            "socialads_actions",
            "act events answered by this process, by result (ok, duplicate, rejected)",
            ["result"],
            registry=registry,
        )
        for result in ("ok", "duplicate", "rejected"):
            self.actions.labels(result)
        self.updates_sent = Counter(
            "socialads_updates_sent",
            "Server-to-client event packets this process wrote to its clients, by event",
            ["event"],
            registry=registry,
        )
        self._updates = {event: self.updates_sent.labels(event) for event in UPDATE_EVENTS}
        self._other_updates = self.updates_sent.labels("other")
        self.bus_received = Counter(
            "socialads_bus_messages_received",
            "Messages this process received through Redis (every channel, every kind)",
            registry=registry,
        )
        self.bus_by_channel = Counter(
            "socialads_bus_messages_by_channel",
            "Messages this process received through Redis, by channel (global, campaign); "
            "liveness nonces (/healthz, the watchdog) as probe, whatever their channel",
            ["channel"],
            registry=registry,
        )
        self.ack_seconds = Histogram(
            "socialads_ack_seconds",
            "From an act arriving at this process to its ack being written",
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.redis_up = Gauge(
            "socialads_redis_up",
            "1 while this process's last Redis round trip succeeded, else 0",
            registry=registry,
        )
        # What the delivery path does (socialads.realtime.floor).
        self.frames_built = Counter(
            "socialads_frames_built",
            "WebSocket frames built for broadcasts: one per payload, however many receive it",
            registry=registry,
        )
        self.writes = Counter(
            "socialads_socket_writes",
            "Writes to client sockets (one write may carry several merged frames)",
            registry=registry,
        )
        self.frames_merged = Counter(
            "socialads_frames_merged",
            "Frames that went out in the same write as an earlier frame to the same socket",
            registry=registry,
        )
        self.progress_replaced = Counter(
            "socialads_progress_replaced",
            "progress updates a slow socket never received because a newer one replaced them",
            registry=registry,
        )
        self.slow_closed = Counter(
            "socialads_slow_sockets_closed",
            "Sockets closed because they took nothing for too long or held back too much",
            registry=registry,
        )
        self.held_back = Gauge(
            "socialads_sockets_holding_back",
            "Sockets that could not take their last frames at once and hold them for later",
            registry=registry,
        )
        self.coalescer_lag = Histogram(
            "socialads_coalescer_lag_seconds",
            "From a campaign's progress becoming due to its update going out",
            buckets=LAG_BUCKETS,
            registry=registry,
        )

    def watch(self, connections: Callable[[], int], viewers: Callable[[], int]) -> None:
        """Read the two gauges from the live registries when scraped, not kept in step."""
        self.connections.set_function(connections)
        self.viewers.set_function(viewers)

    def sent(self, event: str, count: int = 1) -> None:
        """``count`` packets of ``event`` written to clients."""
        (self._updates.get(event) or self._other_updates).inc(count)

    def exposition(self) -> bytes:
        """The text exposition of every series (what ``GET /metrics`` answers)."""
        return generate_latest(self.registry)
