"""The bare stack socialads is measured against, started by the bench in the same run.

A bare Flask-SocketIO app in the same async mode and on the same server stack as
``socialads serve`` (gevent, gevent's pywsgi with gevent-websocket's handler and
TCP_NODELAY: ``socialads.runtime.server.NoDelayHandler``), with Flask-SocketIO's defaults otherwise
(stdlib JSON, async handlers). Its events:

- ``join``: put the connection in the one room ``crowd`` (every viewer sees every action);
- ``act``: ``--mode incr``: one Redis ``INCR`` and one ``emit("progress", {"total": n})`` to
  the room, then the ack ``{"ok": true, "total": n}``; ``--mode ack``: the ack
  ``{"ok": true}`` and nothing else (the ceiling of any event handler on this stack).

With ``--queue`` it uses the Redis message queue, as several socialads processes do, so an
emit reaches the room's viewers on every baseline process. HTTP: ``/healthz``, ``/count``
(one Redis ``GET``, the baseline of the stats figure) and ``/page`` (a bare page that loads
the stock socket.io client, connects and enables a button: the baseline of the browser's
time to interactive).

    python bench/baseline.py --port P --mode ack|incr [--redis URL] [--queue]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402 - after gevent's patching, like `socialads serve`
from pathlib import Path  # noqa: E402

import redis  # noqa: E402
import socketio as socketio_lib  # noqa: E402
from flask import Flask, Response, jsonify, send_file  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402
from gevent import pywsgi  # noqa: E402

from socialads.runtime.server import NoDelayHandler  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLIENT_JS = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
KEY = "bench:baseline:total"
ROOM = "crowd"
POOL = 2000
PAGE = """<!doctype html><meta charset="utf-8"><title>baseline</title>
<button data-socialad-action disabled>Act</button>
<script src="/socket.io.min.js"></script>
<script>
var socket = io({transports: ['websocket']});
socket.on('connect', function () {
  socket.emit('join', {}, function () {
    document.querySelector('[data-socialad-action]').disabled = false;
  });
});
</script>"""


def create(mode: str, redis_url: str, queue: bool) -> tuple[Flask, SocketIO]:
    app = Flask(__name__)
    # Async handlers run every event in its own greenlet: under a burst, hundreds at once
    # want a Redis connection, and redis-py's default pool refuses past 100 (so does the
    # message queue's publisher). Bigger pools keep the bare app correct under load.
    store = redis.Redis.from_url(redis_url, max_connections=POOL)
    manager = (
        socketio_lib.RedisManager(
            redis_url, channel="bench-baseline", redis_options={"max_connections": POOL}
        )
        if queue
        else None
    )
    socketio = SocketIO(app, async_mode="gevent", client_manager=manager)

    @socketio.on("join")
    def join(_payload=None):
        join_room(ROOM)
        return {"ok": True}

    if mode == "ack":

        @socketio.on("act")
        def act(_payload=None):
            return {"ok": True}
    else:

        @socketio.on("act")
        def act(_payload=None):
            total = store.incr(KEY)
            socketio.emit("progress", {"total": total}, to=ROOM)
            return {"ok": True, "total": total}

    @app.get("/healthz")
    def healthz():
        store.ping()
        return jsonify(status="ok")

    @app.get("/count")
    def count():
        return jsonify(total=int(store.get(KEY) or 0))

    @app.get("/page")
    def page():
        return Response(PAGE, mimetype="text/html")

    @app.get("/socket.io.min.js")
    def client_js():
        return send_file(CLIENT_JS, mimetype="text/javascript")

    return app, socketio


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="The bare Flask-SocketIO baseline.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--mode", choices=["ack", "incr"], default="incr")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--queue", action="store_true", help="use the Redis message queue")
    args = parser.parse_args(argv)
    app, _socketio = create(args.mode, args.redis, args.queue)
    server = pywsgi.WSGIServer((args.host, args.port), app, handler_class=NoDelayHandler, log=None)
    server.serve_forever()


if __name__ == "__main__":
    main()
