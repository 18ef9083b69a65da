"""A lean Socket.IO v4 client for the bench: thousands of connections in one asyncio loop.

python-socketio's clients cost a thread (or a task tree) and a JSON parse per message, so
a crowd of them would measure the bench instead of the server. This one speaks WebSocket,
Engine.IO and Socket.IO frames by hand over an ``asyncio.Protocol`` and does the least
possible while a figure is running: a frame that carries an event is stamped with
``time.perf_counter()`` and kept as bytes (``Client.inbox``), to be parsed after the run.
Acks resolve futures; Engine.IO pings are answered at once.

Only what the bench needs: text frames, namespace ``/``, the websocket transport, no
binary attachments, no reconnects. Client frames are masked with an all-zero key (legal:
RFC 6455 only asks that the key be unpredictable, which matters for proxies, not here).
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
from collections.abc import Iterable

import orjson

OPEN = b"0"
PING = b"2"
PONG_FRAME = b"\x81\x81\x00\x00\x00\x003"  # masked text frame "3", built once
HANDSHAKE = (
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
    "Sec-WebSocket-Version: 13\r\n{extra}\r\n"
)


class Closed(Exception):
    """The connection is gone (closed by either side, or never opened)."""


def frame(payload: bytes) -> bytes:
    """A masked (all-zero key) WebSocket text frame."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x81, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
    return head + b"\x00\x00\x00\x00" + payload


class Client(asyncio.Protocol):
    """One Socket.IO connection. ``inbox`` holds ``(perf_counter, raw packet)`` of every
    server event (``42[...]``) received, when ``keep`` is true."""

    def __init__(self, keep: bool = True):
        self.keep = keep
        self.inbox: list[tuple[float, bytes]] = []
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.next_id = 0
        self.pending: dict[int, asyncio.Future] = {}
        self.ready: asyncio.Future | None = None
        self.closed = False
        self.sid: str | None = None

    # -- connecting -----------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        timeout: float = 30,
        keep: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Client:
        """Connect and join namespace ``/``; ``headers``: more lines for the handshake (an
        ``X-Forwarded-For``, as a reverse proxy in front of the server writes it)."""
        loop = asyncio.get_running_loop()
        client = cls(keep)
        client.ready = loop.create_future()
        transport, _ = await asyncio.wait_for(
            loop.create_connection(lambda: client, host, port), timeout
        )
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        transport.write(HANDSHAKE.format(host=host, port=port, key=key, extra=extra).encode())
        try:
            await asyncio.wait_for(client.ready, timeout)
        except BaseException:
            client.close()
            raise
        return client

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.closed = True
        error = Closed(str(exc) if exc else "closed")
        if self.ready is not None and not self.ready.done():
            self.ready.set_exception(error)
        for future in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.abort()

    # -- sending --------------------------------------------------------------------------

    def send(self, packet: bytes) -> None:
        if self.closed:
            raise Closed("closed")
        self.transport.write(frame(packet))

    def emit(self, event: str, data) -> None:
        self.send(b"42" + orjson.dumps([event, data]))

    def call(self, event: str, data) -> asyncio.Future:
        """Emit with an ack; the future resolves to the ack's first argument."""
        if self.closed:
            raise Closed("closed")
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self.send(b"42" + str(self.next_id).encode() + orjson.dumps([event, data]))
        return future

    # -- receiving ------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[:end]).split(b"\r\n", 1)[0]
            del buffer[: end + 4]
            if b" 101 " not in status:
                self._fail(f"no websocket upgrade: {status.decode(errors='replace')}")
                return
            self.upgraded = True
        pos, size = 0, len(buffer)
        while size - pos >= 2:
            first, second = buffer[pos], buffer[pos + 1]
            length, head = second & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = struct.unpack_from("!H", buffer, pos + 2)[0], 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = struct.unpack_from("!Q", buffer, pos + 2)[0], 10
            if second & 0x80:
                head += 4  # servers never mask; tolerate it all the same (no unmasking)
            if size - pos < head + length:
                break
            payload = bytes(buffer[pos + head : pos + head + length])
            pos += head + length
            opcode = first & 0x0F
            if opcode == 0x1:
                self._packet(payload, now)
            elif opcode == 0x8:
                self.close()
                self.connection_lost(None)
                return
            elif opcode == 0x9:  # a WebSocket ping: pong with the same payload
                self.transport.write(b"\x8a" + bytes([0x80 | len(payload)]) + b"\0\0\0\0" + payload)
        del buffer[:pos]

    def _packet(self, packet: bytes, now: float) -> None:
        kind = packet[:2]
        if kind == b"42":
            if self.keep:
                self.inbox.append((now, packet))
        elif kind == b"43":
            bracket = packet.index(b"[")
            future = self.pending.pop(int(packet[2:bracket]), None)
            if future is not None and not future.done():
                future.set_result(orjson.loads(packet[bracket:])[0])
        elif packet == PING:
            self.transport.write(PONG_FRAME)
        elif kind == b"40":
            self.sid = orjson.loads(packet[2:]).get("sid") if len(packet) > 2 else None
            if not self.ready.done():
                self.ready.set_result(self)
        elif kind == b"44":
            self._fail(f"connect refused: {packet[2:].decode(errors='replace')}")
        elif packet[:1] == OPEN:
            self.send(b"40")  # join namespace "/"
        elif kind == b"41":
            self.close()

    def _fail(self, why: str) -> None:
        if self.ready is not None and not self.ready.done():
            self.ready.set_exception(Closed(why))
        self.close()

    # -- reading what arrived -------------------------------------------------------------

    def events(self, name: str) -> Iterable[tuple[float, object]]:
        """``(arrival, data)`` of every kept ``name`` event, oldest first."""
        prefix = b'42["' + name.encode() + b'"'
        for arrived, packet in self.inbox:
            if packet.startswith(prefix):
                yield arrived, orjson.loads(packet[2:])[1]


async def call(client: Client, event: str, data, timeout: float = 30):
    return await asyncio.wait_for(client.call(event, data), timeout)


def close_all(clients: Iterable[Client]) -> None:
    for client in clients:
        client.close()
