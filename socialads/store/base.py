"""What every domain of the store shares: one Redis connection pool, the key layout and the
scripts (`Backend`), and how our Redis clients are made."""

from __future__ import annotations

import secrets
from typing import Any, cast

import redis
from redis.client import Pipeline

from socialads.store.clients import (
    READER,
    Resp3Connection,
    cluster_client,
    is_cluster,
    redis_client,
    replicas_to_wait,
)
from socialads.store.keys import Keys
from socialads.store.parts import Parts
from socialads.store.scripts import Scripts

POOL_SIZE = 200  # Redis connections per process

JSONObject = dict[str, Any]  # what we keep as JSON and hand back parsed


class RoundTrips:
    """Whether this process's last Redis round trip succeeded (``socialads_redis_up``): every
    reply, and every failure to connect or to read one, of the process's pool says so."""

    def __init__(self) -> None:
        self.up = True

    def tracking(self, base: type[redis.Connection]) -> type[redis.Connection]:
        """``base`` (the pool's connection class, TCP or TLS) reporting here."""
        trips = self

        class Tracked(base):  # type: ignore[valid-type,misc]
            def connect(self, *args: Any, **kwargs: Any) -> Any:
                try:
                    return super().connect(*args, **kwargs)
                except (redis.ConnectionError, redis.TimeoutError):
                    trips.up = False
                    raise

            def read_response(self, *args: Any, **kwargs: Any) -> Any:
                try:
                    reply = super().read_response(*args, **kwargs)
                except (redis.ConnectionError, redis.TimeoutError):
                    trips.up = False
                    raise
                trips.up = True  # an error reply is still a round trip
                return reply

        return Tracked


def connect(url: str, trips: RoundTrips | None = None) -> redis.Redis:
    """The process's client. A blocking pool: a burst of more concurrent commands than
    connections waits a moment for one (a plain pool would fail them at once, and the
    viewers would see `unavailable` for nothing). On a cluster, one such pool per node
    (``socialads.store.clients``); the cluster client speaks the same commands."""
    if is_cluster(url):
        connection = trips.tracking(Resp3Connection) if trips else Resp3Connection
        return cast(
            redis.Redis,
            cluster_client(
                url,
                connection_class=connection,
                connection_pool_class=redis.BlockingConnectionPool,
                max_connections=POOL_SIZE,
                timeout=5,
                decode_responses=True,
                socket_timeout=5,
                socket_connect_timeout=2,
                protocol=READER["protocol"],
            ),
        )
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=5,
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=2,
        health_check_interval=30,
        **READER,
    )
    if trips is not None:
        pool.connection_class = trips.tracking(pool.connection_class)
    return redis.Redis(connection_pool=pool)


def listener_connection(url: str) -> redis.Redis:
    """A connection for pub/sub: it must block forever, so no socket timeout. Messages stay
    bytes (JSON parses them as they are): a message that is not UTF-8 must not stop it."""
    return redis_client(
        url,
        decode_responses=False,
        socket_timeout=None,
        socket_connect_timeout=2,
        socket_keepalive=True,
        health_check_interval=0,
    )


def publish_command(sharded: bool) -> str:
    """How a message is published: SPUBLISH on a cluster, PUBLISH on one Redis."""
    return "SPUBLISH" if sharded else "PUBLISH"


class Backend:
    """One Redis and what we keep in it: the pool, the key layout, the registered scripts."""

    def __init__(
        self,
        url: str,
        prefix: str,
        ack_replicas: int | str = 0,
        ack_wait_ms: int = 500,
        counter_parts: int = 1,
    ):
        self.url = url
        self.cluster = is_cluster(url)
        self.round_trips = RoundTrips()
        self.redis = connect(url, self.round_trips)
        self.keys = Keys(prefix)
        # This process's name in what is kept per process: its count of a campaign's live
        # viewers (socialads.store.presence), its listeners' own channels (realtime.bus).
        self.process = secrets.token_hex(8)
        self.ack_replicas = replicas_to_wait(self.redis, ack_replicas)
        self.scripts = Scripts(self.redis, self.ack_replicas, ack_wait_ms)
        # How many parts each campaign's counts are kept in (``counter_parts``: for new ones).
        self.parts = Parts(self.redis, self.keys, counter_parts)


class Domain:
    """A part of the store (accounts, chat, ...): it works on the `Backend` it is given."""

    def __init__(self, backend: Backend):
        self.redis = backend.redis
        self.keys = backend.keys
        self.scripts = backend.scripts
        self.cluster = backend.cluster
        self.process = backend.process
        self.parts = backend.parts

    def publish_on(self, pipe: Any, channel: str, message: bytes) -> None:
        """Queue ``message`` for ``channel`` on ``pipe`` (a pipeline, or the client to send
        it now): sharded pub/sub on a cluster (the channel lives in its hash tag's slot, so
        a campaign's notice goes with the change it tells), classic on one Redis."""
        pipe.execute_command(publish_command(self.cluster), channel, message)

    def transaction(self, *, one_slot: bool) -> Pipeline:
        """A MULTI/EXEC pipeline. A Redis Cluster runs one only on the keys of one slot: for
        commands spanning slots (``one_slot`` False) it is a plain pipeline there, grouped
        per node, so a caller writes the record before what points to it (a failure halfway
        leaves a record nothing lists, never a listing of nothing)."""
        return self.redis.pipeline(transaction=one_slot or not self.cluster)
