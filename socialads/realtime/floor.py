"""The delivery path at the floor: one frame per payload, written to every local recipient
from the sending greenlet, with no task per client.

python-engineio, as shipped, gives every WebSocket connection a second greenlet that reads
a queue and calls ``ws.send(packet.encode())`` once per packet: a broadcast to a thousand
viewers is a thousand queue puts, greenlet switches, encodes, frames and ``sendall`` calls.
The fastest servers (uWebSockets' ``publish``, ``websockets.broadcast()``) frame a message
once and write the same bytes to every socket. So do we, under gevent:

- `FloorEmit` (``socialads.realtime.frames``: the client manager's emit, for emits without
  a callback) builds a `Frame` once per payload and hands it to every recipient;
- `FloorSocket` (the Engine.IO socket of a WebSocket connection) writes it at once with a
  non-blocking write. A socket that cannot take it now holds it: ordered frames (acks,
  ``message``, ``presence``) in order, ``progress`` only the *latest* (progress is state,
  not a log), and one greenlet, only while it holds something, writes all it holds in one
  write when the socket can take more. A socket that takes nothing for ``ping_timeout``, or
  holds more than `MAX_HELD` bytes, is closed: its widget reconnects and joins again,
  which brings it the whole state. One slow reader never holds up the others.
- pings come from one `Pinger` per process, not one sleeping greenlet per connection.

Long-polling (the fallback of a client that cannot open a WebSocket) keeps the library's
queue. Under the threading mode (tests, tools) nothing here is installed but the manager,
which then sends as the library does.

Internals relied on (each checked by tests/unit/test_wire_internals.py):
``engineio.socket.Socket._websocket_handler`` (replaced: the same upgrade handshake and
reader loop, without the writer task), ``Socket.schedule_ping``, the connect handler
python-socketio registers on Engine.IO (wrapped, to give a new socket our class),
``Server.sockets``, and gevent-websocket's ``WebSocket.handler.socket`` and ``raw_write``.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import time
from typing import Any

import gevent
import socketio
from engineio import exceptions
from engineio import packet as eio_packet
from engineio.socket import Socket
from gevent.socket import wait_write

from socialads.metrics import Metrics
from socialads.realtime.frames import FloorEmit, Frame, frame_bytes

log = logging.getLogger(__name__)

MAX_HELD = 512 * 1024  # bytes of ordered frames a socket may hold before it is closed
READ_BUFFER = 1024  # bytes a WebSocket's reader buffers (the events a viewer sends are small)


class FloorSocket(Socket):
    """An Engine.IO socket whose WebSocket frames are written by whoever sends them.
    Sockets are given this class as they connect (`install`); ``metrics`` and ``pinger``
    are set on a per-server subclass."""

    metrics: Metrics
    pinger: Pinger
    last_ping: float | None
    connected, closing, closed = False, False, False  # the library's (typed here)

    # Before the WebSocket is up (the Engine.IO open packet, a polling phase) the library's
    # queue is used; these take effect once `_go_direct` ran.
    direct = False
    _dead = False
    _holding = False

    def _go_direct(self, ws: Any, fresh: bool) -> None:
        raw = ws._sock  # gevent-websocket's WebSocket
        self._raw = raw
        self._gsock = raw.handler.socket
        if fresh:  # nothing read past the handshake yet: a small read buffer will do
            small_reader(raw)
        self._fd = self._gsock.fileno()
        self._own_write = raw.raw_write
        # gevent-websocket's own frames (a pong, a close) go in line with ours.
        raw.raw_write = self._write_own
        self._held: collections.deque[tuple[bytes, str | None]] = collections.deque()
        self._held_bytes = 0
        self._latest: tuple[bytes, str] | None = None
        self._flusher: gevent.Greenlet | None = None
        self.direct = True
        queue_empty = self.server.get_queue_empty_exception()
        while True:  # what was queued before: the open packet, the upgrade's noop
            try:
                pkt = self.queue.get(block=False)
            except queue_empty:
                break
            self.queue.task_done()
            if pkt is not None:
                self._write(frame_bytes(pkt), None)

    def send(self, pkt: eio_packet.Packet) -> None:
        """A packet for this client alone (an ack, a ping, the connect reply)."""
        if not self.direct:
            return super().send(pkt)
        if self.check_ping_timeout():
            self._write(frame_bytes(pkt), None)

    def deliver(self, frame: Frame, wire: bytes) -> int:
        """A broadcast frame (``wire``, its bytes), shared with the other recipients: 1 when
        written now."""
        if frame.latest_only and (self._held or self._latest is not None):
            if self._latest is not None:
                self.metrics.progress_replaced.inc()
            self._latest = (wire, frame.event)
            return 0
        return self._write(wire, frame.event)

    def _write_own(self, data: bytes) -> None:
        self._write(bytes(data), None)

    def _write(self, data: bytes, event: str | None) -> int:
        """Write or hold ``data``: 1 when ``event``'s frame went out now (`deliver`'s caller
        counts it), else 0 (a held frame is counted when the flush writes it)."""
        if self._dead:
            return 0
        if self._held or self._latest is not None:
            self._hold(data, event)
            return 0
        written = self._send_now(data)
        if written < 0:
            return 0
        if written < len(data):  # the rest of a frame goes before anything else
            self._hold(data[written:], None)
        if event is None:
            self.metrics.writes.inc()
        return 0 if event is None else 1

    def _send_now(self, data: bytes) -> int:
        """Write what the kernel takes now: bytes written, or -1 when the socket is gone."""
        if self._gsock.fileno() != self._fd:  # closed: the number may be another's now
            self._dead = True
            return -1
        try:
            written = os.write(self._fd, data)
        except BlockingIOError:
            written = 0
        except OSError:  # reset, broken pipe: the reader ends this connection
            self._dead = True
            return -1
        return written  # counted (socialads_socket_writes_total) by the caller

    def _hold(self, data: bytes, event: str | None) -> None:
        if not self._holding:
            self._holding = True
            self.metrics.held_back.inc()
        self._held.append((data, event))
        self._held_bytes += len(data)
        if self._held_bytes > MAX_HELD:
            self._give_up("holds too much")
        elif self._flusher is None:
            self._flusher = gevent.spawn(self._flush)

    def _flush(self) -> None:
        """Write what is held, all in one write, each time the socket can take more."""
        try:
            while not self._dead and (self._held or self._latest is not None):
                try:
                    wait_write(self._fd, timeout=self.server.ping_timeout)
                except TimeoutError:  # gevent's timeout is socket.timeout, a TimeoutError
                    self._give_up("took nothing")
                    return
                except OSError:  # the descriptor went away meanwhile
                    self._dead = True
                    return
                parts = list(self._held)
                if self._latest is not None:
                    parts.append(self._latest)
                self._held.clear()
                self._held_bytes = 0
                self._latest = None
                data = b"".join(part for part, _ in parts)
                written = self._send_now(data)
                if written < 0:
                    return
                self.metrics.writes.inc()
                if len(parts) > 1:
                    self.metrics.frames_merged.inc(len(parts) - 1)
                for _, event in parts:
                    if event is not None:
                        self.metrics.sent(event)
                if written < len(data):
                    self._held.append((data[written:], None))
                    self._held_bytes = len(data) - written
        finally:  # all written, or the connection is over: holding nothing either way
            self._flusher = None
            if self._holding:
                self._holding = False
                self.metrics.held_back.dec()

    def _give_up(self, why: str) -> None:
        """Close a connection that cannot keep up: its reader wakes and ends it."""
        if self._dead:
            return
        log.info("%s: closing a slow socket (%s)", self.sid, why)
        self.metrics.slow_closed.inc()
        self._dead = True
        self._held.clear()
        self._latest = None
        with contextlib.suppress(OSError):
            self._gsock.shutdown(2)  # SHUT_RDWR

    def _end(self) -> None:
        """The connection is over: nothing more is written by us."""
        if not self.direct or self._dead:
            return
        self._dead = True
        if self._flusher is not None:
            self._flusher.kill(block=False)
        if self._raw.raw_write == self._write_own:  # not after its close() cleared it
            self._raw.raw_write = self._own_write

    # -- the connection's life ------------------------------------------------------------

    def schedule_ping(self) -> None:
        # As the library's: a new ping only once the last was answered; sent by the Pinger.
        if self.last_ping:
            self.last_ping = None
            self.pinger.due(self)

    def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        if not self.direct:
            return super().close(wait=wait, abort=abort, reason=reason)
        if self.closed or self.closing:
            return
        self.closing = True
        self.server._trigger_event(
            "disconnect", self.sid, reason or self.server.reason.SERVER_DISCONNECT, run_async=False
        )
        if not abort:
            self.send(eio_packet.Packet(eio_packet.CLOSE))
        self.closed = True
        if not self._dead:
            if self._held or self._latest is not None:
                self._give_up("closed while holding frames")
            else:
                with contextlib.suppress(Exception):  # a dead socket: the reader ends it
                    self._raw.close()  # the WebSocket close frame; the client hangs up
                self._end()

    def _websocket_handler(self, ws: Any) -> list[Any]:
        """The library's handler (the upgrade handshake, then the reader loop), without the
        writer task: writes go out from whoever sends."""

        def websocket_wait() -> Any:
            data = ws.wait()
            if data and len(data) > self.server.max_http_buffer_size:
                raise ValueError("packet is too large")
            return data

        for attr in ["_sock", "socket"]:
            if hasattr(ws, attr) and hasattr(getattr(ws, attr), "settimeout"):
                getattr(ws, attr).settimeout(self.server.ping_interval + self.server.ping_timeout)

        fresh = not self.connected
        if self.connected:  # an upgrade from long-polling
            self.upgrading = True
            decoded = eio_packet.Packet(encoded_packet=websocket_wait())
            if decoded.packet_type != eio_packet.PING or decoded.data != "probe":
                self.upgrading = False
                return []
            ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
            self.queue.put(eio_packet.Packet(eio_packet.NOOP))  # ends the pending poll
            decoded = eio_packet.Packet(encoded_packet=websocket_wait())
            if decoded.packet_type != eio_packet.UPGRADE:
                self.upgraded = False
                self.upgrading = False
                return []
            self.upgraded = True
            self.upgrading = False
        else:
            self.connected = True
            self.upgraded = True

        self._go_direct(ws, fresh)
        try:
            while True:
                try:
                    data = websocket_wait()
                except Exception as exc:
                    if not self.closed:
                        self.server.logger.info(
                            '%s: Unexpected error "%s", closing connection', self.sid, exc
                        )
                    break
                if data is None:  # the client hung up
                    break
                try:
                    self.receive(eio_packet.Packet(encoded_packet=data))
                except exceptions.UnknownPacketError:
                    continue
                except exceptions.SocketIsClosedError:
                    break
                except Exception:
                    self.server.logger.exception("Unknown receive error")
                    break
        finally:
            self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
            self._end()
        return []


def small_reader(raw: Any) -> None:
    """Read the frames of gevent-websocket's WebSocket ``raw`` through a `READ_BUFFER`
    buffer, not the 8 KB one gevent's server made for the HTTP request: a viewer sends a few
    small frames a minute, and 8 KB each is a tenth of what an idle connection costs. Only
    for a socket that was WebSocket from the start, before its client was sent the open
    packet: until then it sends nothing, so the old buffer holds nothing."""
    handler = raw.handler
    old, handler.rfile = handler.rfile, handler.socket.makefile("rb", READ_BUFFER)
    raw.stream.read = raw.raw_read = handler.rfile.read  # the header's reader, the payload's
    old.close()  # frees its buffer (the socket stays open: makefile counts its users)


class Pinger:
    """The Engine.IO pings of every socket of one process, sent by one greenlet: a socket
    that answered its last ping gets its next one ``ping_interval`` later."""

    def __init__(self, interval: float):
        self.interval = interval
        self.queue: collections.deque[tuple[float, FloorSocket]] = collections.deque()
        self.task: gevent.Greenlet | None = None

    def due(self, sock: FloorSocket) -> None:
        # Every wait is the same interval, so the queue stays in the order of due times.
        self.queue.append((time.monotonic() + self.interval, sock))
        if self.task is None:
            self.task = gevent.spawn(self._run)

    def _run(self) -> None:
        while self.queue:
            when, sock = self.queue[0]
            wait = when - time.monotonic()
            if wait > 0:
                gevent.sleep(wait)
                continue
            self.queue.popleft()
            if not sock.closing and not sock.closed:
                sock.last_ping = time.time()
                try:
                    sock.send(eio_packet.Packet(eio_packet.PING))
                except Exception:
                    log.exception("%s: ping failed", sock.sid)
        self.task = None


def install(server: socketio.Server, metrics: Metrics) -> None:
    """Give ``server``'s new WebSocket connections a `FloorSocket` (under gevent), and its
    manager the metrics."""
    manager = server.manager
    if isinstance(manager, FloorEmit):
        manager.metrics = metrics
    eio = server.eio
    if eio.async_mode != "gevent":
        return
    floor = type(
        "FloorSocket",
        (FloorSocket,),
        {"metrics": metrics, "pinger": Pinger(eio.ping_interval), "__module__": __name__},
    )
    handle_connect = eio.handlers["connect"]

    def connect(eio_sid: str, environ: Any, *args: Any) -> Any:
        sock = eio.sockets.get(eio_sid)
        if sock is not None and type(sock) is Socket:
            sock.__class__ = floor
        return handle_connect(eio_sid, environ, *args)

    eio.on("connect", connect)
