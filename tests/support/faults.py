"""A TCP proxy in front of a Redis that can silently cut the pub/sub connections through it,
for the tests that break things on purpose (issue #5)."""

from __future__ import annotations

import socket
import threading


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
            threading.Thread(
                target=self._pump, args=(link, client, upstream, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(link, upstream, client, False), daemon=True
            ).start()

    def _pump(
        self, link: _Link, source: socket.socket, target: socket.socket, upward: bool
    ) -> None:
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
