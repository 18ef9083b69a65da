"""Real server processes for the test suite and the benchmarks (never a mock)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A TCP port free on the loopback right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_healthy(url: str, process: subprocess.Popen, timeout: float, log) -> None:
    """Wait until the server ``process`` at ``url`` answers /healthz 200; raises with the end
    of its log (``log()``) when it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {log()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not healthy in {timeout}s: {log()[-2000:]}")


class ServeProcess:
    """A ``socialads serve`` process on a free port, logging to ``log_dir``."""

    def __init__(self, redis_url: str, log_dir: Path, secret: str, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_dir) / f"serve-{self.port}.log"
        self.env = {
            **os.environ,
            "SOCIALADS_REDIS_URL": redis_url,
            "SOCIALADS_SECRET_KEY": secret,
            "SOCIALADS_PUBLIC_URL": self.url,
            **env,
        }
        self.process: subprocess.Popen | None = None

    def spawn(self) -> ServeProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "socialads", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self, timeout: float = 30) -> ServeProcess:
        if self.process is None:
            raise RuntimeError("spawn() the process before waiting for it")
        wait_healthy(self.url, self.process, timeout, self.log_text)
        return self

    def start(self) -> ServeProcess:
        return self.spawn().wait_ready()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        stop_process(self.process)
