"""nginx in front of `serve` processes, for tests/deploy: the shipped
``examples/deploy/nginx.conf`` with only its EDIT lines set for the test (``render``), a
``Deployment`` that reads nginx's access log and speaks from loopback addresses of its own, and
``Visitor``, a viewer whose socket reaches nginx over TLS from such an address."""

from __future__ import annotations

import asyncio
import functools
import http.client
import os
import re
import shutil
import ssl
import subprocess
import threading
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
import requests
import socketio

from socialads.config import ROOT
from tests.support.viewers import Viewer

DEPLOY = ROOT / "examples" / "deploy"
MIME_TYPES = Path("/etc/nginx/mime.types")


def tool(name: str, *places: str) -> str:
    """A program's path; outside CI a missing one skips (CI installs them: .ci/run)."""
    found = shutil.which(name) or next((p for p in places if os.access(p, os.X_OK)), None)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; .ci/run installs it (Debian package {name})")
    pytest.skip(f"{name} is not installed (Debian package {name}; .ci/run installs it)")


def render(example: str, backends: list[int], https: int, http_port: int, tmp: Path) -> str:
    """The example with its EDIT lines set for this test. Fails when the example changed shape,
    so the test never silently runs something else than what it ships."""
    upstream = re.compile(r"^( *)server 127\.0\.0\.1:\d+( [^;\n]*)?;\n", re.M)
    found = upstream.findall(example)
    assert len(found) >= 2, "nginx.conf: no `server 127.0.0.1:PORT ...;` lines in the upstream"
    indent, parameters = found[0]
    servers = "".join(f"{indent}server 127.0.0.1:{port}{parameters};\n" for port in backends)
    first = upstream.search(example)
    text = upstream.sub("", example[first.start() :])
    text = example[: first.start()] + servers + text
    edits = [  # (what, replaced by, how many times it must appear)
        (r"^ *listen \[::\]:\d+[^;\n]*;\n", "", 2),  # no IPv6 needed here
        (r"listen 443 ssl", f"listen 127.0.0.1:{https} ssl", 1),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};", 1),
        (re.escape("/etc/letsencrypt/live/ads.example/fullchain.pem"), f"{tmp}/cert.pem", 1),
        (re.escape("/etc/letsencrypt/live/ads.example/privkey.pem"), f"{tmp}/key.pem", 1),
        (re.escape("/var/cache/nginx/socialads"), f"{tmp}/cache", 1),
        (re.escape("/var/log/nginx/"), f"{tmp}/", 1),
        (re.escape("/var/www/letsencrypt"), f"{tmp}/acme", 1),
    ]
    for pattern, replacement, count in edits:
        text, made = re.subn(pattern, replacement, text, flags=re.M)
        assert made == count, f"nginx.conf changed shape: {pattern!r} found {made}x, not {count}x"
    return text


MAIN_CONF = """\
worker_processes 1;
events {{ worker_connections 512; }}
http {{
    {mime_types}
    default_type application/octet-stream;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    access_log {tmp}/other.access.log;
    include {tmp}/socialads.conf;
}}
"""

LOG_LINE = re.compile(
    r'^(?P<client>\S+) \[[^\]]+\] "(?P<method>\S+) (?P<path>\S+) [^"]*" '
    r"(?P<status>\d+) \S+ \S+ upstream=(?P<upstream>\S+) \S+ "
    r"cache=(?P<cache>\S+)$"
)


class Deployment:
    """nginx from the example in front of two `serve` processes, with a certificate of its own."""

    def __init__(self, tmp: Path, https: int, http_port: int, backends: list):
        self.tmp = tmp
        self.url = f"https://127.0.0.1:{https}"
        self.http_url = f"http://127.0.0.1:{http_port}"
        self.port = https
        self.backends = backends
        self.cert = str(tmp / "cert.pem")
        self.http = requests.Session()
        self.http.verify = self.cert
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE and proxies from the environment
        self.process: subprocess.Popen | None = None

    @functools.cached_property
    def tls(self) -> ssl.SSLContext:
        """Trusts the test's self-signed certificate, and nothing else."""
        return ssl.create_default_context(cafile=self.cert)

    def log(self) -> list[dict]:
        """The access log of the socialads server block, parsed."""
        path = self.tmp / "socialads.access.log"
        lines = path.read_text().splitlines() if path.exists() else []
        return [match.groupdict() for match in map(LOG_LINE.match, lines) if match]

    def get_from(self, source: str, path: str) -> int:
        """GET ``path`` from the loopback address ``source``; its status."""
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=10, source_address=(source, 0), context=self.tls
        )
        try:
            connection.request("GET", path)
            answer = connection.getresponse()
            answer.read()
            return answer.status
        finally:
            connection.close()

    def backend_of(self, source: str) -> str:
        """Which process nginx sends ``source`` to, from the access log of a request."""
        path = f"/og.png?probe={uuid.uuid4().hex}"
        assert self.get_from(source, path) == 200
        return self.logged(lambda line: line["path"] == path)[0]["upstream"]

    def logged(self, predicate, count: int = 1, timeout: float = 5) -> list[dict]:
        """The access log's lines that satisfy ``predicate``, once there are ``count`` of them
        (nginx writes a line just after the answer, a WebSocket's when it closes)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.log() if predicate(line)]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)


def wait_until_up(deployment: Deployment, timeout: float = 10) -> None:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline and deployment.process.poll() is None:
        try:
            last = deployment.http.get(deployment.url + "/healthz", timeout=2)
            if last.status_code == 200:
                return
        except requests.ConnectionError as exc:
            last = exc
        time.sleep(0.1)
    errors = (deployment.tmp / "error.log").read_text(errors="replace")
    raise RuntimeError(f"nginx did not come up ({last!r}): {errors[-3000:]}")


class Visitor(Viewer):
    """A Viewer whose socket reaches nginx from a loopback address of its own, over TLS: nginx
    hashes the client address to pick the process.

    It speaks through python-socketio's asyncio client, on an event loop of its own: the
    threaded client reads and writes one TLS socket from two threads at once, which OpenSSL
    does not allow (python-engineio#461, python-socketio#1568). On CI that lost a connect
    once and an ack once, though nothing was wrong with the server."""

    def __init__(self, deployment: Deployment, source: str, headers: dict | None = None):
        # Viewer's own __init__, with a client of our making.
        self.url = deployment.url
        self.viewer = "v-" + uuid.uuid4().hex
        self.name = None
        self.events = []
        self.changed = threading.Condition()
        self.session = None
        self.joined = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

        def http_session() -> aiohttp.ClientSession:  # made inside the loop, as aiohttp wants
            return aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(local_addr=(source, 0), ssl=deployment.tls)
            )

        self.sio = socketio.AsyncClient(reconnection=False, http_session=http_session)
        self.sio.on("*", self._record)
        refusals = []
        self.sio.on("connect_error", lambda data=None: refusals.append(data))
        try:  # the Origin a browser on our pages sends
            self._run(
                self.sio.connect(
                    deployment.url,
                    transports=["websocket"],
                    wait_timeout=20,
                    headers={"Origin": deployment.url, **(headers or {})},
                )
            )
        except BaseException as exc:
            self.close()  # a half-open attempt must not hold the address's one slot
            if (
                isinstance(exc, socketio.exceptions.ConnectionError)
                and refusals
                and isinstance(refusals[0], dict)
            ):
                raise Refused(refusals[0]) from None
            raise

    def _run(self, coroutine, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, event: str, payload=None, timeout: float = 5):
        return self._run(self.sio.call(event, payload, timeout=timeout), timeout + 5)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        try:
            self._run(self.sio.disconnect(), 10)
            http = self.sio.eio.http
            if http is not None and not http.closed:  # left open by a refused connect
                self._run(http.close(), 10)
            # TLS transports finish closing on the loop's next turns (aiohttp's advice: sleep)
            self._run(asyncio.sleep(0.25))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            if not self.thread.is_alive():  # a loop still running cannot be closed
                self.loop.close()


class Refused(Exception):
    """A socket the server refused, with the refusal's data."""

    def __init__(self, data):
        super().__init__(data)
        self.data = data
