"""This process's real-time service: its parts, wired once per app, and the background
loops that run for the life of the process.

The parts, and who holds what: `Connections` (who is connected here), `Guard` (may this
go?), `Progress` (the coalescer), `Presence` (members and the heartbeat), `Viewers` (what the
events do), `Listener` (what is heard from the others) and the `Bus` it is heard on. The app
keeps one `Realtime` in ``app.extensions["socialads.realtime"]``; the namespace's handlers
find it there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask
from redis.exceptions import RedisError

from socialads.domain.campaigns import Campaigns
from socialads.metrics import Metrics
from socialads.realtime.bus import Bus
from socialads.realtime.connections import Connections
from socialads.realtime.guards import Guard
from socialads.realtime.limits import SharedLimits
from socialads.realtime.listener import Listener
from socialads.realtime.liveness import Liveness
from socialads.realtime.presence import Presence
from socialads.realtime.progress import Progress
from socialads.realtime.rooms import socketio
from socialads.realtime.viewers import Viewers
from socialads.realtime.wire import start_queue_listener
from socialads.store import Store

log = logging.getLogger(__name__)

EXTENSION = "socialads.realtime"  # its key in app.extensions


class Realtime:
    """This process's side of the real-time service."""

    def __init__(
        self,
        app: Flask,
        store: Store,
        campaigns: Campaigns,
        bus: Bus,
        liveness: Liveness,
        metrics: Metrics | None = None,
    ):
        self.app = app  # for the background loops' app context
        config = app.config
        self.bus = bus
        self.liveness = liveness
        self.metrics = metrics = metrics or Metrics()
        self.connections = Connections()
        self.guard = Guard(config, store, campaigns, self.connections, SharedLimits(store, config))
        self.progress = Progress(config, store, campaigns, self.connections, metrics)
        self.presence = Presence(config, store, self.connections, self.guard, self.progress)
        self.viewers = Viewers(
            config, store, campaigns, self.connections, self.guard, self.presence, self.progress
        )
        self.listener = Listener(campaigns, self.progress, self.presence, self.viewers)
        bus.on_event = self.listener.heard
        bus.on_gap = self.listener.gap
        bus.spawn = self._spawn
        self._lock = threading.Lock()
        self._started = False

    def start(self) -> None:
        """Start the listeners and loops, once (at the first connect, or as `serve` starts)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        start_queue_listener(socketio.server)
        self.liveness.listening = True
        for loop in (
            self.bus.run,
            self.progress.coalesce,
            self.presence.coalesce,
            self.presence.heartbeat,
            self.liveness.watch,
        ):
            socketio.start_background_task(self._forever, loop)

    def _spawn(self, run: Callable[[], None]) -> None:
        """Start a listener of the bus (it runs until the bus stops it)."""

        def in_app() -> None:
            with self.app.app_context():
                run()

        socketio.start_background_task(in_app)

    def _forever(self, loop: Callable[[], None]) -> None:
        """Run a background loop for the life of the process, restarting it after errors."""
        while True:
            try:
                with self.app.app_context():
                    loop()
            except RedisError as exc:  # expected while Redis restarts: no traceback
                log.warning("%s: Redis unavailable (%s); retrying", loop.__name__, exc)
            except Exception:
                log.exception("background loop %s failed; restarting", loop.__name__)
            time.sleep(1)
