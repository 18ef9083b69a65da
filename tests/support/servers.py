"""Servers the tests start: real `socialads serve` processes with presence tuned for quick
tests, small threaded WSGI servers for a publisher's pages, and a look at /healthz."""

from __future__ import annotations

import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import redis
import requests

from socialads.runtime.processes import ServeProcess
from tests.support.seeds import SECRET

# The presence settings of every test `serve` process: a member whose process stops
# refreshing is gone after PRESENCE_TTL; heartbeats push it forward every HEARTBEAT seconds.
PRESENCE_TTL, HEARTBEAT = 4, 1


METRICS_TOKEN = "test-metrics"  # the shared `servers` show /metrics to this bearer token


def bus_heard(url: str) -> float:
    """``socialads_bus_messages_received_total`` of the process at ``url`` (its /metrics)."""
    page = requests.get(
        url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    page.raise_for_status()
    for line in page.text.splitlines():
        if line.startswith("socialads_bus_messages_received_total "):
            return float(line.split()[1])
    raise AssertionError("no socialads_bus_messages_received_total in /metrics")


def serve_process(redis_url: str, log_dir: Path, **env: str) -> ServeProcess:
    """A `serve` process with presence tuned for quick tests: TTL 4 s, heartbeat 1 s;
    ``env``: more SOCIALADS_* settings."""
    return ServeProcess(
        redis_url,
        log_dir,
        SECRET,
        **{
            "SOCIALADS_PRESENCE_TTL": str(PRESENCE_TTL),
            "SOCIALADS_HEARTBEAT_INTERVAL": str(HEARTBEAT),
            **env,
        },
    )


def health(url: str) -> tuple[int, dict]:
    """The status and body of the /healthz of the service at ``url``."""
    answer = requests.get(url + "/healthz", timeout=10)
    return answer.status_code, answer.json()


class QuietHandler(WSGIRequestHandler):
    """Logs nothing: a test's output shows its own failures, not every request."""

    def log_message(self, *args):
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per request: a page loads its frames and scripts at once."""

    daemon_threads = True


def serve_wsgi(app, port: int) -> ThreadingServer:
    """``app`` on http://127.0.0.1:``port`` in a thread of its own, until ``stop_wsgi``."""
    httpd = make_server(
        "127.0.0.1", port, app, server_class=ThreadingServer, handler_class=QuietHandler
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def stop_wsgi(httpd: ThreadingServer) -> None:
    httpd.shutdown()
    httpd.server_close()


def redis_nodes(redis_server) -> list[redis.Redis]:
    """A plain client to each node of ``redis_server`` (one Redis, or every cluster node):
    for what a test does to Redis itself, node by node (killing its pub/sub clients)."""
    ports = getattr(redis_server, "ports", None) or [redis_server.port]
    return [redis.Redis(port=port) for port in ports]
