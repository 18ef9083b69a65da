"""Issue #6, past one machine: ``examples/deploy/nginx.conf`` as shipped, only its lines
marked EDIT set for this machine (ports, paths, a certificate), runs in real nginx, needing
no privileges (its own prefix, temp paths and free ports), in front of two real ``socialads
serve`` processes on the test Redis. A shared session through it spans both processes, with
TLS ending at nginx, the client address coming from nginx's X-Forwarded-For and sockets
accepted from our origin only. The other files of the example (Procfile, systemd unit) must
agree with it."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
import redis
import requests
import socketio

from socialads import create_app
from socialads.config import ROOT
from socialads.domain import campaigns
from socialads.runtime.embedded_cluster import EmbeddedCluster
from socialads.runtime.processes import free_port, stop_process
from tests.support.nginx import (
    DEPLOY,
    MAIN_CONF,
    MIME_TYPES,
    Deployment,
    Refused,
    Visitor,
    render,
    tool,
    wait_until_up,
)
from tests.support.seeds import CAMPAIGN, SECRET
from tests.support.servers import serve_process
from tests.support.viewers import Viewer, websocket_open_packet


@pytest.fixture(scope="module")
def deployment(redis_server, tmp_path_factory):
    nginx = tool("nginx", "/usr/sbin/nginx")
    openssl = tool("openssl", "/usr/bin/openssl")
    # nginx's workers run as `nobody` when the test runs as root: a folder they can enter.
    tmp = Path(tempfile.mkdtemp(prefix="socialads-nginx-"))
    tmp.chmod(0o755)
    https, http_port = free_port(), free_port()
    log_dir = tmp_path_factory.mktemp("deploy-logs")
    # As the example's README says: PUBLIC_URL is nginx's origin, one trusted proxy. One live
    # connection per address, so the test can see which address a process believes; the
    # default presence TTL, so that a slow heartbeat on a busy machine never frees one early.
    backends = [
        serve_process(
            redis_server.url,
            log_dir,
            SOCIALADS_PUBLIC_URL=f"https://127.0.0.1:{https}",
            SOCIALADS_TRUSTED_PROXIES="1",
            SOCIALADS_CONNECTIONS_PER_IP="1",
            SOCIALADS_PRESENCE_TTL="30",
            SOCIALADS_HEARTBEAT_INTERVAL="10",
        )
        for _ in range(2)
    ]
    deployment = Deployment(tmp, https, http_port, backends)
    try:
        for backend in backends:
            backend.spawn()
        subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                tmp / "key.pem",
                "-out",
                tmp / "cert.pem",
            ],
            check=True,
            capture_output=True,
        )
        example = (DEPLOY / "nginx.conf").read_text()
        site = render(example, [b.port for b in backends], https, http_port, tmp)
        (tmp / "socialads.conf").write_text(site)
        mime_types = f"include {MIME_TYPES};" if MIME_TYPES.exists() else ""
        (tmp / "nginx.conf").write_text(MAIN_CONF.format(tmp=tmp, mime_types=mime_types))
        for backend in backends:
            backend.wait_ready()
        deployment.process = subprocess.Popen(  # noqa: S603
            [
                nginx,
                "-e",
                tmp / "error.log",
                "-p",
                tmp,
                "-c",
                tmp / "nginx.conf",
                "-g",
                f"daemon off; pid {tmp}/nginx.pid; error_log {tmp}/error.log;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_until_up(deployment)
        yield deployment
    finally:
        stop_process(deployment.process)
        alive = [backend.alive() for backend in backends]
        for backend in backends:
            backend.stop()
        error_log = tmp / "error.log"
        errors = error_log.read_text(errors="replace") if error_log.exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)
    assert all(alive), "a serve process died during the tests"
    for backend in backends:
        assert "Traceback" not in backend.log_text(), backend.log_text()[-3000:]
    assert "[emerg]" not in errors and "[crit]" not in errors, errors[-3000:]


def test_the_examples_files_agree():
    """The Procfile starts the processes nginx's upstream lists, and every process, there and
    in the systemd unit, listens on loopback only behind one trusted proxy."""
    upstream = re.findall(
        r"^ *server (127\.0\.0\.1:\d+)", (DEPLOY / "nginx.conf").read_text(), re.M
    )
    procfile = re.findall(
        r"^\w+: socialads serve --host (\S+) --port (\d+)$", (DEPLOY / "Procfile").read_text(), re.M
    )
    assert upstream == [f"{host}:{port}" for host, port in procfile]
    unit = (DEPLOY / "socialads@.service").read_text()
    assert "ExecStart=/opt/socialads/.venv/bin/socialads serve --host 127.0.0.1 --port %i" in unit
    assert "Environment=SOCIALADS_TRUSTED_PROXIES=1" in unit
    assert "SOCIALADS_TRUSTED_PROXIES=1" in (DEPLOY / "socialads.env.example").read_text()


def test_the_systemd_unit_parses_cleanly(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed: the unit's syntax is not checked")
    # An instance of the template, run from this checkout's venv, as systemd would see it.
    unit = (DEPLOY / "socialads@.service").read_text()
    unit = unit.replace("/opt/socialads/.venv/bin/socialads", str(ROOT / ".venv/bin/socialads"))
    unit = unit.replace("/etc/socialads/socialads.env", str(DEPLOY / "socialads.env.example"))
    (tmp_path / "socialads@5001.service").write_text(unit)
    checked = subprocess.run(
        [analyze, "verify", tmp_path / "socialads@5001.service"], capture_output=True, text=True
    )
    # verify exits 0 even for unknown keys and bad values: it says so on stderr.
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr


def test_pages_assets_and_health_through_nginx(deployment, make_campaign):
    web, url = deployment.http, deployment.url
    health = web.get(url + "/healthz", timeout=10)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert "max-age" in health.headers["Strict-Transport-Security"]

    # Plain HTTP only redirects to https.
    moved = requests.get(deployment.http_url + "/w/anything", allow_redirects=False, timeout=10)
    assert moved.status_code == 301
    assert moved.headers["Location"] == "https://127.0.0.1/w/anything"

    campaign = make_campaign()
    widget = web.get(f"{url}/w/{campaign['id']}", timeout=10)
    assert widget.status_code == 200 and "data-socialad-action" in widget.text
    assert "frame-ancestors" in widget.headers["Content-Security-Policy"]
    assert widget.headers["Content-Encoding"] == "gzip"  # by the process, passed by nginx
    # Built assets arrive precompressed by the process, not compressed again by nginx.
    loader = web.get(url + "/embed.js", headers={"Accept-Encoding": "br, gzip"}, timeout=10)
    assert loader.status_code == 200 and loader.headers["Content-Encoding"] in ("br", "gzip")
    assert "socialad" in web.get(url + "/embed.js", timeout=10).text
    bundle = re.search(r'data-live="(/static/[^"]+\.js)"', widget.text).group(1)
    for _ in range(2):
        asset = web.get(url + bundle, headers={"Accept-Encoding": "gzip"}, timeout=10)
        assert asset.status_code == 200 and asset.headers["Content-Encoding"] == "gzip"
        assert "immutable" in asset.headers["Cache-Control"]
    # The second one came from nginx's cache: the processes serve each asset once.
    fetched = deployment.logged(lambda line: line["path"] == bundle, 2)
    caching = [line["cache"] for line in fetched]
    assert caching[-2:] == ["MISS", "HIT"], caching

    # A body over 1 MiB is refused by nginx, before it reads it, in the API's own JSON.
    huge = web.post(
        url + "/api/v1/campaigns",
        data=b"x" * (1024 * 1024 + 1),
        timeout=10,
        headers={"Content-Type": "application/json", "Authorization": "Bearer x"},
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
    refused = deployment.logged(lambda line: line["method"] == "POST" and line["status"] == "413")
    assert refused and refused[-1]["upstream"] == "-", refused  # no process was asked


def test_a_shared_session_spans_two_processes_through_nginx(deployment, make_campaign):
    # Loopback addresses that nginx hashes onto different processes, found by asking it.
    sources: dict[str, str] = {}
    for third in range(1, 40):
        source = f"127.0.{third}.1"
        sources.setdefault(deployment.backend_of(source), source)
        if len(sources) == 2:
            break
    assert sorted(sources) == sorted(f"127.0.0.1:{b.port}" for b in deployment.backends)
    ana_from, bea_from = sources.values()
    process_of = {source: backend for backend, source in sources.items()}

    campaign = make_campaign()["id"]
    opened = []
    try:
        # Each process allows one live connection per address. Bea claims Ana's address in
        # X-Forwarded-For and still gets in: what a client writes there is not believed...
        ana = Visitor(deployment, ana_from)
        opened.append(ana)
        bea = Visitor(deployment, bea_from, headers={"X-Forwarded-For": ana_from})
        opened.append(bea)
        # ...while the address nginx saw is: a second socket from Ana's address is refused,
        # whatever it claims. (Were nginx's header ignored, both would be nginx's 127.0.0.1.)
        with pytest.raises(Refused) as refused:
            opened.append(
                Visitor(deployment, ana_from, headers={"X-Forwarded-For": "198.51.100.23"})
            )
        assert refused.value.data["data"]["error"]["code"] == "rate_limited", refused.value.data
        assert "open connections" in refused.value.data["data"]["error"]["message"]

        joined = ana.join(campaign)
        assert joined["ok"], joined
        assert joined["invite_url"] == f"{deployment.url}/s/{joined['session']}"
        assert bea.join(campaign, session=ana.session)["ok"]
        for viewer in (ana, bea):
            viewer.wait_for("presence", lambda data: data["count"] == 2)

        assert ana.act()["ok"] and bea.act()["ok"]
        for viewer in (ana, bea):
            viewer.wait_for(
                "progress", lambda data: data["total"] == 2 and data["session_total"] == 2
            )

        assert ana.say("Hello from the first process")["ok"]
        assert bea.say("And hello from the second")["ok"]
        for viewer, text in (
            (bea, "Hello from the first process"),
            (ana, "And hello from the second"),
        ):
            viewer.wait_for("message", lambda data, text=text: data["text"] == text)
    finally:
        for viewer in opened:
            viewer.close()

    # nginx logs a WebSocket when it closes: each one went to the process of its address.
    for source in (ana_from, bea_from):
        sockets = deployment.logged(
            lambda line, source=source: (
                line["client"] == source
                and line["path"].startswith("/socket.io/")
                and line["status"] == "101"
            )
        )
        assert sockets and {line["upstream"] for line in sockets} == {process_of[source]}
    assert process_of[ana_from] != process_of[bea_from]


def engineio_open(deployment: Deployment, origin: str) -> str | None:
    """The Engine.IO open packet a WebSocket through nginx from ``origin`` gets, or None."""
    return websocket_open_packet(deployment.url, origin, sslopt={"ca_certs": deployment.cert})


def test_sockets_through_nginx_come_from_our_origin_only(deployment):
    """nginx passes the Host as the browser sent it and the scheme in X-Forwarded-Proto, so
    the process's same-origin check sees https://HOST:PORT: our widget's socket is accepted,
    another site's (cross-site WebSocket hijacking) refused."""
    own = engineio_open(deployment, deployment.url)
    assert own and own.startswith('0{"sid":'), own
    for foreign in (
        "https://news.example",
        deployment.url.replace("https:", "http:"),
        deployment.url.rsplit(":", 1)[0],
    ):
        assert engineio_open(deployment, foreign) is None, foreign


def test_a_polling_client_stays_on_one_process(deployment, make_campaign):
    """A client that speaks HTTP long-polling (no WebSocket) sends many requests per
    connection; hashing its address keeps them on the process that holds its session."""
    web = requests.Session()
    web.verify, web.trust_env = deployment.cert, False
    client = socketio.Client(reconnection=False, http_session=web)
    client.connect(deployment.url, transports=["polling"], wait_timeout=10)
    try:
        campaign = make_campaign()["id"]
        assert client.call("join", {"campaign": campaign, "viewer": "v-polling"}, timeout=5)["ok"]
        for _ in range(3):
            assert client.call("act", {"id": uuid.uuid4().hex}, timeout=5)["ok"]
    finally:
        client.disconnect()
    polls = deployment.logged(lambda line: "transport=polling" in line["path"], 3)
    assert len({line["upstream"] for line in polls}) == 1, polls


# -- past one Redis: the example's cluster node ----------------------------------------------


def cluster_node_conf(node) -> str:
    """``examples/deploy/redis-cluster.conf`` with the line after each EDIT set for ``node``."""
    values = {"port": str(node.port), "bind": "127.0.0.1", "dir": str(node.directory)}
    lines, edit = [], False
    for line in (DEPLOY / "redis-cluster.conf").read_text().splitlines():
        if edit and not line.startswith("#"):
            name = line.split()[0]
            line = f"{name} {values[name]}"
            edit = False
        edit = edit or line.startswith("# EDIT")
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_socialads_runs_on_a_cluster_of_the_example_nodes(tmp_path):
    """Six nodes from the example's file (only its EDIT lines set), joined by `redis-cli
    --cluster create`: a `serve` process on their `redis+cluster://` URL is healthy, waits for
    a replica before it acknowledges, and a viewer joins and pledges."""
    cluster = EmbeddedCluster(tmp_path / "cluster", config=cluster_node_conf).start()
    server = None
    try:
        node = redis.Redis(port=cluster.ports[0], decode_responses=True)
        assert node.config_get("cluster-require-full-coverage") == {
            "cluster-require-full-coverage": "no"
        }
        assert node.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        assert node.config_get("appendonly")["appendonly"] == "yes"
        app = create_app({"REDIS_URL": cluster.url, "SECRET_KEY": SECRET, "MESSAGE_QUEUE": False})
        store = app.extensions["socialads.store"]
        assert store.ack_replicas == 1  # the default on a cluster whose masters have replicas
        cid = campaigns.create(store, store.create_brand("Cluster"), dict(CAMPAIGN)).id
        server = serve_process(cluster.url, tmp_path).spawn().wait_ready()
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
        viewer = Viewer(server.url)
        try:
            assert viewer.join(cid)["ok"]
            assert viewer.act()["ok"]
            viewer.wait_for("progress", lambda data: data["total"] == 1)
        finally:
            viewer.close()
    finally:
        if server:
            server.stop()
        cluster.stop()
