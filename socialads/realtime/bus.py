"""This process's ears: the channels it listens on, each only while it serves what comes
through it, so what a process hears grows with its own viewers, not with the service.

A campaign's messages (new totals, rosters, blocks, closed sessions, and python-socketio's
emits to the campaign's rooms) go on the campaign's channel (``socialads.store.events``).
The `Bus` subscribes to it when this process gets its first room of the campaign (a viewer
joins a session, a brand's person opens its conversation) and drops it when the last one is
gone: the client manager tells it (``socialads.realtime.wire``), as the rooms come and go,
like ``@socket.io/redis-adapter``'s sharded adapter. The global channel (a campaign changed)
is always heard.

One Redis: one connection, classic SUBSCRIBE. A cluster: sharded pub/sub, each channel
SSUBSCRIBEd on the master of its slot, one `Reader` (a connection, a greenlet:
``socialads.realtime.bus_reader``) per master
that holds one; when a master dies or a slot moves (a failover), the reader's connection
fails, or Redis unsubscribes it, and the bus learns the cluster's shape again and moves
the channels to their new masters, by itself, within a second or two of the promotion.

A subscription is confirmed before a joining viewer reads its snapshot (`wait_heard`), so
nothing published after the snapshot is missed; a connection made again tells the service
it may have missed something on its channels (``on_gap``: the rosters and totals of their
campaigns are sent afresh, only theirs: one master's failover resends its campaigns). Each
reader also listens on a channel of its own for the liveness nonce
(``socialads.realtime.liveness``): a reader that stops hearing is found out and reconnects.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from socialads.metrics import Metrics
from socialads.realtime.bus_reader import Reader
from socialads.realtime.liveness import RECONNECT_WAIT, Hearing
from socialads.store import Store
from socialads.store.clients import is_cluster, redis_client
from socialads.store.events import our_event

log = logging.getLogger(__name__)

CONFIRM_WAIT = 2.0  # the longest a join waits for its campaign's subscription
SINGLE = "redis"  # the one reader's name on one Redis
PROBE_TRIES = 10_000  # channel names tried to find one in a master's slots
NODE_TIMEOUT = 2.0  # a cluster's node answers within this or is given up on (`Bus._client`)


class Bus:
    """The channels this process listens on, and the readers that hear them."""

    def __init__(self, store: Store, metrics: Metrics, host: str):
        self.store = store
        self.metrics = metrics
        self.host = host  # this process's id: its readers' own channels carry it
        self.sharded = is_cluster(store.url)
        self.subscribe_command = "ssubscribe" if self.sharded else "subscribe"
        self.unsubscribe_command = "sunsubscribe" if self.sharded else "unsubscribe"
        self.global_channel = store.keys.events
        self.lock = threading.RLock()
        self.held: dict[str, int] = {}  # campaign -> its rooms here (both namespaces)
        self.heard_on: dict[str, list[str]] = {}  # campaign -> the channels held for it
        self.wanted: set[str] = {self.global_channel}
        self.waits: dict[str, threading.Event] = {}  # channel -> set once subscribed
        self.readers: dict[str, Reader] = {}
        self.client: Any = None  # the listeners' client, made at `run`
        self.dirty = threading.Event()  # the cluster's shape changed: place the channels again
        self.closed = False
        self.heard_global = metrics.bus_by_channel.labels("global")
        self.heard_campaign = metrics.bus_by_channel.labels("campaign")
        self.heard_probe = metrics.bus_by_channel.labels("probe")  # liveness nonces
        # What the service does with what is heard (socialads.realtime.listener, .wire).
        self.on_event: Callable[[dict[str, Any]], None] = lambda event: None
        self.on_manager: Callable[[dict[str, Any]], None] = lambda message: None
        self.on_gap: Callable[[list[str]], None] = lambda cids: None
        self.spawn: Callable[[Callable[[], None]], Any] = lambda run: None

    # -- which channels -------------------------------------------------------------------

    def channel(self, cid: str | None) -> str:
        """Where a message about campaign ``cid`` goes (None: the global channel)."""
        return self.store.keys.bus(cid) if cid else self.global_channel

    def channels_of(self, cid: str) -> list[str]:
        """Campaign ``cid``'s channels: its own, and those of the parts its counts are kept in
        (``socialads.store.parts``; read from Redis the first time a process asks)."""
        return self.store.counter_parts(cid).channels

    def hold(self, cid: str, channels: list[str] | None = None) -> None:
        """This process has one more room of campaign ``cid``: hear its ``channels`` (as
        `channels_of` says; the client manager asks before it enters the room)."""
        channels = channels or self.channels_of(cid)
        with self.lock:
            rooms = self.held.get(cid, 0)
            self.held[cid] = rooms + 1
            if rooms:
                return
            self.heard_on[cid] = channels  # released as held, whatever is cached meanwhile
            for channel in channels:
                self.wanted.add(channel)
                self.waits[channel] = threading.Event()
                if self.client is not None:
                    self._place(channel)

    def release(self, cid: str) -> None:
        """One room fewer: the last one gone, stop hearing the campaign."""
        with self.lock:
            rooms = self.held.get(cid, 0) - 1
            if rooms > 0:
                self.held[cid] = rooms
                return
            self.held.pop(cid, None)
            for channel in self.heard_on.pop(cid, [self.channel(cid)]):
                self.wanted.discard(channel)
                self.waits.pop(channel, None)
                for reader in self.readers.values():
                    if channel in reader.channels:
                        reader.remove(channel)

    def wait_heard(self, cid: str) -> None:
        """Wait (briefly) until campaign ``cid``'s channels are subscribed: what a joining
        viewer reads next is then never older than what it will hear."""
        if self.client is None:
            return
        deadline = time.monotonic() + CONFIRM_WAIT
        for channel in self.heard_on.get(cid, [self.channel(cid)]):
            event = self.waits.get(channel)
            if event is not None:
                event.wait(max(0.0, deadline - time.monotonic()))

    def gap_on(self, channels: Iterable[str]) -> None:
        """``channels`` were not heard for a while (a reader connected again, or they moved
        to another master): their campaigns' viewers get fresh state (``on_gap``)."""
        missed = set(channels)
        with self.lock:
            cids = [cid for cid, heard in self.heard_on.items() if missed.intersection(heard)]
        if cids:
            self.on_gap(cids)

    def confirmed(self, channel: str) -> None:
        event = self.waits.get(channel)
        if event is not None:
            event.set()

    def unconfirm(self, channels: Iterable[str]) -> None:
        """Not subscribed now (connection gone, channel moved): a join waits for the next."""
        for channel in channels:
            if (event := self.waits.get(channel)) is not None:
                event.clear()

    # -- hearing --------------------------------------------------------------------------

    def deliver(self, reader: Reader, channel: bytes, data: bytes) -> None:
        """A message heard: a reader's liveness nonce (counted as "probe"), one of our events,
        or one of python-socketio's; anything else is ignored (never a reason to stop listening)."""
        self.metrics.bus_received.inc()
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            message = None
        manager = isinstance(message, dict) and "method" in message and "k" not in message
        event = None if manager else our_event(message)
        if event is not None and event["k"] == "ping":
            self.heard_probe.inc()
            reader.hearing.heard(event["n"])
            return
        (self.heard_campaign if channel.endswith(b":bus") else self.heard_global).inc()
        if manager:
            self.on_manager(message)
        elif event is not None:
            self.on_event(event)

    def probes(self) -> list[tuple[Hearing, str]]:
        """Each reader's hearing and the channel to send it a nonce on."""
        with self.lock:
            return [(reader.hearing, reader.probe) for reader in self.readers.values()]

    # -- the readers ----------------------------------------------------------------------

    def run(self) -> None:
        """Start listening (once, from ``Realtime.start``), then keep every wanted channel
        on the master that holds it."""
        with self.lock:
            if self.client is None:
                self.client = self._client()
                for channel in self.wanted:
                    self._place(channel)
        while not self.closed:
            self.dirty.wait(1.0)
            if self.dirty.is_set() and not self.closed:
                self.dirty.clear()  # before: a reshape during the reconcile is not lost
                try:
                    self._reconcile()
                except Exception as exc:  # the cluster is still failing over: again soon
                    log.warning("listeners: the cluster's shape is not known yet (%s)", exc)
                    self.dirty.set()
                    time.sleep(RECONNECT_WAIT[1])

    def close(self) -> None:
        """Stop listening (a process that ends, a test)."""
        with self.lock:
            self.closed = True
            for reader in self.readers.values():
                reader.stop()
            self.readers.clear()
        self.dirty.set()

    def reshape(self) -> None:
        """A reader lost its connection or a channel: on a cluster, place them again."""
        if self.sharded:
            self.dirty.set()

    def _client(self) -> Any:
        """The readers' client; on a cluster it finds the masters too (`_reconcile`). A frozen
        node (SIGSTOP) must hold up neither, so each node's connections connect, answer and
        send within ``NODE_TIMEOUT`` (a timeout is retried; messages are still polled for).
        One Redis keeps the store's listener connection: nothing can take over from it."""
        if not self.sharded:
            return self.store.listener_connection()
        wait = NODE_TIMEOUT
        return redis_client(self.store.url, socket_timeout=wait, socket_connect_timeout=wait)

    def pubsub(self, node: Any) -> Any:
        """A pub/sub connection to ``node`` (the one Redis when None)."""
        if node is None:
            return self.client.pubsub()
        return self.client.get_redis_connection(node).pubsub()

    def _owner(self, channel: str) -> tuple[str, Any]:
        if not self.sharded:
            return SINGLE, None
        node = self.client.get_node_from_key(channel)
        return node.name, node

    def _reader(self, name: str, node: Any) -> Reader:
        reader = self.readers.get(name)
        if reader is None:
            probe = self.global_channel if node is None else self._probe_on(name)
            reader = self.readers[name] = Reader(self, name, node, probe)
            self.spawn(reader.run)
        return reader

    def _probe_on(self, name: str) -> str:
        """A channel of this process's own in a slot of master ``name``."""
        for n in range(PROBE_TRIES):
            channel = self.store.keys.probe(self.host, n)
            if self.client.get_node_from_key(channel).name == name:
                return channel
        raise RuntimeError(f"no channel found in the slots of {name}")

    def _place(self, channel: str) -> None:
        """Subscribe to ``channel`` on its master's reader (under the lock)."""
        try:
            name, node = self._owner(channel)
        except Exception as exc:  # a slot with no master now: a failover
            log.warning("listeners: %s has no master now (%s)", channel, exc)
            self.dirty.set()
            return
        self._reader(name, node).add(channel)

    def _reconcile(self) -> None:
        """Learn the cluster's shape again; move each wanted channel to the reader of the
        master that holds it now; stop the readers left with none. The old reader is not
        told (its master is gone, or no longer serves the slot); the new one's viewers get
        fresh state (``on_gap``): what was published in between never reached us. A node
        that does not answer in time is skipped; none answering raises (`run` retries).

        ``initialize`` keeps the pools of the nodes it asks: it would otherwise mark every
        connection of one for reconnect, the readers' included, which redis-py would then
        resubscribe in one SSUBSCRIBE of several slots (refused)."""
        self.client.nodes_manager.initialize(disconnect_startup_nodes_pools=False)
        moved: set[str] = set()
        with self.lock:
            placed = {ch: r for r in self.readers.values() for ch in r.channels}
            for channel in self.wanted:
                name, node = self._owner(channel)
                reader = placed.get(channel)
                if reader is not None and reader.name == name:
                    continue
                if reader is not None:
                    reader.forget(channel)
                self._reader(name, node).add(channel)
                moved.add(channel)
            for name, reader in list(self.readers.items()):
                if not reader.channels:
                    reader.stop()
                    del self.readers[name]
        self.gap_on(moved)
