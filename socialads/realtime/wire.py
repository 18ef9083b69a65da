"""Where socialads plugs into python-socketio and python-engineio: the JSON of every packet,
what a packet that cannot be decoded gets, the message queue's listener and when it starts.

This is the one module allowed to rely on those libraries' internals (a private handler, a
private generator, a flag the server keeps); each is named below where it is used, and
tests/unit/test_wire_internals.py fails when an upgrade changes one of them. Everything
else of ours speaks the libraries' documented API.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import orjson
import socketio
from engineio import json as engineio_json

from socialads.realtime.frames import FloorEmit
from socialads.realtime.liveness import PING_PREFIX, RECONNECT_WAIT, Hearing
from socialads.store import READER
from socialads.store.clients import redis_client

log = logging.getLogger(__name__)

MALFORMED = (ValueError, TypeError, IndexError, KeyError, RecursionError)


class OrjsonWire:
    """The JSON of Socket.IO packets, by orjson: several times faster than the standard
    library at both ends of every event. What orjson will not take (integers beyond 64 bits)
    goes to Engine.IO's own codec, so the protocol's behaviour is exactly the library's: such
    a payload still reaches the handler and is answered `invalid`."""

    @staticmethod
    def dumps(obj: Any, **options: Any) -> str:
        try:
            return orjson.dumps(obj).decode()
        except TypeError:
            return engineio_json.dumps(obj, **options)

    @staticmethod
    def loads(text: str | bytes, **options: Any) -> Any:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return engineio_json.loads(text, **options)


def refuse_malformed_packets(server: socketio.Server) -> None:
    """A packet python-socketio cannot decode (bad JSON, absurd nesting, no event name) raises
    inside its message handler, which logs a traceback and answers nothing, so any client
    could flood the log. Such a client is not one of our widgets: disconnect it, with one
    warning line.

    Internal: ``Server._handle_eio_message(eio_sid, data)``, the handler python-socketio
    registers for Engine.IO's ``message`` event, which we register in its place, wrapped."""
    handle = server._handle_eio_message

    def guarded(eio_sid: str, data: Any) -> Any:
        try:
            return handle(eio_sid, data)
        except MALFORMED as exc:
            log.warning(
                "malformed Socket.IO packet (%s); disconnecting the client", type(exc).__name__
            )
            server.eio.disconnect(eio_sid)
            return None

    server.eio.on("message", guarded)


def start_queue_listener(server: socketio.Server | None) -> None:
    """Start the message queue's listener now, which python-socketio starts on the first
    connect: from the start, so /healthz can prove it hears.

    Internal: ``Server.manager_initialized``, the flag ``_handle_eio_connect`` checks before
    it calls ``manager.initialize()`` itself."""
    if server is not None and not server.manager_initialized:
        server.manager_initialized = True
        server.manager.initialize()


class LocalManager(FloorEmit):
    """The client manager of a process without a message queue (tests, tools): the floor's
    emit (socialads.realtime.floor) and nothing else."""


class QueueManager(socketio.RedisManager, FloorEmit):
    """Flask-SocketIO's Redis message queue, emitting to this process's clients by the floor's
    emit (socialads.realtime.floor), with a listener that tells its ``hearing`` about
    pings, reconnects on request and within a second of Redis coming back, and a publishing
    connection that gives up after a few seconds instead of hanging a handler.

    Internal: ``RedisManager._listen``, the generator ``PubSubManager._thread`` reads, which
    reads the generator ``_redis_listen_with_retries`` (messages as redis-py's pub/sub
    returns them), and the manager's ``redis_url`` and ``channel``: we replace the second
    and wrap the first."""

    def __init__(self, url: str, channel: str, hearing: Hearing):
        super().__init__(
            url,
            channel=channel,
            redis_options={
                "socket_timeout": 2,
                "socket_connect_timeout": 2,
                "health_check_interval": 30,
                **READER,
            },
        )
        self.hearing = hearing

    def _redis_listen_with_retries(self) -> Iterator[dict[str, Any]]:
        wait = RECONNECT_WAIT[0]
        while True:
            client = pubsub = None
            try:
                client = redis_client(
                    self.redis_url,
                    socket_timeout=5,
                    socket_connect_timeout=2,
                    socket_keepalive=True,
                )
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                wait = RECONNECT_WAIT[0]
                yield from self.hearing.messages(pubsub)
                log.info("message queue listener reconnecting")
            except Exception as exc:  # whatever broke, listen again
                log.warning("message queue listener: %s; reconnecting in %.1fs", exc, wait)
                time.sleep(wait)
                wait = min(wait * 2, RECONNECT_WAIT[1])
            finally:
                with contextlib.suppress(Exception):  # the connection is gone either way
                    if pubsub is not None:
                        pubsub.close()
                    if client is not None:
                        client.close()

    def _redis_connect(self) -> None:
        """The publishing client, on one Redis or a cluster (``socialads.store.clients``).

        Internal: ``RedisManager._redis_connect``, which sets ``redis``, ``pubsub`` and
        ``connected``; python-socketio's own knows no cluster."""
        self.redis = redis_client(self.redis_url, **self.redis_options)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    def _listen(self) -> Iterator[Any]:
        for data in super()._listen():
            if isinstance(data, bytes) and data.startswith(PING_PREFIX):
                with contextlib.suppress(orjson.JSONDecodeError):
                    self.hearing.heard(orjson.loads(data).get("n"))
                continue
            yield data
