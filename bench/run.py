"""socialads benchmarks: the few figures that say whether the live service is fast enough.

`make bench` runs ``.venv/bin/python bench/run.py`` and prints ONE JSON document on stdout
(progress goes to stderr). Everything is started here and stopped in a ``finally``: a private
``redis-server`` in a temp dir and real ``socialads serve`` processes on free ports.

What is measured, and why:

- ``throughput``: K Socket.IO clients (own session each) fire ``act`` as fast as their acks
  come back, against ONE ``serve`` process: acked actions per second and ack latency (p50,
  p99). Counting actions is the product's hot path. The per-connection rate limit (a token
  bucket) would otherwise cap every client at 10 actions/s, so this process runs with
  ``SOCIALADS_ACT_RATE=[100000, 100000]``: we measure the server, not the limiter. The run
  also checks that the campaign total equals the number of distinct acked action ids
  (``exact``), and gives the physical floor: raw redis-py ``INCR`` per second on one
  connection, plain and pipelined.
- ``fanout``: N viewers in ONE shared session, half on each of TWO ``serve`` processes on one
  Redis; one actor acts once a second. For every (action, viewer) pair: the time from just
  before emitting ``act`` to that viewer's ``progress`` carrying the new total. This is what
  people in a room feel: "my friend pledged and I saw it". Every client lives in this one
  process, so the clocks agree (``time.perf_counter``); the delays include this process's own
  dispatch of many clients' events on a shared GIL, so they are an upper bound.
- ``weight``: the bytes a publisher's page and a viewer pay: ``embed.js`` and the widget's JS
  and CSS (raw, gzip, brotli, as built into ``static/dist``), the first-paint HTML of
  ``GET /w/<id>`` (raw, gzip -6), and the compressed total a widget loads.
- ``machine``: where the figures were taken (CPU count, Python, platform, UTC date).

Speed is measured here, never by timed assertions in tests: tests check behaviour and stay
reliable on slow or busy machines; this script reports numbers for people to compare.

A figure that fails gets an ``"error"`` field and the others still run; the exit status is 1
when any figure failed. ``--quick`` is a ~20 s run; the defaults take ~1 minute on 2 cores.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime
import gzip
import json
import os
import platform
import re
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from pathlib import Path

import redis
import socketio

from socialads import campaigns, create_app
from socialads.embedded_redis import EmbeddedRedis
from socialads.testing import ServeProcess

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "static" / "dist"
SECRET = "bench-secret-key"  # noqa: S105 - keys the bench's own throwaway servers only
T0 = time.monotonic()

DEFAULTS = {"clients": 20, "seconds": 10.0, "viewers": 100, "fanout_seconds": 8,
            "floor_seconds": 1.5}
QUICK = {"clients": 10, "seconds": 4.0, "viewers": 40, "fanout_seconds": 4,
         "floor_seconds": 0.75}


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


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class CpuMeter:
    """CPU use (percent of one core) of some processes over a window."""

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
            out[name] = None if now is None or before is None else round(
                100 * (now - before) / wall, 1)
        out["bench_clients"] = round(100 * (time.process_time() - self.self_start) / wall, 1)
        return out


def start_servers(redis_url: str, log_dir: Path, count: int, **env: str) -> list[ServeProcess]:
    servers = [ServeProcess(redis_url, log_dir, SECRET, **env) for _ in range(count)]
    try:
        for server in servers:
            server.spawn()
        for server in servers:
            server.wait_ready()
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


def connect(url: str) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    client.connect(url, transports=["websocket"], wait_timeout=10)
    return client


def close_all(clients: list[socketio.Client]) -> None:
    """Disconnect clients in parallel; never hang the bench on one."""
    def close(client):
        try:
            if client.connected:
                client.disconnect()
        except Exception:  # noqa: BLE001, S110 - best effort at teardown
            pass

    if not clients:
        return
    pool = cf.ThreadPoolExecutor(max_workers=16)
    futures = [pool.submit(close, client) for client in clients]
    cf.wait(futures, timeout=20)
    pool.shutdown(wait=False, cancel_futures=True)


def joined(client: socketio.Client, payload: dict) -> dict:
    ack = client.call("join", payload, timeout=15)
    if not ack or not ack.get("ok"):
        raise RuntimeError(f"join failed: {ack}")
    return ack


class Context:
    """What every figure shares: the Redis, an in-process app for setup, a temp dir."""

    def __init__(self, tmp: Path, redis_server: EmbeddedRedis):
        self.tmp = tmp
        self.redis = redis_server
        self.app = create_app({"REDIS_URL": redis_server.url, "SECRET_KEY": "bench",
                               "MESSAGE_QUEUE": False,
                               "PUBLIC_URL": "http://127.0.0.1:5000"})
        self.store = self.app.extensions["socialads.store"]
        self.brand_id = self.store.create_brand("Bench")

    def campaign(self, name: str) -> str:
        created = campaigns.create(self.store, self.brand_id, {
            "name": name, "activity": "pledge", "cause": {"title": "t"}, "goal": 10**9,
            "status": "live"})
        return created["id"]


# -- throughput ---------------------------------------------------------------------------

def redis_floor(url: str, seconds: float, batch: int = 100) -> dict:
    client = redis.Redis.from_url(url)
    key = "bench:floor:" + uuid.uuid4().hex
    try:
        client.ping()
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(100):
                client.incr(key)
            count += 100
        plain = count / elapsed
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            pipe = client.pipeline(transaction=False)
            for _ in range(batch):
                pipe.incr(key)
            pipe.execute()
            count += batch
        pipelined = count / elapsed
        return {"incr_per_s": round(plain), "pipelined_incr_per_s": round(pipelined),
                "pipeline_batch": batch, "connections": 1, "seconds_each": seconds}
    finally:
        client.delete(key)
        client.close()


def throughput(ctx: Context, args) -> dict:
    out: dict = {"rate_limit": "disabled for this figure (SOCIALADS_ACT_RATE=[100000, 100000], "
                               "SOCIALADS_VIEWER_ACT_RATE and _IP_ACT_RATE null)",
                 "server_processes": 1, "clients": args.clients}
    log(f"throughput: redis floor ({args.floor_seconds}s each, plain and pipelined)")
    out["redis_floor"] = redis_floor(ctx.redis.url, args.floor_seconds)
    log(f"throughput: redis floor {out['redis_floor']}")
    cid = ctx.campaign("bench throughput")
    servers: list[ServeProcess] = []
    clients: list[socketio.Client] = []
    try:
        servers = start_servers(ctx.redis.url, ctx.tmp, 1,
                                SOCIALADS_ACT_RATE="[100000, 100000]",
                                SOCIALADS_VIEWER_ACT_RATE="null", SOCIALADS_IP_ACT_RATE="null")
        server = servers[0]
        log(f"throughput: serve up on {server.url}; connecting {args.clients} clients")
        def add(_) -> None:
            client = connect(server.url)
            clients.append(client)  # kept even if another connect fails: closed in finally

        with cf.ThreadPoolExecutor(max_workers=min(16, args.clients)) as pool:
            list(pool.map(add, range(args.clients)))
            list(pool.map(lambda pair: joined(pair[1], {
                "campaign": cid, "viewer": f"bench-t-{pair[0]}"}), enumerate(clients)))

        acked: set[str] = set()
        latencies: list[list[float]] = [[] for _ in clients]
        errors: Counter = Counter()
        last_total = [0]
        lock = threading.Lock()
        window = [0.0, 0.0]  # start, stop: set as the barrier releases everyone

        def open_window() -> None:
            window[0] = time.perf_counter()
            window[1] = window[0] + args.seconds

        go = threading.Barrier(len(clients) + 1, action=open_window)
        finished: list[float] = []

        def fire(index: int, client: socketio.Client) -> None:
            mine = latencies[index]
            # Warm up (not timed, still counted in the exactness check).
            for n in range(3):
                aid = f"w{index}-{n}"
                ack = client.call("act", {"id": aid}, timeout=10)
                if ack.get("ok") and not ack.get("duplicate"):
                    with lock:
                        acked.add(aid)
            go.wait()
            n = 0
            while time.perf_counter() < window[1]:
                aid = f"t{index}-{n}"
                n += 1
                began = time.perf_counter()
                try:
                    ack = client.call("act", {"id": aid}, timeout=10)
                except socketio.exceptions.TimeoutError:
                    with lock:
                        errors["timeout"] += 1
                    continue
                mine.append(time.perf_counter() - began)
                if ack.get("ok"):
                    with lock:
                        if not ack.get("duplicate"):
                            acked.add(aid)
                        last_total[0] = max(last_total[0], ack["total"])
                else:
                    with lock:
                        errors[ack.get("error", {}).get("code", "unknown")] += 1
            with lock:
                finished.append(time.perf_counter())

        threads = [threading.Thread(target=fire, args=(i, c), daemon=True)
                   for i, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        log(f"throughput: firing for {args.seconds}s")
        go.wait(timeout=30)
        meter = CpuMeter({"serve": server.process.pid, "redis": ctx.redis.process.pid})
        with lock:
            warm = len(acked)
        began = window[0]
        for thread in threads:
            thread.join(args.seconds + 30)
        cpu = meter.stop()
        elapsed = (max(finished) if finished else time.perf_counter()) - began
        timed = len(acked) - warm
        merged = sorted(x for part in latencies for x in part)
        campaign_total = int(ctx.store.stats(cid)["total"])
        out.update({
            "seconds": round(elapsed, 2),
            "acked": timed,
            "actions_per_s": round(timed / elapsed, 1),
            "ack_latency_ms": {"p50": ms(percentile(merged, 50)),
                               "p99": ms(percentile(merged, 99)),
                               "max": ms(merged[-1] if merged else None)},
            "errors": dict(errors),
            "distinct_acked_ids": len(acked),
            "campaign_total": campaign_total,
            "last_ack_total": last_total[0],
            "exact": campaign_total == len(acked) == last_total[0],
            "cpu_percent_of_one_core": cpu,
        })
        log(f"throughput: {out['actions_per_s']} actions/s, p50 "
            f"{out['ack_latency_ms']['p50']} ms, exact={out['exact']}")
        return out
    finally:
        close_all(clients)
        for server in servers:
            server.stop()


# -- fanout -------------------------------------------------------------------------------

class Watcher:
    """One viewer: records when each ``progress`` total arrives, and the presence count."""

    def __init__(self, url: str, index: int):
        self.index = index
        self.url = url
        self.received: dict[int, float] = {}  # total -> first arrival (perf_counter)
        self.presence = 0
        self.changed = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("progress", self._progress)
        self.client.on("presence", self._presence)

    def _progress(self, data):
        now = time.perf_counter()
        with self.changed:
            self.received.setdefault(int(data["total"]), now)
            self.changed.notify_all()

    def _presence(self, data):
        with self.changed:
            self.presence = int(data.get("count", 0))
            self.changed.notify_all()

    def start(self, cid: str, session: str) -> Watcher:
        self.client.connect(self.url, transports=["websocket"], wait_timeout=10)
        joined(self.client, {"campaign": cid, "session": session,
                             "viewer": f"bench-f-{self.index}"})
        return self


def wait_all(watchers: list[Watcher], predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    for watcher in watchers:
        with watcher.changed:
            while not predicate(watcher):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                watcher.changed.wait(remaining)
    return True


def fanout(ctx: Context, args) -> dict:
    out: dict = {"viewers": args.viewers, "server_processes": 2, "actions": 0,
                 "rate_limit": "defaults (one action per second stays far below it)"}
    cid = ctx.campaign("bench fanout")
    servers: list[ServeProcess] = []
    watchers: list[Watcher] = []
    actor = None
    try:
        servers = start_servers(ctx.redis.url, ctx.tmp, 2)
        log(f"fanout: serve up on {servers[0].url} and {servers[1].url}; "
            f"joining {args.viewers} viewers")
        actor = connect(servers[0].url)
        session = joined(actor, {"campaign": cid, "viewer": "bench-actor"})["session"]
        began = time.perf_counter()
        watchers = [Watcher(servers[i % 2].url, i) for i in range(args.viewers)]
        with cf.ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda w: w.start(cid, session), watchers))
        out["join_seconds"] = round(time.perf_counter() - began, 2)
        out["per_server"] = [sum(1 for w in watchers if w.url == s.url) for s in servers]
        everyone = args.viewers + 1
        out["presence_settled"] = wait_all(watchers, lambda w: w.presence == everyone, 30)
        log(f"fanout: {args.viewers} joined in {out['join_seconds']}s, presence settled: "
            f"{out['presence_settled']}; acting once a second for {args.fanout_seconds}s")

        meter = CpuMeter({"serve_a": servers[0].process.pid, "serve_b": servers[1].process.pid,
                          "redis": ctx.redis.process.pid})
        acts: list[tuple[float, int]] = []
        ack_latencies: list[float] = []
        tick = time.perf_counter()
        for n in range(args.fanout_seconds):
            sent = time.perf_counter()
            ack = actor.call("act", {"id": f"f-{n}"}, timeout=10)
            ack_latencies.append(time.perf_counter() - sent)
            if not ack.get("ok"):
                raise RuntimeError(f"act failed: {ack}")
            acts.append((sent, int(ack["total"])))
            tick += 1
            time.sleep(max(0.0, tick - time.perf_counter()))
        last = acts[-1][1]
        drained = wait_all(watchers, lambda w: last in w.received, 5)
        cpu = meter.stop()

        delays: list[float] = []
        missed = 0
        for sent, total in acts:
            for watcher in watchers:
                arrived = watcher.received.get(total)
                if arrived is None:
                    missed += 1
                else:
                    delays.append(arrived - sent)
        delays.sort()
        out.update({
            "actions": len(acts),
            "pairs": len(acts) * len(watchers),
            "missed": missed,
            "drained": drained,
            "latency_ms": {"p50": ms(percentile(delays, 50)), "p95": ms(percentile(delays, 95)),
                           "p99": ms(percentile(delays, 99)),
                           "max": ms(delays[-1] if delays else None)},
            "actor_ack_ms": {"p50": ms(percentile(sorted(ack_latencies), 50)),
                             "max": ms(max(ack_latencies))},
            "cpu_percent_of_one_core": cpu,
            "note": "from just before emitting act to each viewer's progress with that total; "
                    "all clients in this one Python process (shared GIL): an upper bound",
        })
        log(f"fanout: p50 {out['latency_ms']['p50']} ms, p99 {out['latency_ms']['p99']} ms, "
            f"missed {missed}")
        return out
    finally:
        log("fanout: closing clients")
        close_all([w.client for w in watchers] + ([actor] if actor else []))
        for server in servers:
            server.stop()


# -- weight -------------------------------------------------------------------------------

def sizes(path: Path) -> dict:
    raw = path.read_bytes()
    found = {"file": str(path.relative_to(DIST)), "raw": len(raw)}
    for suffix, name in ((".gz", "gz"), (".br", "br")):
        sibling = path.with_name(path.name + suffix)
        found[name] = sibling.stat().st_size if sibling.is_file() else None
    if found["gz"] is None:
        found["gz"] = len(gzip.compress(raw, 9))
        found["gz_note"] = "not built; computed here at level 9"
    return found


def weight(ctx: Context, args) -> dict:
    manifest = json.loads((DIST / "manifest.json").read_text())
    out: dict = {"embed_js": sizes(DIST / manifest.get("embed.js", "embed.js"))}
    cid = ctx.campaign("bench weight")
    response = ctx.app.test_client().get(f"/w/{cid}")
    if response.status_code != 200:
        raise RuntimeError(f"GET /w/{cid}: {response.status_code}")
    html = response.get_data()
    out["widget_html"] = {"raw": len(html), "gzip6": len(gzip.compress(html, 6))}
    referenced = sorted(set(re.findall(rb'/static/([^"\'?#\s]+)', html)))
    out["widget_html"]["loads"] = [name.decode() for name in referenced]
    activity = "pledge"
    js = manifest.get(f"widgets/{activity}.js")
    css = manifest.get(f"widgets/{activity}.css")
    if not js or not css:
        raise RuntimeError(f"manifest.json names no widgets/{activity}.js/.css: {manifest}")
    out["widget_js"] = sizes(DIST / js)
    out["widget_css"] = sizes(DIST / css)
    out["activity"] = activity
    out["widget_total_compressed"] = (out["widget_html"]["gzip6"] + out["widget_css"]["br"]
                                      + out["widget_js"]["br"])
    out["widget_total_note"] = "HTML gzip -6 + CSS br + JS br (what one widget view loads)"
    unexpected = set(out["widget_html"]["loads"]) - {js, css}
    if unexpected:
        out["widget_total_note"] += f"; the HTML also loads {sorted(unexpected)} (not counted)"
    return out


# -- main ---------------------------------------------------------------------------------

def machine() -> dict:
    return {"cpu_count": os.cpu_count(), "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            # Other work on the machine skews every figure: look here before comparing runs.
            "load_avg_1m_at_start": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg")
            else None}


def run_figure(name: str, function, ctx: Context, args) -> dict:
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


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a ~20 s run with smaller sizes")
    parser.add_argument("--clients", type=int, help=f"throughput clients "
                        f"(default {DEFAULTS['clients']}, quick {QUICK['clients']})")
    parser.add_argument("--seconds", type=float, help=f"throughput duration "
                        f"(default {DEFAULTS['seconds']}, quick {QUICK['seconds']})")
    parser.add_argument("--viewers", type=int, help=f"fanout viewers "
                        f"(default {DEFAULTS['viewers']}, quick {QUICK['viewers']})")
    parser.add_argument("--fanout-seconds", type=int, help=f"fanout actions, one a second "
                        f"(default {DEFAULTS['fanout_seconds']}, "
                        f"quick {QUICK['fanout_seconds']})")
    parser.add_argument("--floor-seconds", type=float, help="redis INCR floor duration, each "
                        f"(default {DEFAULTS['floor_seconds']}, quick {QUICK['floor_seconds']})")
    parser.add_argument("--only", action="append", choices=["throughput", "fanout", "weight"],
                        help="run only these figures (repeatable)")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.clients < 1 or args.viewers < 1 or args.fanout_seconds < 1 or args.seconds <= 0:
        parser.error("sizes must be positive")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    # SIGTERM (e.g. from make or CI) unwinds through the finally blocks like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not (DIST / "manifest.json").is_file():
        log("static/dist is missing: run `make build` (the widget page needs it)")
    figures = {"throughput": throughput, "fanout": fanout, "weight": weight}
    wanted = args.only or list(figures)
    result: dict = {"machine": machine()}
    result["machine"]["mode"] = "quick" if args.quick else "default"
    redis_server = None
    with tempfile.TemporaryDirectory(prefix="socialads-bench-") as tmp:
        try:
            redis_server = EmbeddedRedis(Path(tmp) / "redis", appendonly=False).start()
            log(f"redis on {redis_server.url}")
            ctx = Context(Path(tmp), redis_server)
            for name, function in figures.items():
                if name in wanted:
                    result[name] = run_figure(name, function, ctx, args)
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
    result["machine"]["run_seconds"] = round(time.monotonic() - T0, 1)
    print(json.dumps(result, indent=2))
    failed = [name for name in wanted if "error" in result.get(name, {})]
    if failed:
        log(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
