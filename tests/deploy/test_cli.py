"""CONTRACT §1: the command line, run as a user would run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from socialads.runtime.processes import free_port


def socialads(*args, redis_url: str, check: bool = True):
    env = {**os.environ, "SOCIALADS_REDIS_URL": redis_url}
    env.pop("SOCIALADS_SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "socialads", *args],
        env=env,
        check=check,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_brand_and_token_create_print_json(redis_server, client):
    out = socialads(
        "brand",
        "create",
        "Acme Outdoor",
        "--email",
        "Team@Acme.test",
        "--password",
        "correct horse",
        redis_url=redis_server.url,
    )
    brand = json.loads(out.stdout)
    assert brand["brand_id"] and brand["api_token"]
    auth = {"Authorization": f"Bearer {brand['api_token']}"}
    assert client.get("/api/v1/campaigns", headers=auth).status_code == 200

    again = socialads(
        "brand",
        "create",
        "Copycat",
        "--email",
        "team@acme.test",
        "--password",
        "whatever1",
        redis_url=redis_server.url,
        check=False,
    )
    assert again.returncode != 0 and "already exists" in again.stderr

    token = json.loads(
        socialads(
            "token", "create", "--brand", brand["brand_id"], redis_url=redis_server.url
        ).stdout
    )["api_token"]
    assert token != brand["api_token"]
    assert (
        client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    missing = socialads(
        "token", "create", "--brand", "b_nope", redis_url=redis_server.url, check=False
    )
    assert missing.returncode != 0 and "no brand" in missing.stderr


def test_passwords_are_hashed(redis_server, store):
    socialads(
        "brand",
        "create",
        "Hashy",
        "--email",
        "hash@acme.test",
        "--password",
        "plain-text-secret",
        redis_url=redis_server.url,
    )
    user = store.get_user("hash@acme.test")
    assert user["password_hash"].startswith("$argon2") and "plain-text-secret" not in str(user)


def test_serve_requires_a_secret_key(redis_server):
    out = socialads("serve", "--port", str(free_port()), redis_url=redis_server.url, check=False)
    assert out.returncode != 0 and "SOCIALADS_SECRET_KEY" in out.stderr


def free_port_pair() -> int:
    """A port P with P + 1 also free: the demo serves the publisher page on P + 1."""
    import socket

    while True:
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm", "sigint-after-ignored"])
def test_demo_runs_and_stops_cleanly(tmp_path, stop):
    port = free_port_pair()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALADS_")}
    env["SOCIALADS_INSTANCE_DIR"] = str(tmp_path)
    demo = subprocess.Popen(
        [sys.executable, "-m", "socialads", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # a shell without job control starts background jobs ignoring SIGINT
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if stop == "sigint-after-ignored"
        else None,
    )
    lines = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        text = "".join(lines)
        assert "Press Ctrl-C" in text, text
        assert f"http://localhost:{port + 1}/" in text and "sat_" in text
        assert "demo@socialads.test" in text
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok
        page = requests.get(f"http://localhost:{port + 1}/", timeout=5).text
        assert f'src="http://127.0.0.1:{port}/embed.js"' in page
        campaign = page.split('data-campaign="')[1].split('"')[0]
        widget = requests.get(f"http://127.0.0.1:{port}/w/{campaign}", timeout=5)
        assert widget.status_code == 200 and "Pledge a tree" in widget.text
    finally:
        if stop == "ctrl-c":
            os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        elif stop == "sigterm":
            demo.terminate()  # a service manager stops only the main process
        else:
            demo.send_signal(signal.SIGINT)
        demo.wait(20)
    assert "stopped" in demo.stdout.read()
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout == "", "processes left behind"
    assert (tmp_path / "redis" / "appendonlydir").is_dir() or list(
        (tmp_path / "redis").glob("appendonly*")
    )


def test_a_demo_started_on_another_port_may_be_framed_by_its_new_publisher_page(
    app, store, tmp_path
):
    from socialads.runtime.demo import _seed

    state_file = tmp_path / "demo.json"
    first = _seed(app, state_file, "http://localhost:5001")
    again = _seed(app, state_file, "http://localhost:6001")
    assert again["campaign_id"] == first["campaign_id"]  # the same campaign, kept
    origins = store.get_campaign(first["campaign_id"]).allowed_origins
    assert origins == ("http://localhost:5001", "http://localhost:6001")
    _seed(app, state_file, "http://localhost:6001")  # nothing new to allow
    assert store.get_campaign(first["campaign_id"]).allowed_origins == origins
