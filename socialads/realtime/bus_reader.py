"""One pub/sub connection of the bus (``socialads.realtime.bus``): to the one Redis, or to
one master of a cluster, with the channels it holds there. It subscribes from the caller's
greenlet, reads in its own, reconnects by itself, and tells the bus what it heard, what was
confirmed and what Redis took away (a slot that moved)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any, Protocol

from socialads.realtime.liveness import POLL, RECONNECT_WAIT, Hearing

log = logging.getLogger(__name__)

DATA = frozenset({"message", "smessage"})
CONFIRMED = frozenset({"subscribe", "ssubscribe"})


class Ears(Protocol):
    """What a reader asks of its bus (`socialads.realtime.bus.Bus`)."""

    lock: threading.RLock
    subscribe_command: str
    unsubscribe_command: str

    def pubsub(self, node: Any) -> Any: ...
    def deliver(self, reader: Reader, channel: bytes, data: bytes) -> None: ...
    def confirmed(self, channel: str) -> None: ...
    def unconfirm(self, channels: Iterable[str]) -> None: ...
    def gap_on(self, channels: Iterable[str]) -> None: ...
    def reshape(self) -> None: ...


def _text(channel: Any) -> str:
    return channel.decode() if isinstance(channel, bytes) else str(channel)


class Reader:
    """One pub/sub connection (to the one Redis, or to one master) and its channels."""

    def __init__(self, bus: Ears, name: str, node: Any, probe: str):
        self.bus = bus
        self.name = name
        self.node = node  # the cluster's ClusterNode (None on one Redis)
        self.probe = probe  # the channel its liveness nonce comes on
        self.channels: set[str] = set()
        self.dropping: set[str] = set()  # unsubscribed by us: their confirmation is no move
        self.hearing = Hearing("bus" if node is None else f"bus on {name}")
        self.pubsub: Any = None
        self.stopped = False

    def add(self, channel: str) -> None:
        """Hear ``channel`` (under the bus's lock, as every change of ``channels``)."""
        self.channels.add(channel)
        self._send(self.bus.subscribe_command, channel)

    def remove(self, channel: str) -> None:
        self.channels.discard(channel)
        self.dropping.add(channel)
        self._send(self.bus.unsubscribe_command, channel)

    def forget(self, channel: str) -> None:
        """Stop counting ``channel`` as ours without a word to Redis (its master is gone)."""
        self.channels.discard(channel)
        self.bus.unconfirm([channel])

    def stop(self) -> None:
        self.stopped = True
        self.hearing.reconnect()

    def _send(self, command: str, channel: str) -> None:
        """Subscribe or unsubscribe now, from the caller's greenlet (the reader reads the
        confirmation); while it connects, ``run`` subscribes to what ``channels`` holds
        once it has connected (``pubsub`` is set only then: a command sent while redis-py
        connects would open a second connection)."""
        pubsub = self.pubsub
        if pubsub is None:
            return
        try:
            getattr(pubsub, command)(channel)
        except Exception as exc:  # the connection broke: the read loop reconnects
            log.warning("%s: %s %s failed (%s)", self.hearing.name, command, channel, exc)
            self.hearing.reconnect()

    def run(self) -> None:
        """Read until stopped; reconnect after any error, within a second of Redis coming
        back (python-socketio's own listener backs off up to a minute, deaf all that time)."""
        wait = RECONNECT_WAIT[0]
        while not self.stopped:
            pubsub = None
            try:
                pubsub = self.bus.pubsub(self.node)
                subscribe = getattr(pubsub, self.bus.subscribe_command)
                first = set(self.channels)
                for channel in [self.probe, *first]:
                    subscribe(channel)  # one at a time: a cluster's are of several slots
                with self.bus.lock:  # what changed meanwhile, then changes go straight out
                    for channel in self.channels - first:
                        subscribe(channel)
                    for channel in first - self.channels:
                        getattr(pubsub, self.bus.unsubscribe_command)(channel)
                    self.dropping.clear()
                    self.pubsub = pubsub
                wait = RECONNECT_WAIT[0]
                self._read(pubsub)
            except Exception as exc:  # whatever broke, listen again
                self.pubsub = None  # nothing more is sent to this connection
                if self.stopped:
                    break
                log.warning("%s: %s; reconnecting in %.1fs", self.hearing.name, exc, wait)
                self.bus.reshape()
                time.sleep(wait)
                wait = min(wait * 2, RECONNECT_WAIT[1])
            finally:
                self.pubsub = None
                with self.bus.lock:  # subscribed no more: a join waits for the new connection
                    self.bus.unconfirm(self.channels)
                with contextlib.suppress(Exception):  # the connection is gone either way
                    if pubsub is not None:
                        pubsub.close()

    def _read(self, pubsub: Any) -> None:
        """The messages of this connection until a reconnect is asked for (liveness), or
        it is stopped; connection errors propagate."""
        hearing = self.hearing
        generation = hearing.generation
        hearing.since = time.monotonic()
        gap = True  # the first confirmation after connecting: we may have missed something
        bus = self.bus
        try:
            while generation == hearing.generation and not self.stopped:
                message = pubsub.get_message(timeout=POLL)
                if message is None:
                    continue
                hearing.last_message = time.monotonic()
                kind = message["type"]
                if kind in DATA:
                    bus.deliver(self, message["channel"], message["data"])
                elif kind in CONFIRMED:
                    if gap:
                        gap = False
                        with bus.lock:  # `channels` changes under the bus's lock
                            channels = set(self.channels)
                        bus.gap_on(channels)
                    bus.confirmed(_text(message["channel"]))
                elif kind == "sunsubscribe":
                    self._unsubscribed(_text(message["channel"]))
        finally:
            hearing.since = None

    def _unsubscribed(self, channel: str) -> None:
        """Redis took a channel from us (its slot moved to another master) unless we asked."""
        if channel in self.dropping:
            self.dropping.discard(channel)
            return
        if channel == self.probe:
            log.warning("%s: its own channel moved; reconnecting", self.hearing.name)
            self.hearing.reconnect()
            self.bus.reshape()
        elif channel in self.channels:
            log.info("%s: %s moved; following it", self.hearing.name, channel)
            self.forget(channel)
            self.bus.reshape()
