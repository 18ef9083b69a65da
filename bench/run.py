"""socialads benchmarks: every figure measured side by side with a bare baseline, in one run.

`make bench` runs ``.venv/bin/python bench/run.py``. It starts everything itself (a private
``redis-server`` in a temp dir, real ``socialads serve`` processes, the bare Flask-SocketIO
baseline of ``bench/baseline.py``) and stops it all in ``finally`` blocks. It prints ONE
JSON document on stdout (also written to ``--out``), then the readable table and the
targets of issue #6 with pass/fail on stderr (progress lines go there too), and draws
latency against viewers into ``--plot``.

The figures, one module each (their docstrings say exactly what is measured):
``throughput.py`` (acked actions/s vs an ack-only handler and raw INCR), ``fanout.py``
(action-to-viewer latency at 1 action/s and under a 1,000/s burst, on one and two
processes), ``memory.py`` (RSS per idle viewer at 1,000 and 5,000), ``stats.py`` (the
admin stats endpoint at 1,000,000 recorded actions), ``browser.py`` (bytes, requests and
time to interactive in headless Chromium), ``redis_bytes.py`` (Redis bytes per 1,000,000
counted actions and per 100,000 idle sessions, each workload on a redis-server of its own),
``scale.py`` with ``scale_hot.py`` (on a 3-master Redis Cluster: bus messages 8 processes hear
as campaigns go from 1 to 200, Redis CPU per shard, and one hot campaign on 1 and on 3 shards,
with the concurrent viewers the busiest shard carries).
``sio.py`` is the lean Socket.IO client that lets one process hold thousands of viewers;
``targets.py`` judges, ``report.py`` prints.

Every bench client connects from 127.0.0.1, so socialads' per-address and per-viewer
limits are raised out of reach for the bench's processes (``common.LIMITS_ENV``, listed in
the JSON under ``machine.bench_env``): they are still evaluated on every event. Redis runs
without persistence (AOF off) for both sides.

Speed is measured here, never by timed assertions in tests. ``--quick`` is a 2-3 minute
run with smaller sizes; the default run takes about 7 minutes on 2 cores (the issue
allows 10; the scale figure about 2 of them, 1 in ``--quick``). A figure that
fails gets an ``"error"`` and the others still run; the exit status is 1 when one failed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, LIMITS_ENV, T0, Context, log, raise_fd_limit  # noqa: E402

from socialads.runtime.embedded_redis import EmbeddedRedis  # noqa: E402

FULL = {
    "viewers": "100,1000,5000",
    "processes": "1,2",
    "actions": 10,
    "burst_rate": 1000,
    "burst_seconds": 5.0,
    "baseline_burst_viewers": 20,
    "settle_timeout": 10.0,
    "cpu_rate": 20,
    "cpu_seconds": 5.0,
    "clients": 32,
    "seconds": 8.0,
    "floor_seconds": 1.5,
    "memory_viewers": "1000,5000",
    "stats_actions": 1_000_000,
    "stats_requests": 500,
    "browser_runs": 5,
    "redis_actions": 40_000,
    "redis_sessions": 10_000,
    "scale_campaigns": "1,10,50,200",
    "scale_rate": 100,
    "scale_seconds": 10.0,
    "hot_viewers": 1500,
    "hot_seconds": 8.0,
}
QUICK = {
    "viewers": "100",
    "processes": "1,2",
    "actions": 3,
    "burst_rate": 1000,
    "burst_seconds": 2.0,
    "baseline_burst_viewers": 20,
    "settle_timeout": 5.0,
    "cpu_rate": 20,
    "cpu_seconds": 2.0,
    "clients": 32,
    "seconds": 3.0,
    "floor_seconds": 0.5,
    "memory_viewers": "500,1000",
    "stats_actions": 100_000,
    "stats_requests": 200,
    "browser_runs": 3,
    "redis_actions": 10_000,
    "redis_sessions": 2_000,
    "scale_campaigns": "1,20",
    "scale_rate": 100,
    "scale_seconds": 4.0,
    "hot_viewers": 300,
    "hot_seconds": 3.0,
}
FIGURES = ("throughput", "fanout", "memory", "stats", "browser", "redis", "scale")
MAX_VIEWERS = 5000


def machine(mode: str) -> dict:
    cpu, ram = None, None
    try:
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            None,
        )
        kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        ram = round(kib / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git": git_state(),
        "mode": mode,
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": ram,
        "python": platform.python_version(),
        "platform": platform.platform(),
        # Other work on the machine skews every figure: look here before comparing runs.
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
        "bench_env": LIMITS_ENV,
        "redis": "private redis-server, AOF off",
    }


def git_state() -> str | None:
    """The commit measured, and how many files differ from it (others may be editing)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=BENCH,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain"],  # noqa: S607
            cwd=BENCH,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    count = len(changed.splitlines())
    return commit + (f" + {count} changed files" if count else "")


def run_figure(name: str, ctx: Context, args) -> dict:
    from browser import browser_figure
    from fanout import fanout
    from memory import memory
    from redis_bytes import redis_figure
    from scale import scale_figure
    from stats import stats
    from throughput import throughput

    function = {
        "throughput": throughput,
        "fanout": fanout,
        "memory": memory,
        "stats": stats,
        "browser": browser_figure,
        "redis": redis_figure,
        "scale": scale_figure,
    }[name]
    log(f"{name}: start")
    began = time.monotonic()
    try:
        result = function(ctx, args)
    except Exception as exc:  # noqa: BLE001 - one figure's failure must not hide the others
        traceback.print_exc(file=sys.stderr)
        result = {"error": f"{type(exc).__name__}: {exc}"}
    result["run_seconds"] = round(time.monotonic() - began, 1)
    log(f"{name}: done in {result['run_seconds']}s")
    return result


def sizes(text: str, name: str, parser) -> list[int]:
    try:
        values = sorted({int(part) for part in str(text).split(",") if part.strip()})
    except ValueError:
        parser.error(f"--{name}: a comma-separated list of numbers")
    if not values or values[0] < 1:
        parser.error(f"--{name}: positive numbers")
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 1-2 minute run, smaller sizes")
    parser.add_argument(
        "--only", action="append", choices=FIGURES, help="run only these figures (repeatable)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCH / "results.json",
        help="where the JSON goes too (default bench/results.json)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=BENCH / "latency.png",
        help="the latency-against-viewers plot (default bench/latency.png)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy the server during throughput and CPU per update; stacks into DIR",
    )
    parser.add_argument(
        "--logs",
        type=Path,
        metavar="DIR",
        help="keep the servers' logs (and Redis's) in DIR, not a temp dir",
    )
    group = parser.add_argument_group("sizes (defaults: full run / --quick)")
    add = group.add_argument
    add(
        "--viewers",
        help=f"fan-out crowd sizes, comma-separated, up to {MAX_VIEWERS} "
        f"({FULL['viewers']} / {QUICK['viewers']})",
    )
    add("--processes", help=f"fan-out server processes ({FULL['processes']})")
    add("--group-size", type=int, default=5, help="friends per session (5)")
    add(
        "--actions",
        type=int,
        help=f"fan-out actions at 1/s ({FULL['actions']} / {QUICK['actions']})",
    )
    add("--burst-rate", type=int, help=f"burst actions/s ({FULL['burst_rate']})")
    add(
        "--burst-seconds",
        type=float,
        help=f"burst length ({FULL['burst_seconds']} / {QUICK['burst_seconds']}; 0: no burst)",
    )
    add(
        "--baseline-burst-viewers",
        type=int,
        help="the baseline's burst crowd "
        f"({FULL['baseline_burst_viewers']}): it sends every action to every viewer",
    )
    add(
        "--settle-timeout",
        type=float,
        help=f"the longest wait for the final total after a burst ({FULL['settle_timeout']} s)",
    )
    add("--cpu-rate", type=int, help=f"actions/s for CPU per update ({FULL['cpu_rate']})")
    add(
        "--cpu-seconds",
        type=float,
        help=f"CPU-per-update window ({FULL['cpu_seconds']} / {QUICK['cpu_seconds']}; 0: skip)",
    )
    add("--clients", type=int, help=f"throughput connections ({FULL['clients']})")
    add("--seconds", type=float, help=f"throughput window ({FULL['seconds']} / {QUICK['seconds']})")
    add(
        "--floor-seconds",
        type=float,
        help=f"redis INCR floor, each way ({FULL['floor_seconds']} / {QUICK['floor_seconds']})",
    )
    add(
        "--memory-viewers",
        help=f"idle crowd sizes ({FULL['memory_viewers']} / {QUICK['memory_viewers']})",
    )
    add(
        "--stats-actions",
        type=int,
        help=f"actions recorded before timing stats "
        f"({FULL['stats_actions']:,} / {QUICK['stats_actions']:,})",
    )
    add("--stats-requests", type=int, help=f"timed stats requests ({FULL['stats_requests']})")
    add(
        "--browser-runs",
        type=int,
        help=f"time-to-interactive loads ({FULL['browser_runs']} / {QUICK['browser_runs']})",
    )
    add(
        "--redis-actions",
        type=int,
        help="actions per workload of the Redis bytes figure "
        f"({FULL['redis_actions']:,} / {QUICK['redis_actions']:,})",
    )
    add(
        "--redis-sessions",
        type=int,
        help=f"idle sessions of the Redis bytes figure "
        f"({FULL['redis_sessions']:,} / {QUICK['redis_sessions']:,})",
    )
    add(
        "--scale-campaigns",
        help="campaigns on the cluster the scale figure steps through "
        f"({FULL['scale_campaigns']} / {QUICK['scale_campaigns']})",
    )
    add(
        "--scale-rate",
        type=int,
        help=f"actions/s in the campaigns process 0 does not serve ({FULL['scale_rate']})",
    )
    add(
        "--scale-seconds",
        type=float,
        help=f"the scale figure's window per step ({FULL['scale_seconds']} / "
        f"{QUICK['scale_seconds']})",
    )
    add(
        "--hot-viewers",
        type=int,
        help=f"viewers joining the hot campaign ({FULL['hot_viewers']:,} / {QUICK['hot_viewers']})",
    )
    add(
        "--hot-seconds",
        type=float,
        help=f"the hot campaign's action (and idle) window ({FULL['hot_seconds']} / "
        f"{QUICK['hot_seconds']})",
    )
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.viewers = sizes(args.viewers, "viewers", parser)
    args.processes = sizes(args.processes, "processes", parser)
    args.memory_viewers = sizes(args.memory_viewers, "memory-viewers", parser)
    args.scale_campaigns = sizes(args.scale_campaigns, "scale-campaigns", parser)
    if max(args.viewers + args.memory_viewers) > MAX_VIEWERS:
        parser.error(f"at most {MAX_VIEWERS} viewers")
    if (
        min(
            args.actions,
            args.clients,
            args.group_size,
            args.browser_runs,
            args.stats_requests,
            args.burst_rate,
            args.redis_actions,
            args.redis_sessions,
            args.scale_rate,
            args.hot_viewers,
        )
        < 1
        or min(args.seconds, args.scale_seconds, args.hot_seconds) <= 0
    ):
        parser.error("sizes must be positive")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    # SIGTERM (e.g. from make or CI) unwinds through the finally blocks like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    crowd = max(args.viewers + args.memory_viewers + [args.hot_viewers]) + 200
    limit = raise_fd_limit(max(4096, 3 * crowd))
    if limit < 2 * crowd:
        log(f"open-file limit {limit} is low for {crowd} connections: raise `ulimit -n`")
    wanted = args.only or list(FIGURES)
    result: dict = {"machine": machine("quick" if args.quick else "default")}
    redis_server = None
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.nullcontext(str(args.logs))
        if args.logs
        else tempfile.TemporaryDirectory(prefix="socialads-bench-")
    ) as tmp:
        try:
            redis_server = EmbeddedRedis(Path(tmp) / "redis", appendonly=False).start()
            log(f"redis on {redis_server.url}; figures: {', '.join(wanted)}")
            ctx = Context(Path(tmp), redis_server, args)
            for name in FIGURES:
                if name in wanted:
                    result[name] = run_figure(name, ctx, args)
        except Exception as exc:  # noqa: BLE001 - setup failed: say so in the JSON
            traceback.print_exc(file=sys.stderr)
            for name in wanted:
                result.setdefault(name, {"error": f"setup: {type(exc).__name__}: {exc}"})
        except BaseException:
            log("interrupted: stopping the servers and Redis; no JSON")
            raise
        finally:
            if redis_server:
                redis_server.stop()
    from report import plot, render
    from targets import judge

    result["machine"]["run_seconds"] = round(time.monotonic() - T0, 1)
    result["targets"] = judge(result)
    problem = plot(result, args.plot) if "fanout" in wanted else "no fan-out run"
    result["machine"]["plot"] = problem or str(args.plot)
    text = json.dumps(result, indent=2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text, flush=True)
    print("\n" + render(result) + "\n", file=sys.stderr, flush=True)
    log(f"JSON in {args.out}; plot: {result['machine']['plot']}")
    failed = [name for name in wanted if "error" in result.get(name, {})]
    if failed:
        log(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
