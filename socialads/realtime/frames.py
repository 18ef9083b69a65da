"""One frame per payload: what a broadcast to this process's clients is built into, once.

`FloorEmit` is the client manager's emit for emits without a callback: one Socket.IO packet,
one Engine.IO packet and (on first use) one WebSocket `Frame`, however many recipients, each
handed to its socket (``socialads.realtime.floor`` writes it) and counted
(``socialads_updates_sent_total``). It sits after python-socketio's pub/sub manager in the
method order (``QueueManager(BusRooms, PubSubManager, FloorEmit)``), so publishing to the
other processes is the library's own (on our bus). A socket still long-polling gets the
shared Engine.IO packet through the library's queue.

Internals relied on (tests/unit/test_wire_internals.py): ``socketio.Manager.emit``'s
arguments and ``get_participants``, ``Server._send_eio_packet``, ``eio.sockets``, and
gevent-websocket's ``Header.encode_header``; `event_text` is the Socket.IO packet encoding of
an event on the default namespace.
"""

from __future__ import annotations

from typing import Any

import socketio
from engineio import packet as eio_packet
from geventwebsocket.websocket import Header, WebSocket
from socketio import packet as sio_packet

from socialads.metrics import Metrics

LATEST_ONLY = frozenset({"progress"})  # events whose newer frame replaces an older held one


def frame_bytes(pkt: eio_packet.Packet) -> bytes:
    """The WebSocket frame of an Engine.IO packet, as gevent-websocket would write it."""
    encoded = pkt.encode()
    if isinstance(encoded, str):
        data, opcode = encoded.encode(), WebSocket.OPCODE_TEXT
    else:
        data, opcode = bytes(encoded), WebSocket.OPCODE_BINARY
    return bytes(Header.encode_header(True, opcode, b"", len(data), 0)) + data


def event_text(event: str, data: bytes) -> str:
    """The Socket.IO packet of event ``event`` with the JSON value ``data`` on the default
    namespace, as python-socketio encodes it (type digit, then the JSON array of the
    event's name and argument): tests/unit/test_wire_internals.py holds it to that."""
    return f'{sio_packet.EVENT}["{event}",{data.decode()}]'


class Frame:
    """One event for many recipients: the Engine.IO packet (for long-polling sockets) and
    its WebSocket frame, built once, on first use."""

    __slots__ = ("event", "latest_only", "packet", "_bytes")

    def __init__(self, event: str, pkt: eio_packet.Packet):
        self.event = event
        self.latest_only = event in LATEST_ONLY
        self.packet = pkt
        self._bytes: bytes | None = None

    def wire(self, metrics: Metrics) -> bytes:
        if self._bytes is None:
            self._bytes = frame_bytes(self.packet)
            metrics.frames_built.inc()
        return self._bytes


class FloorEmit(socketio.Manager):
    """The manager's emit to this process's clients: one Socket.IO packet, one Engine.IO
    packet and one WebSocket frame per payload, whatever the number of recipients, and
    every delivery counted (``socialads_updates_sent_total``). Placed after the pub/sub
    manager in the method order, so that publishing to the other processes is unchanged."""

    metrics: Metrics

    def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        room = to or room
        if callback is not None:  # one packet per recipient anyway: the library's way
            self._count_library_emit(event, namespace, room, skip_sid)
            return super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback
            )
        if namespace not in self.rooms:
            return
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        if isinstance(encoded, list):  # binary attachments: several packets; never ours
            self._count_library_emit(event, namespace, room, skip_sid)
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid)
        self._deliver(
            Frame(event, eio_packet.Packet(eio_packet.MESSAGE, encoded)), namespace, room, skip
        )

    def emit_json(self, event: str, data: bytes, rooms: list[str]) -> None:
        """``emit(event, <the JSON value data>, "/", to=rooms)`` to this process's clients
        only, from JSON already encoded (progress encodes each session's update once, to
        tell it from what its viewers have): the Socket.IO packet is that JSON in the
        protocol's event array, exactly as ``emit`` would encode it (tests/unit/
        test_wire_internals.py), without encoding the payload a second time."""
        if "/" not in self.rooms or not rooms:  # an empty list would be no room: everyone
            return
        text = event_text(event, data)
        self._deliver(Frame(event, eio_packet.Packet(eio_packet.MESSAGE, text)), "/", rooms, ())

    def _count_library_emit(self, event: str, namespace: str, room: Any, skip_sid: Any) -> None:
        """An emit the library sends itself (with a callback, or binary) still counts once
        per recipient (``socialads_updates_sent_total``), as the library will send it."""
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        count = sum(1 for sid, _ in self.get_participants(namespace, room) if sid not in skip)
        if count:
            self.metrics.sent(event, count)

    def _deliver(self, frame: Frame, namespace: str, room: Any, skip: Any) -> None:
        sockets = self.server.eio.sockets
        queued = written = 0
        wire: bytes | None = None
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            sock = sockets.get(eio_sid)
            if getattr(sock, "direct", False) and not sock.closed:
                if wire is None:  # framed once, at the first WebSocket recipient
                    wire = frame.wire(self.metrics)
                written += sock.deliver(frame, wire)  # 1 if written now, else counted later
            else:
                self.server._send_eio_packet(eio_sid, frame.packet)
                queued += 1
        if written:
            self.metrics.writes.inc(written)
        if queued or written:
            self.metrics.sent(frame.event, queued + written)
