"""The internals of python-socketio and python-engineio that socialads.realtime.wire relies on
are still there and still behave as it expects: an upgrade that changes one fails here, by
name, rather than somewhere in production (a traceback per bad packet, an emit that never
reaches the other processes, a campaign nobody listens to)."""

from __future__ import annotations

import inspect

import engineio.packet
import socketio
from engineio import json as engineio_json
from socketio import packet

from socialads.realtime.wire import (
    MALFORMED,
    BusRooms,
    OrjsonWire,
    QueueManager,
    refuse_malformed_packets,
    start_queue_listener,
)


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


# -- refuse_malformed_packets ---------------------------------------------------------------


def test_the_engineio_message_handler_is_the_one_we_wrap():
    assert _parameters(socketio.Server._handle_eio_message) == ["self", "eio_sid", "data"]
    server = socketio.Server()
    assert server.eio.handlers["message"] == server._handle_eio_message
    refuse_malformed_packets(server)
    assert server.eio.handlers["message"] != server._handle_eio_message


def test_a_packet_that_cannot_be_decoded_raises_what_we_catch_and_disconnects():
    server = socketio.Server(json=OrjsonWire)
    refuse_malformed_packets(server)
    dropped = []
    server.eio.disconnect = dropped.append
    for bad in ('2["act",{"id":', "2" + "[" * 100_000, "2{}", "9", '2/admin,["act"'):
        try:
            server._handle_eio_message("eio-sid", bad)
        except MALFORMED:
            pass  # what python-socketio raises for it: one of those we catch
        else:
            raise AssertionError(f"python-socketio no longer raises for {bad[:20]!r}")
        server.eio.handlers["message"]("eio-sid", bad)  # ours: no exception, a disconnect
    assert dropped == ["eio-sid"] * 5


# -- start_queue_listener ----------------------------------------------------------------


def test_the_manager_starts_on_first_connect_unless_the_flag_says_it_started():
    source = inspect.getsource(socketio.Server._handle_eio_connect)
    assert "if not self.manager_initialized:" in source
    assert "self.manager_initialized = True" in source
    assert "self.manager.initialize()" in source
    server = socketio.Server()
    assert server.manager_initialized is False
    started = []
    server.manager.initialize = lambda: started.append(True)
    start_queue_listener(server)
    start_queue_listener(server)
    assert started == [True] and server.manager_initialized is True


# -- OrjsonWire -----------------------------------------------------------------------------


def test_engineio_json_is_the_codec_we_fall_back_to():
    assert callable(engineio_json.dumps) and callable(engineio_json.loads)
    assert packet.Packet.json is engineio_json or packet.Packet.json is OrjsonWire
    # A packet encodes its data with these options, which the fallback passes on.
    assert "self.json.dumps(data, separators=(',', ':'))" in inspect.getsource(packet.Packet)
    assert OrjsonWire.dumps(2**70, separators=(",", ":")) == str(2**70)
    assert OrjsonWire.dumps({"a": [1, "b"]}) == '{"a":[1,"b"]}'
    assert OrjsonWire.loads('{"a":[1,"b"]}') == {"a": [1, "b"]}
    assert OrjsonWire.loads("NaN") != OrjsonWire.loads("NaN")  # orjson refuses: the fallback


def test_the_json_option_reaches_both_packet_classes():
    before = (packet.Packet.json, engineio.packet.Packet.json)
    try:
        socketio.Server(json=OrjsonWire)
        assert packet.Packet.json is OrjsonWire
        assert engineio.packet.Packet.json is OrjsonWire
    finally:
        packet.Packet.json, engineio.packet.Packet.json = before


# -- QueueManager ---------------------------------------------------------------------------


def test_the_pubsub_manager_publishes_and_dispatches_through_what_we_replace():
    manager = socketio.PubSubManager
    assert _parameters(manager._publish) == ["self", "data"]
    for method in ("emit", "can_disconnect", "disconnect", "enter_room", "close_room"):
        assert "self._publish(" in inspect.getsource(getattr(manager, method)), method
    # Its listening thread's dispatch, which QueueManager.heard is: callbacks to their host,
    # the rest by method unless it came from this host.
    thread = inspect.getsource(manager._thread)
    assert "data['method'] == 'callback'" in thread and "self._handle_callback(data)" in thread
    assert "data.get('host_id') != self.host_id" in thread
    for method, handle in QueueManager._handlers.items():
        assert f"data['method'] == '{method}'" in thread
        assert f"{handle.__name__}(data)" in thread
        assert _parameters(handle) == ["self", "message"]
    # write_only: the thread never starts (our reader hears for it).
    assert "if not self.write_only:" in inspect.getsource(manager.initialize)


def test_rooms_come_and_go_through_the_basic_methods_we_wrap():
    base = socketio.base_manager.BaseManager
    assert _parameters(base.basic_enter_room) == ["self", "sid", "namespace", "room", "eio_sid"]
    assert _parameters(base.basic_leave_room) == ["self", "sid", "namespace", "room"]
    assert "self.basic_leave_room(sid, namespace, room)" in inspect.getsource(base.basic_disconnect)
    assert "self.basic_leave_room(" in inspect.getsource(base.basic_close_room)
    for method in ("enter_room", "leave_room"):
        assert f"self.basic_{method}(" in inspect.getsource(getattr(socketio.Manager, method))
    # A request from another process enters the room past BusRooms.enter_room (which waits
    # for the listener that is delivering the request).
    assert "super().enter_room(" in inspect.getsource(socketio.PubSubManager._handle_enter_room)
    order = QueueManager.__mro__
    assert order.index(BusRooms) < order.index(socketio.PubSubManager)


# -- the floor (socialads.realtime.floor) ------------------------------------------------------

# What FloorSocket and FloorEmit replace or wrap, as the pinned releases wrote them. A new
# release that changes one of them fails here: read its change, bring the floor's copy in
# line (socialads/realtime/floor.py), then update the fingerprint.
LIBRARY_SOURCES = {
    "Socket._websocket_handler": "58afe122719282de",
    "Socket.close": "05fac55831999f25",
    "Socket.send": "f8b2738ee5d48ab2",
    "Socket.schedule_ping": "fe316639159cd70d",
    "Socket._send_ping": "21861287bd38dedc",
    "Manager.emit": "566510ea2de39d65",
    "Server._handle_connect": "049f7c2b2c239080",
}


def test_what_the_floor_replaces_is_what_the_pinned_releases_ship():
    import hashlib

    import engineio
    from engineio.socket import Socket

    found = {
        "Socket._websocket_handler": Socket._websocket_handler,
        "Socket.close": Socket.close,
        "Socket.send": Socket.send,
        "Socket.schedule_ping": Socket.schedule_ping,
        "Socket._send_ping": Socket._send_ping,
        "Manager.emit": socketio.Manager.emit,
        "Server._handle_connect": engineio.Server._handle_connect,
    }
    fingerprints = {
        name: hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]
        for name, function in found.items()
    }
    assert fingerprints == LIBRARY_SOURCES


def test_a_new_socket_meets_the_connect_handler_before_it_pings_or_upgrades():
    import engineio

    source = inspect.getsource(engineio.Server._handle_connect)
    made = source.index("socket.Socket(self, sid)")
    connect = source.index("self._trigger_event('connect'")
    assert made < connect < source.index("s.schedule_ping()")
    assert connect < source.index("s.handle_get_request(")
    server = socketio.Server(async_mode="threading")
    assert server.eio.handlers["connect"] == server._handle_eio_connect
    assert _parameters(socketio.Server._handle_eio_connect) == ["self", "eio_sid", "environ"]


def test_gevent_websocket_exposes_what_the_floor_writes_through():
    from geventwebsocket.websocket import Header, WebSocket

    assert {"raw_write", "handler", "closed"} <= set(WebSocket.__slots__)
    assert _parameters(Header.encode_header) == ["fin", "opcode", "mask", "length", "flags"]
    assert WebSocket.OPCODE_TEXT == 1 and WebSocket.OPCODE_BINARY == 2


def test_gevent_websocket_reads_through_the_two_readers_the_floor_replaces():
    """floor.small_reader swaps the reader of a frame's header (``stream.read``, through
    Header.decode_header) and of its payload (``raw_read``); a third would keep the 8 KB
    buffer alive and read past what the swapped one buffered."""
    import inspect

    from geventwebsocket.websocket import Header, Stream, WebSocket

    assert "raw_read" in WebSocket.__slots__
    init = inspect.getsource(WebSocket.__init__)
    assert "self.raw_read = stream.read" in init and "self.stream = stream" in init
    assert "read = stream.read" in inspect.getsource(Header.decode_header)
    assert "self.read = handler.rfile.read" in inspect.getsource(Stream.__init__)
    frame_reads = inspect.getsource(WebSocket.read_frame)
    assert "self.raw_read(" in frame_reads and "decode_header(self.stream)" in frame_reads


def test_a_floor_frame_is_the_bytes_gevent_websocket_would_write():
    from socialads.realtime.frames import frame_bytes

    for size in (3, 125, 126, 65535, 65536):
        pkt = engineio.packet.Packet(engineio.packet.MESSAGE, "2" + "x" * size)
        data = pkt.encode().encode()
        frame = frame_bytes(pkt)
        assert frame.endswith(data)
        assert frame[0] == 0x81  # FIN, text
        header = frame[: len(frame) - len(data)]
        if len(data) < 126:
            assert header[1] == len(data)
        elif len(data) < 65536:
            assert header[1] == 126 and int.from_bytes(header[2:4], "big") == len(data)
        else:
            assert header[1] == 127 and int.from_bytes(header[2:10], "big") == len(data)


def test_the_floor_emit_sits_between_the_pubsub_manager_and_the_plain_one():
    from socialads.realtime.frames import FloorEmit

    order = QueueManager.__mro__
    assert order.index(socketio.PubSubManager) < order.index(FloorEmit)
    assert order.index(FloorEmit) < order.index(socketio.Manager)
    assert _parameters(socketio.Manager.get_participants) == ["self", "namespace", "room"]


def test_an_event_from_encoded_json_is_the_packet_python_socketio_would_encode():
    import orjson

    from socialads.realtime.frames import event_text

    before = (packet.Packet.json, engineio.packet.Packet.json)
    server = socketio.Server(json=OrjsonWire)
    try:
        for payload in ({"total": 3, "state": {"board": [{"name": "Café ☕"}]}}, [1, "a"], 7):
            expected = server.packet_class(
                packet.EVENT, namespace="/", data=["progress", payload]
            ).encode()
            assert event_text("progress", orjson.dumps(payload)) == expected
    finally:
        packet.Packet.json, engineio.packet.Packet.json = before
