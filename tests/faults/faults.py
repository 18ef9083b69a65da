"""Helpers for the tests that break things on purpose (issue #5): their own Redis, campaigns
in it, /healthz, and a TCP proxy that can silently cut a process's pub/sub connections."""

from __future__ import annotations

import socket
import threading
import time
import uuid

import requests

from socialads import create_app
from socialads.domain import campaigns
from socialads.runtime.cli import make_brand

from ..conftest import CAMPAIGN, SECRET


def seed_campaign(redis_url: str, **fields) -> dict:
    """A brand and a live campaign in the Redis at ``redis_url``."""
    app = create_app({"REDIS_URL": redis_url, "SECRET_KEY": SECRET, "MESSAGE_QUEUE": False})
    store = app.extensions["socialads.store"]
    suffix = uuid.uuid4().hex[:8]
    brand = make_brand(store, f"Brand {suffix}", f"owner-{suffix}@example.test", "password123")
    return campaigns.create(store, brand["brand_id"], {**CAMPAIGN, **fields})


def health(url: str) -> tuple[int, dict]:
    answer = requests.get(url + "/healthz", timeout=10)
    return answer.status_code, answer.json()


def wait_until(predicate, timeout: float, step: float = 0.1, what: str = "condition") -> float:
    """Seconds it took ``predicate()`` to become true; fails after ``timeout``."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(step)
    return time.monotonic() - started


class _Link:
    def __init__(self, client: socket.socket, upstream: socket.socket):
        self.client, self.upstream = client, upstream
        self.subscriber = False  # it sent SUBSCRIBE: a pub/sub listener's connection
        self.cut = False

    def close(self) -> None:
        for sock in (self.client, self.upstream):
            try:
                sock.close()
            except OSError:
                pass


class RedisProxy:
    """A TCP proxy in front of a Redis. ``cut_listeners()`` makes every pub/sub connection
    through it silently dead (nothing passes, nothing is closed), as a dropped NAT entry or a
    network partition does: the listener on the other end keeps waiting, hearing nothing."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.links: list[_Link] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            link = _Link(client, upstream)
            with self.lock:
                self.links.append(link)
            threading.Thread(target=self._pump, args=(link, client, upstream, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(link, upstream, client, False),
                             daemon=True).start()

    def _pump(self, link: _Link, source: socket.socket, target: socket.socket,
              upward: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if upward and b"SUBSCRIBE" in data.upper():
                    link.subscriber = True
                if not link.cut:
                    target.sendall(data)
        except OSError:
            pass
        link.close()
        with self.lock:
            if link in self.links:
                self.links.remove(link)

    def cut_listeners(self) -> int:
        """Silence every pub/sub connection open now; returns how many."""
        with self.lock:
            listeners = [link for link in self.links if link.subscriber]
        for link in listeners:
            link.cut = True
        return len(listeners)

    def close(self) -> None:
        self.server.close()
        with self.lock:
            links = list(self.links)
        for link in links:
            link.close()
