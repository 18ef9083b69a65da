"""Running the service: one gevent process with WebSockets, ready to sit beside others."""

from __future__ import annotations

import gc
import logging
import socket

from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler


class NoDelayHandler(WebSocketHandler):
    """gevent-websocket's handler (it answers a client's close frame, where simple-websocket
    under pywsgi left clients waiting 3 s) that sends small frames at once: without
    TCP_NODELAY an ack that follows a broadcast waits ~40 ms for Nagle's algorithm. With
    ``send_buffer`` set, each socket's kernel send buffer is capped at that many bytes."""

    send_buffer: int | None = None

    def __init__(self, sock, *args, **kwargs):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.send_buffer:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(self.send_buffer))
        except OSError:
            pass
        super().__init__(sock, *args, **kwargs)


def run(app, host: str, port: int, extra_servers: tuple = (), on_ready=None) -> None:
    """Serve ``app`` until interrupted. ``extra_servers`` are started alongside (the demo's
    publisher page); ``on_ready`` is called once every socket accepts connections."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # gevent-websocket logs every request at INFO: an access log belongs to the proxy in front.
    logging.getLogger("geventwebsocket.handler").setLevel(logging.WARNING)
    handler = type(
        "NoDelayHandler", (NoDelayHandler,), {"send_buffer": app.config.get("SEND_BUFFER")}
    )
    server = pywsgi.WSGIServer((host, port), app, handler_class=handler, log=None)
    # Listen from the start (not from the first connection), so /healthz proves it hears.
    app.extensions["socialads.realtime"].start()
    for other in (*extra_servers, server):
        other.start()
    # Ready means hearing the other processes: wait (briefly) for a round trip through both
    # pub/sub channels, so the first /healthz is already green.
    app.extensions["socialads.liveness"].wait_until_heard(5)
    if on_ready:
        on_ready()
    tune_collector()
    server.serve_forever()


def tune_collector() -> None:
    """A full pass of Python's cycle collector walks every live object: with a thousand
    viewers connected that stalls the process for 100-150 ms, and every viewer's next update
    with it (`make bench`, fan-out at 1,000 viewers: the p99). What start-up made (modules,
    the app, templates) lives as long as the process, so it is frozen out of those passes;
    and young collections run less often, so fewer short-lived objects survive into the old
    generation and full passes become rare. Memory is unaffected but for cyclic garbage,
    which waits a little longer: everything else is freed when its last reference goes."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 10, 10)


YOUNG_THRESHOLD = 20_000  # allocations between young collections (CPython's default: 700)
