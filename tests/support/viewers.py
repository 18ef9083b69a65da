"""People in a widget, over real sockets: ``Viewer`` is one person's Socket.IO client with
helper actions (``join``, ``act``, ``say``) and a record of every event it heard;
``websocket_open_packet`` is a bare WebSocket handshake, for the origin checks."""

from __future__ import annotations

import threading
import time
import uuid

import socketio
import websocket


class Viewer:
    """A person in a widget, through a real Socket.IO client."""

    def __init__(
        self,
        url: str,
        viewer: str | None = None,
        name: str | None = None,
        headers: dict | None = None,
    ):
        self.url = url
        self.viewer = viewer or "v-" + uuid.uuid4().hex
        self.name = name
        self.events: list[tuple[str, object]] = []
        self.changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._record)
        self.sio.connect(url, headers=headers or {}, transports=["websocket"], wait_timeout=10)
        self.session = None
        self.joined = None

    def _record(self, event, data=None):
        with self.changed:
            self.events.append((event, data))
            self.changed.notify_all()

    def call(self, event: str, payload=None, timeout: float = 5):
        return self.sio.call(event, payload, timeout=timeout)

    def join(self, campaign: str, session: str | None = None, **extra) -> dict:
        payload = {"campaign": campaign, "viewer": self.viewer, **extra}
        if session:
            payload["session"] = session
        if self.name:
            payload.setdefault("name", self.name)
        ack = self.call("join", payload)
        if ack.get("ok"):
            self.session, self.joined = ack["session"], ack
        return ack

    def act(self, action_id: str | None = None, **extra) -> dict:
        return self.call("act", {"id": action_id or uuid.uuid4().hex, **extra})

    def say(self, text: str, message_id: str | None = None) -> dict:
        return self.call("say", {"id": message_id or uuid.uuid4().hex, "text": text})

    def mark(self) -> int:
        """A point in the event history: ``wait_for(..., after=mark)`` ignores older ones."""
        with self.changed:
            return len(self.events)

    def wait_for(self, event: str, predicate=lambda data: True, timeout: float = 5, after: int = 0):
        """The first `event` (recorded since ``after`` or arriving) satisfying predicate."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for name, data in self.events[after:]:
                    if name == event and predicate(data):
                        return data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [e for e in self.events if e[0] == event][-3:]
                    raise AssertionError(f"no matching {event!r} within {timeout}s; last: {seen}")
                self.changed.wait(remaining)

    def latest(self, event: str):
        with self.changed:
            matching = [data for name, data in self.events if name == event]
        return matching[-1] if matching else None

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def websocket_open_packet(base_url: str, origin: str, **options) -> str | None:
    """The Engine.IO open packet ("0{sid...}") a WebSocket handshake from ``origin`` to the
    server at ``base_url`` (http or https) gets, or None: the server refuses a foreign origin
    by closing the socket without one (gevent-websocket completes the upgrade before
    Engine.IO sees the request). ``options`` go to websocket-client (e.g. ``sslopt``)."""
    url = base_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    raw = websocket.create_connection(url, origin=origin, timeout=10, **options)
    try:
        return raw.recv() or None
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        return None
    finally:
        raw.close()
        raw.shutdown()  # close() leaves the socket open once the server has closed it
