"""What every figure of the bench shares: logging, percentiles, the processes it starts
(socialads and the baseline), /proc readings, and the setup objects (Redis, a brand)."""

from __future__ import annotations

import http.client
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from socialads import create_app
from socialads.domain import campaigns
from socialads.runtime.embedded_redis import EmbeddedRedis
from socialads.runtime.processes import ServeProcess, free_port, stop_process, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SECRET = "bench-secret-key"  # noqa: S105 - keys the bench's own throwaway servers only
T0 = time.monotonic()
HUGE = "[1000000, 1000000]"

# Every bench client connects from 127.0.0.1, so the per-address limits would see one
# office of thousands of people, and the bench's actors act far faster than a person. The
# limits stay on (their Redis scripts still run on every event: the cost is measured) but
# are raised out of reach. Only these variables differ from a default `socialads serve`.
LIMITS_ENV = {
    "SOCIALADS_ACT_RATE": HUGE,
    "SOCIALADS_JOIN_RATE": HUGE,
    "SOCIALADS_SAY_RATE": HUGE,
    "SOCIALADS_VIEWER_ACT_RATE": HUGE,
    "SOCIALADS_VIEWER_JOIN_RATE": HUGE,
    "SOCIALADS_VIEWER_SAY_RATE": HUGE,
    "SOCIALADS_IP_ACT_RATE": HUGE,
    "SOCIALADS_IP_JOIN_RATE": HUGE,
    "SOCIALADS_IP_SAY_RATE": HUGE,
    "SOCIALADS_IP_CONNECT_RATE": HUGE,
    "SOCIALADS_CONNECTIONS_PER_IP": "1000000",
}


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - T0:6.1f}s] {message}", file=sys.stderr, flush=True)


def percentile(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(min(rank, len(ordered))) - 1]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def spread_ms(samples: list[float]) -> dict:
    """p50/p95/p99/max in milliseconds of samples in seconds."""
    ordered = sorted(samples)
    return {
        "p50": ms(percentile(ordered, 50)),
        "p95": ms(percentile(ordered, 95)),
        "p99": ms(percentile(ordered, 99)),
        "max": ms(ordered[-1] if ordered else None),
        "samples": len(ordered),
    }


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's (and so its children's) open-file limit toward ``wanted``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# -- /proc ---------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def rss_kb(pid: int) -> int | None:
    """VmRSS of a process in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class CpuMeter:
    """CPU use (percent of one core) of some processes, and of the bench, over a window."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.start = {name: cpu_seconds(pid) for name, pid in pids.items()}
        self.self_start = time.process_time()
        self.wall = time.perf_counter()

    def stop(self) -> dict[str, float | None]:
        wall = time.perf_counter() - self.wall
        out: dict[str, float | None] = {}
        for name, pid in self.pids.items():
            now, before = cpu_seconds(pid), self.start[name]
            out[name] = (
                None if now is None or before is None else round(100 * (now - before) / wall, 1)
            )
        out["bench_clients"] = round(100 * (time.process_time() - self.self_start) / wall, 1)
        return out


# -- processes -----------------------------------------------------------------------------


class BaselineProcess:
    """``bench/baseline.py`` on a free port (see there), shaped like ``ServeProcess``."""

    def __init__(self, redis_url: str, log_dir: Path, mode: str = "incr", queue: bool = False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_dir) / f"baseline-{self.port}.log"
        self.args = [
            sys.executable,
            str(BENCH / "baseline.py"),
            "--port",
            str(self.port),
            "--mode",
            mode,
            "--redis",
            redis_url,
        ] + (["--queue"] if queue else [])
        self.process: subprocess.Popen | None = None

    def spawn(self) -> BaselineProcess:
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603
                self.args,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        return self

    def wait_ready(self, timeout: float = 30) -> BaselineProcess:
        wait_healthy(
            self.url, self.process, timeout, lambda: self.log_path.read_text(errors="replace")
        )
        return self

    def stop(self) -> None:
        stop_process(self.process)


class NodeProcess(BaselineProcess):
    """``bench/node_peer.mjs`` (socket.io 4.8 on Node, the baseline's events) on a free port."""

    def __init__(self, redis_url: str, log_dir: Path):
        super().__init__(redis_url, log_dir)
        self.log_path = Path(log_dir) / f"node-{self.port}.log"
        node = shutil.which("node") or "node"
        self.args = [node, str(BENCH / "node_peer.mjs"), "--port", str(self.port)]
        self.args += ["--redis", redis_url]


def nodes(redis_url: str, log_dir: Path) -> list[NodeProcess]:
    """One Node peer process (the peer is measured on one process only)."""
    return start_all([NodeProcess(redis_url, log_dir)])


def start_all(processes: list) -> list:
    """Spawn, then wait for, every process; stop them all if one fails."""
    try:
        for process in processes:
            process.spawn()
        for process in processes:
            process.wait_ready()
    except BaseException:
        stop_all(processes)
        raise
    return processes


def stop_all(processes) -> None:
    for process in processes:
        try:
            process.stop()
        except Exception as exc:  # noqa: BLE001 - teardown goes on
            log(f"stopping {process}: {exc}")


def ours(redis_url: str, log_dir: Path, count: int = 1, **env: str) -> list[ServeProcess]:
    """``count`` real ``socialads serve`` processes on one Redis, limits raised."""
    return start_all(
        [ServeProcess(redis_url, log_dir, SECRET, **{**LIMITS_ENV, **env}) for _ in range(count)]
    )


def baselines(
    redis_url: str, log_dir: Path, count: int = 1, mode: str = "incr"
) -> list[BaselineProcess]:
    """``count`` baseline processes; more than one share the Redis message queue."""
    return start_all(
        [BaselineProcess(redis_url, log_dir, mode, queue=count > 1) for _ in range(count)]
    )


def host_port(url: str) -> tuple[str, int]:
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def timed_gets(url: str, path: str, headers: dict, requests: int) -> dict:
    """``requests`` sequential GETs on one kept-alive connection, after 20 untimed ones:
    the server's own answer time, as close as HTTP gets to it."""
    host, port = host_port(url)
    connection = http.client.HTTPConnection(host, port, timeout=10)
    times, last = [], None
    try:
        for n in range(20 + requests):
            began = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
            if n >= 20:
                times.append(time.perf_counter() - began)
            last = body
    finally:
        connection.close()
    return {**spread_ms(times), "bytes": len(last or b"")}


# -- setup ---------------------------------------------------------------------------------


class Context:
    """What every figure shares: the Redis, an in-process app for setup, a temp dir."""

    def __init__(self, tmp: Path, redis_server: EmbeddedRedis, args):
        self.tmp = tmp
        self.redis = redis_server
        self.args = args
        self.profile_dir = getattr(args, "profile", None)
        self.app = create_app(
            {
                "REDIS_URL": redis_server.url,
                "SECRET_KEY": SECRET,
                "MESSAGE_QUEUE": False,
                "PUBLIC_URL": "http://127.0.0.1:5000",
            }
        )
        self.store = self.app.extensions["socialads.store"]
        self.brand_id = self.store.create_brand("Bench")

    def campaign(self, name: str, **fields) -> str:
        created = campaigns.create(
            self.store,
            self.brand_id,
            {
                "name": name,
                "activity": "pledge",
                "cause": {"title": "Plant trees"},
                "goal": 10**9,
                "status": "live",
                **fields,
            },
        )
        return created.id
