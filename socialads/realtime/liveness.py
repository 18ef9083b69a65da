"""Does this process still hear the others? The round trip behind ``/healthz``.

Pub/sub carries everything between processes (``socialads.realtime.bus``): one connection on
one Redis, one per master holding a channel we hear on a cluster. A process whose listener
died, sits in a long reconnect backoff or waits on a connection that silently went dead keeps
answering pings while hearing nothing: a "deaf worker". So a check is a round trip: publish a
nonce to each of *this process's own* listeners (on a channel each listens on) and wait for
each to hear it. ``/healthz`` runs one (503 with a reason when a listener does not hear), and
so does a watchdog every ``QUEUE_CHECK_INTERVAL`` seconds; a listener that two checks in a
row found subscribed yet hearing nothing at all reconnects, so a deaf worker heals within two
intervals plus ``HEALTH_TIMEOUT`` and a second, sooner when a load balancer polls
``/healthz``.

The listeners poll (``get_message`` with a one-second timeout) rather than block forever, so
a reconnect request is honoured within a second, and reconnect at most a second after Redis
returns.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from redis.exceptions import RedisError

from socialads.store import Store

log = logging.getLogger(__name__)

POLL = 1.0  # seconds a listener waits for a message before looking at reconnect requests
RECONNECT_WAIT = (0.2, 1.0)  # a listener's first and longest wait between reconnect attempts
RECENT = 1.0  # a round trip that succeeded this recently answers /healthz without a new one


def ping_message(nonce: str) -> bytes:
    """What a check publishes to a listener."""
    return orjson.dumps({"k": "ping", "n": nonce})


class Hearing:
    """One listener's side of the check: the nonces it waits to hear, a reconnect request,
    and when it last heard anything (the listener keeps ``since`` and ``last_message``)."""

    def __init__(self, name: str):
        self.name = name
        self.generation = 0  # bumped to make the listener reconnect
        self.since: float | None = None  # when its current subscription began, if it has one
        self.last_message = 0.0  # when it last heard anything at all
        self.misses = 0  # checks in a row it stood through, subscribed, hearing nothing at all
        self.waiting: dict[str, threading.Event] = {}

    def expect(self, nonce: str) -> threading.Event:
        event = self.waiting[nonce] = threading.Event()
        return event

    def forget(self, nonce: str) -> None:
        self.waiting.pop(nonce, None)

    def heard(self, nonce: Any) -> None:
        event = self.waiting.get(nonce) if isinstance(nonce, str) else None
        if event is not None:
            event.set()

    def reconnect(self) -> None:
        self.generation += 1


class Liveness:
    """Round trips through this process's listeners, for ``/healthz`` and the watchdog."""

    def __init__(
        self,
        store: Store,
        probes: Callable[[], list[tuple[Hearing, str]]],
        timeout: float,
        interval: float,
    ):
        self.store = store
        self.probes = probes  # each listener's hearing and its channel (Bus.probes)
        self.timeout = timeout
        self.interval = interval
        self.listening = False  # set once the listeners run (Realtime.start)
        self.last_heard = 0.0

    def check(self, fresh: bool = False) -> list[str]:
        """The listeners that did not hear this process's own nonce within ``timeout``.

        A listener that was subscribed all along and heard nothing at all during two checks
        in a row is told to reconnect: one between connections is reconnecting already, and
        one that hears other messages is slow (an overloaded process), not deaf, and would
        only lose what it has not read yet. Raises RedisError when Redis does not answer."""
        if not self.listening or (not fresh and time.monotonic() - self.last_heard < RECENT):
            return []
        probes = self.probes()
        if not probes:
            return ["the listener"]  # none yet: starting, or the cluster is failing over
        nonce = secrets.token_hex(8)
        sent = time.monotonic()
        waits = [(hearing, hearing.expect(nonce)) for hearing, _ in probes]
        try:
            self.store.publish_ping([channel for _, channel in probes], ping_message(nonce))
            deadline = time.monotonic() + self.timeout
            for _, event in waits:
                event.wait(max(0.0, deadline - time.monotonic()))
        finally:
            for hearing, _ in waits:
                hearing.forget(nonce)
        deaf = [hearing.name for hearing, event in waits if not event.is_set()]
        for hearing, _ in probes:
            name = hearing.name
            since = hearing.since
            silent = since is not None and since < sent and hearing.last_message < sent
            hearing.misses = hearing.misses + 1 if name in deaf and silent else 0
            if hearing.misses:
                log.warning(
                    "%s not heard within %ss%s",
                    name,
                    self.timeout,
                    ": its listener reconnects" if hearing.misses >= 2 else "",
                )
            if hearing.misses >= 2:
                hearing.misses = 0
                hearing.reconnect()
        if not deaf:
            self.last_heard = time.monotonic()
        return deaf

    def wait_until_heard(self, timeout: float) -> bool:
        """At start: wait until a round trip succeeds (a process is ready once it hears)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if not self.check(fresh=True):
                    return True
            except RedisError:
                pass
            time.sleep(0.05)
        return False

    def watch(self) -> None:
        """The watchdog: a round trip every ``interval`` seconds, healing a deaf listener."""
        while True:
            time.sleep(self.interval)
            try:
                self.check(fresh=True)
            except RedisError:
                pass  # Redis is down: the listeners reconnect by themselves when it is back
