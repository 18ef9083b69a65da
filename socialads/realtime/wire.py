"""Where socialads plugs into python-socketio and python-engineio: the JSON of every packet,
what a packet that cannot be decoded gets, the client managers (on our bus) and when the
manager starts.

This is the one module allowed to rely on those libraries' internals (a private handler, a
private generator, a flag the server keeps); each is named below where it is used, and
tests/unit/test_wire_internals.py fails when an upgrade changes one of them. Everything
else of ours speaks the libraries' documented API.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
import socketio
from engineio import json as engineio_json
from redis.exceptions import RedisError

from socialads.realtime.bus import Bus
from socialads.realtime.frames import FloorEmit
from socialads.realtime.rooms import campaign_of_room

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
    """Initialize the client manager now, which python-socketio does at the first connect:
    from the start, as the bus's listeners start (``Realtime.start``).

    Internal: ``Server.manager_initialized``, the flag ``_handle_eio_connect`` checks before
    it calls ``manager.initialize()`` itself."""
    if server is not None and not server.manager_initialized:
        server.manager_initialized = True
        server.manager.initialize()


class BusRooms(socketio.Manager):
    """Tells the bus which campaigns this process serves, as their rooms come and go
    (``socialads.realtime.bus``): a room of a campaign (``socialads.realtime.rooms``) made
    here holds its channel, the last one gone releases it.

    It sits before python-socketio's pub/sub manager in the method order, so its
    ``enter_room`` (waiting for the subscription) runs for this process's own joins, never
    for a request from another process, which the listener itself is reading.

    Internal: ``Manager.basic_enter_room`` and ``basic_leave_room``, which every join, leave,
    disconnect and closed room goes through, and the ``rooms`` they keep."""

    bus: Bus  # set by each manager's constructor

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> Any:
        cid = campaign_of_room(room)
        new = room not in self.rooms.get(namespace, {})
        # Its channels first (Redis may be asked): a failure leaves no room unheld.
        channels = self.bus.channels_of(cid) if cid is not None and new else None
        result = super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        if cid is not None and channels is not None:
            self.bus.hold(cid, channels)
        return result

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> Any:
        cid = campaign_of_room(room)
        had = room in self.rooms.get(namespace, {})
        result = super().basic_leave_room(sid, namespace, room)
        if cid is not None and had and room not in self.rooms.get(namespace, {}):
            self.bus.release(cid)
        return result

    def enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> Any:
        result = super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        cid = campaign_of_room(room)
        if cid is not None:
            self.bus.wait_heard(cid)
        return result


class LocalManager(BusRooms, FloorEmit):
    """The client manager of a process whose emits reach only its own clients (tests,
    tools): the floor's emit (socialads.realtime.floor), and the bus told of its rooms."""

    def __init__(self, bus: Bus):
        super().__init__()
        self.bus = bus


class QueueManager(BusRooms, socketio.PubSubManager, FloorEmit):
    """python-socketio's pub/sub manager on our bus: what it publishes for a room of a
    campaign goes on that campaign's channel (heard only by the processes serving it), the
    rest (a message to one connection elsewhere, a callback) on the global one, as JSON; the
    bus's reader hands back what it hears (`heard`). Emits to this process's clients go out
    by the floor's emit (socialads.realtime.floor).

    Internal: ``PubSubManager._publish``, which its emit and room methods call, and the
    ``_handle_*`` methods its listening thread calls by a message's ``method``: `heard` is
    that thread's dispatch, run by our reader (the manager is made ``write_only`` so its own
    thread never starts)."""

    def __init__(self, bus: Bus):
        super().__init__(channel=bus.global_channel, write_only=True)
        self.bus = bus
        bus.on_manager = self.heard

    def _publish(self, data: dict[str, Any]) -> None:
        # An emit to a campaign's room goes where the processes serving it hear; a request
        # about one connection (to enter or leave a room, a disconnect, a callback) goes on
        # the global channel: the process holding it may have no room of the campaign yet.
        room = data.get("room") if data.get("method") == "emit" else None
        channel = self.bus.channel(campaign_of_room(room))
        try:
            self.bus.store.events.publish(channel, OrjsonWire.dumps(data).encode())
        except (RedisError, TypeError, ValueError) as exc:  # as python-socketio's: logged
            log.error("cannot publish to Redis (%s): an emit did not reach the others", exc)

    def heard(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        try:
            if method == "callback":
                self._handle_callback(message)
            elif message.get("host_id") != self.host_id:
                handle = self._handlers.get(method)  # type: ignore[arg-type]
                if handle is not None:
                    handle(self, message)
        except (KeyError, TypeError, ValueError, IndexError) as exc:  # not python-socketio's
            log.warning("ignored a pub/sub message that is not well formed (%r)", exc)
        except Exception:
            log.exception("handler error for a pub/sub message (%s)", method)

    _handlers: dict[str, Any] = {
        "emit": socketio.PubSubManager._handle_emit,
        "disconnect": socketio.PubSubManager._handle_disconnect,
        "enter_room": socketio.PubSubManager._handle_enter_room,
        "leave_room": socketio.PubSubManager._handle_leave_room,
        "close_room": socketio.PubSubManager._handle_close_room,
    }
