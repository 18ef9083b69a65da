"""Redis memory: bytes per 1,000,000 counted actions and per 100,000 idle sessions.

Each workload gets a fresh ``redis-server`` of its own (temp dir, free port, AOF off), so
``used_memory`` after - before is what it left in Redis, all written by the project's ``Store``:

- **actions** (``--redis-actions`` per workload): ``Store.record_action`` one by one (the group
  commit's path: an action that finds nothing in flight goes alone) as ``Viewers.act`` calls
  it: UUID viewer and action ids (as the widget makes them), ``SESSIONS`` sessions of one live
  campaign, 3 publisher origins, the viewer's and an address's (one per viewer) shared ``act``
  buckets at the default rates. Those expire a second or two after a viewer's last action: the
  figure is read once they have gone (``transient_bytes``: their weight at the end).
- **idle sessions** (``--redis-sessions``): per viewer, what its widget's connect and join
  write: ``admit_connection`` (one address per viewer), ``create_session`` (solo, no invite),
  ``join_session`` with ``Connection.presence_entry``'s entry; read while joined, and once all
  have left (``leave_session``, ``release_connection``): a solo session's week after.

Breakdown: each key goes to its family of ``socialads/store/keys.py``'s layout, whose bytes are
``MEMORY USAGE ... SAMPLES 0`` of up to ``SAMPLE`` of its keys (evenly spread) times its count,
less what it held before. ``unattributed``: the rest of the growth (the key space's hash tables,
``keyspace_tables_delta``, and expiry entries).
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import redis
from common import log

from socialads.config import Defaults
from socialads.domain import campaigns
from socialads.domain.campaigns import Campaigns
from socialads.domain.identity import friendly_name, member_id
from socialads.domain.texts import Texts
from socialads.protocol import ActionStatus
from socialads.runtime.embedded_redis import EmbeddedRedis
from socialads.store import Store

SECRET = "bench-redis-secret"  # noqa: S105 - member ids of throwaway viewers only
ORIGINS = ["https://news.example", "https://blog.example", "https://daily.example"]
SESSIONS = 8  # sessions of the campaign the actions are spread over
SAMPLE = 256  # keys of a family whose MEMORY USAGE is read
BUCKETS_GONE = 2.5  # seconds after the last action by which every act bucket has expired
WORKLOADS: tuple[tuple[str, str, dict, int], ...] = (  # name, activity, settings, per viewer
    ("pledge_1_per_viewer", "pledge", {}, 1),
    ("pledge_10_per_viewer", "pledge", {}, 10),
    ("poll_1_per_viewer", "poll", {}, 1),
    ("challenge_1_per_viewer", "challenge", {"cooldown_seconds": 10}, 1),
)

FAMILIES = (  # key pattern -> its family in keys.py's layout ({0}: the pattern's group)
    (r"[^:]+:session:.+", "sa:session:T"),
    (r"[^:]+:ip:\{.+\}:(\w+)", "sa:ip:{{IP}}:{0}"),
    (r"[^:]+:c:\{[^}]+\}", "sa:c:{{C}}"),
    (r"[^:]+:c:\{[^}]+\}:s:[^:]+", "sa:c:{{C}}:s:T"),
    (r"[^:]+:c:\{[^}]+\}:s:[^:]+:(\w+)", "sa:c:{{C}}:s:T:{0}"),
    (r"[^:]+:c:\{[^}]+\}:(done|mine|v):.+", "sa:c:{{C}}:{0}:V"),
    (r"[^:]+:s:\{[^}]+\}:(\w+)", "sa:s:{{C/T}}:{0}"),
    (r"[^:]+:c:\{[^}]+\}:rl:(v|ip):.+:(\w+)", "sa:c:{{C}}:rl:{0}:*:{1}"),
    (r"[^:]+:c:\{[^}]+\}:t:\d+", "sa:c:{{C}}:t:M"),
    (r"[^:]+:c:\{[^}]+\}:(.+)", "sa:c:{{C}}:{0}"),
    (r"[^:]+:([^:{]+).*", "sa:{0}:*"),
)
PATTERNS = [(re.compile(pattern), name) for pattern, name in FAMILIES]


def family(key: str) -> str:
    """The family of ``key`` in the documented layout, e.g. ``sa:c:{C}:done:V``."""
    for pattern, name in PATTERNS:
        matched = pattern.fullmatch(key)
        if matched:
            return name.format(*matched.groups())
    return key


def family_bytes(client: redis.Redis) -> dict[str, dict]:
    """Each family's key count, estimated bytes (MEMORY USAGE of a spread sample) and the
    longest TTL in the sample (-1: a key that never expires)."""
    keys: dict[str, list[str]] = {}
    for key in client.scan_iter(count=5000):
        keys.setdefault(family(key), []).append(key)
    out = {}
    for name, found in keys.items():
        sample = found[:: max(1, len(found) // SAMPLE)][:SAMPLE]
        pipe = client.pipeline(transaction=False)
        for key in sample:
            pipe.memory_usage(key, samples=0)
            pipe.ttl(key)
        answers = pipe.execute()
        sizes = [size for size in answers[::2] if size is not None]
        ttls = [ttl for ttl in answers[1::2] if ttl != -2]
        mean = sum(sizes) / len(sizes) if sizes else 0
        out[name] = {
            "keys": len(found),
            "bytes": round(mean * len(found)),
            "ttl": -1 if -1 in ttls else max(ttls, default=-1),
        }
    return out


def used(client: redis.Redis) -> dict:
    info, tables = client.info("memory"), client.memory_stats().get("db.0") or {}
    found = {k: info.get(k) for k in ("used_memory", "used_memory_dataset", "used_memory_overhead")}
    found["keyspace_tables"] = sum(
        tables.get(f"overhead.hashtable.{t}", 0) for t in ("main", "expires")
    )
    return found


def snapshot(client: redis.Redis) -> tuple[dict, dict]:
    """INFO memory's figures, and each family's keys and bytes."""
    return used(client), family_bytes(client)


def breakdown(before: dict, after: dict, units: int, unit: str, per: int, per_name: str):
    """The families' growth, largest first, per unit and per ``per`` units; and its sum."""
    rows = []
    for name in sorted(set(before) | set(after)):
        a, b = after.get(name, {}), before.get(name, {})
        grown = a.get("bytes", 0) - b.get("bytes", 0)
        added = a.get("keys", 0) - b.get("keys", 0)
        if grown or added:
            ttl = a.get("ttl", b.get("ttl", -1))
            expiry = "never" if ttl < 0 else f"{ttl / 86400:.1f} d" if ttl > 86400 else f"{ttl} s"
            rows.append({"family": name, "keys_added": added, "bytes": grown, "expires": expiry})
    total = sum(row["bytes"] for row in rows)
    for row in rows:
        row[f"bytes_per_{unit}"] = round(row["bytes"] / units, 1)
        row[f"bytes_per_{per_name}"] = round(row["bytes"] / units * per)
        row["share"] = round(row["bytes"] / total, 3) if total > 0 else None
    rows.sort(key=lambda row: -row["bytes"])
    return rows, total


def summary(first: tuple, then: tuple, units: int, unit: str, per: int, per_name: str):
    """The used_memory growth between two snapshots, per unit and per ``per``, by family."""
    (before, fam_before), (after, fam_after) = first, then
    delta = after["used_memory"] - before["used_memory"]
    rows, attributed = breakdown(fam_before, fam_after, units, unit, per, per_name)
    tables = after["keyspace_tables"] - before["keyspace_tables"]
    return {
        f"bytes_per_{unit}": round(delta / units, 1),
        f"bytes_per_{per_name}": round(delta / units * per),
        f"mib_per_{per_name}": round(delta / units * per / 2**20, 1),
        "used_memory_before": before["used_memory"],
        "used_memory_after": after["used_memory"],
        "used_memory_delta": delta,
        "dataset_delta": after["used_memory_dataset"] - before["used_memory_dataset"],
        "overhead_delta": after["used_memory_overhead"] - before["used_memory_overhead"],
        # The key and expiry hash tables: power-of-two sized for the most keys there were
        "keyspace_tables_delta": tables,  # (act buckets included), not shrunk after
        f"keyspace_tables_per_{unit}": round(tables / units, 1),
        "families": rows,
        "unattributed_bytes": delta - attributed,
    }


@contextmanager
def own_redis(tmp: Path, name: str):
    """A fresh private redis-server (AOF off) and a Store on it, for one workload."""
    server = EmbeddedRedis(tmp / f"redis-bytes-{name}", appendonly=False).start()
    try:
        store = Store(server.url)
        with redis.Redis.from_url(server.url, decode_responses=True) as client:
            yield store, client
        store.redis.connection_pool.disconnect()  # the group commit's sender ends when idle
    finally:
        server.stop()


def new_campaign(store: Store, activity: str, settings: dict, name: str):
    registry = Campaigns(store, 3600)
    brand = store.create_brand("Bench redis")
    body: dict[str, Any] = {"name": name, "activity": activity, "cause": {"title": "Trees"}}
    body |= {"goal": 10**9, "status": "live", "settings": settings}
    cid = campaigns.create(store, brand, body).id
    entry = registry.get(cid)
    if entry is None:
        raise RuntimeError(f"campaign {cid} was not found after its creation")
    return cid, entry


def act_buckets(viewer: str, ip: str) -> list:
    """The shared buckets of an act, as `Guard.act_buckets` names them (default rates)."""
    return [("v", viewer, Defaults.VIEWER_ACT_RATE), ("ip", ip, Defaults.IP_ACT_RATE)]


def address(index: int) -> str:
    return f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"


def record(store: Store, cid: str, entry, token: str, viewer: str, index: int, **how):
    """One action as ``Viewers.act`` counts it; ``how``: the action's ``kind`` and
    ``data``, and ``shared=False`` for no shared buckets."""
    kind, data, shared = how.get("kind"), how.get("data"), how.get("shared", True)
    effect = entry.activity.effect(entry.settings, kind, data)
    return store.record_action(
        cid,
        token,
        viewer,
        str(uuid.uuid4()),
        effect.amount,
        effect.per_viewer_cap,
        effect.state,
        origin=ORIGINS[index % len(ORIGINS)],
        once=effect.once,
        choice=effect.choice,
        cooldown=effect.cooldown,
        match=entry.match,
        buckets=act_buckets(viewer, address(index)) if shared else (),
    )


def warm_up(store: Store) -> None:
    """Load every script in a campaign of its own: the measured one starts empty."""
    cid, entry = new_campaign(store, "pledge", {}, "warm-up")
    token = store.create_session(cid, "warm", "warm")
    store.admit_connection("192.0.2.1", "warm-sid", Defaults.PRESENCE_TTL, 10)
    member = {"viewer": "warm", "id": "0", "name": "warm", "t": time.time()}
    store.join_session(cid, token, "warm-sid", member, Defaults.PRESENCE_TTL)
    record(store, cid, entry, token, "warm", 0, shared=False)  # no bucket left to expire
    store.leave_session(cid, token, "warm-sid")
    store.release_connection("192.0.2.1", "warm-sid")


def actions_workload(tmp: Path, name: str, activity: str, settings: dict, each: int, n: int):
    viewers = max(1, n // each)
    count = viewers * each
    with own_redis(tmp, name) as (store, client):
        warm_up(store)
        cid, entry = new_campaign(store, activity, settings, name)
        tokens = [store.create_session(cid, f"leader{i}", f"Group {i}") for i in range(SESSIONS)]
        ids = [str(uuid.uuid4()) for _ in range(viewers)]
        first = snapshot(client)
        began, counted = time.perf_counter(), 0
        for _ in range(each):  # round after round: a viewer's actions are spread in time
            for i, viewer in enumerate(ids):
                vote = {"kind": "vote", "data": {"option": i % 3}} if activity == "poll" else {}
                result = record(store, cid, entry, tokens[i % SESSIONS], viewer, i, **vote)
                counted += result.status == ActionStatus.COUNTED
        seconds = time.perf_counter() - began
        at_end = used(client)
        time.sleep(BUCKETS_GONE)  # then touch them: an expired key read is deleted at once
        keys = store.keys.campaign(cid)
        names = [keys.bucket("v", v, "act") for v in ids]
        names += [keys.bucket("ip", address(i), "act") for i in range(viewers)]
        for at in range(0, len(names), 5000):
            client.exists(*names[at : at + 5000])
        then = snapshot(client)
        out = {
            "workload": f"{activity} campaign, {viewers:,} viewers × {each} action"
            f"{'s' if each > 1 else ''} (round after round), in {SESSIONS} sessions, "
            f"{len(ORIGINS)} origins, UUID viewer and action ids, shared act buckets "
            "(one address per viewer)",
            "actions": count,
            "viewers": viewers,
            "counted": counted,
            "seconds": round(seconds, 1),
            "keys_added": client.dbsize() - sum(f["keys"] for f in first[1].values()),
            "transient_bytes": at_end["used_memory"] - then[0]["used_memory"],
            **summary(first, then, count, "action", 1_000_000, "million_actions"),
        }
    log(
        f"redis: {name}: {out['bytes_per_action']} B per action "
        f"({out['mib_per_million_actions']} MiB per 1M), {counted:,} of {count:,} counted "
        f"in {out['seconds']}s"
    )
    return out


def sessions_workload(tmp: Path, m: int) -> dict:
    with own_redis(tmp, "sessions") as (store, client):
        warm_up(store)
        cid, entry = new_campaign(store, "pledge", {}, "idle sessions")
        texts = Texts(entry.campaign.language)
        first, seated, began = snapshot(client), [], time.perf_counter()
        for i in range(m):
            viewer, sid, ip = str(uuid.uuid4()), secrets.token_urlsafe(15), address(i)
            store.admit_connection(ip, sid, Defaults.PRESENCE_TTL, Defaults.CONNECTIONS_PER_IP)
            member = member_id(SECRET, cid, viewer)
            name = friendly_name(member)
            token = store.create_session(cid, viewer, texts.plain("group.name", name=name))
            presence = {"viewer": viewer, "id": member, "name": name, "t": time.time()}
            origin = ORIGINS[i % len(ORIGINS)]
            store.join_session(
                cid, token, sid, presence, Defaults.PRESENCE_TTL, origin, room_size=entry.room_size
            )
            seated.append((token, sid, ip))
        seconds = time.perf_counter() - began
        joined = snapshot(client)
        for token, sid, ip in seated:
            store.leave_session(cid, token, sid)
            store.release_connection(ip, sid)
        left = snapshot(client)
    out = {
        "workload": f"{m:,} viewers, each: connect (admit_connection, one address per "
        "viewer), create_session (solo, no invite), join_session with its presence entry; "
        f"one pledge campaign, {len(ORIGINS)} origins; then every member leaves",
        "sessions": m,
        "seconds": round(seconds, 1),
        "joined": summary(first, joined, m, "session", 100_000, "100k_sessions"),
        "left": summary(first, left, m, "session", 100_000, "100k_sessions"),
    }
    log(
        f"redis: idle sessions: {out['joined']['bytes_per_session']} B each while joined, "
        f"{out['left']['bytes_per_session']} B after the member left"
    )
    return out


def redis_figure(ctx, args) -> dict:
    with redis.Redis.from_url(ctx.redis.url) as probe:  # the binary the workloads' run
        version = probe.info("server")["redis_version"]
    out: dict = {
        "what": "Redis used_memory after - before, a fresh private redis-server per workload, "
        "written through socialads.store.Store",
        "redis_version": version,
        "workload": {
            "actions": f"{args.redis_actions:,} actions per workload: "
            + "; ".join(f"{name}" for name, *_ in WORKLOADS),
            "sessions": f"{args.redis_sessions:,} idle solo sessions, one joined member each",
        },
        "actions": {},
    }
    jobs = {
        name: partial(actions_workload, ctx.tmp, name, activity, settings, each, args.redis_actions)
        for name, activity, settings, each in WORKLOADS
    }
    jobs["idle_sessions"] = partial(sessions_workload, ctx.tmp, args.redis_sessions)
    for name, job in jobs.items():
        try:
            found = job()
        except Exception as exc:  # noqa: BLE001 - the other workloads still run
            log(f"redis {name} failed: {exc!r}")
            found = {"error": f"{type(exc).__name__}: {exc}"}
        (out if name == "idle_sessions" else out["actions"])[name] = found
    return out


# -- the printed table (report.py) ---------------------------------------------------------


def _short(row: dict) -> str:
    return row["family"].removeprefix("sa:c:{C}:")


def _row(name: str, n: str, figure: dict, unit: str, per: str) -> list[str]:
    if "error" in figure:
        return [name, "—", "—", "—", "—", figure["error"]]
    top = [row for row in figure["families"] if (row["share"] or 0) >= 0.005][:4]
    return [
        name,
        n,
        f"{figure[f'bytes_per_{unit}']:,.1f} B",
        f"{figure[f'mib_per_{per}']:,.1f} MiB",
        f"{figure[f'keyspace_tables_per_{unit}']:,.1f} B",
        ", ".join(f"{_short(row)} {100 * row['share']:.0f}%" for row in top),
    ]


def redis_table(r: dict, rows_of, wrap) -> list[str]:
    out = [
        f"REDIS MEMORY: used_memory growth, a fresh redis-server {r.get('redis_version')} "
        "per workload, written through the Store"
    ]
    header = ["", "per unit", "per 1M", "key space", "largest families (share)"]
    rows, never = [], {}
    for name, figure in (r.get("actions") or {}).items():
        n = "" if "error" in figure else f"{figure['counted']:,} of {figure['actions']:,}"
        rows.append(_row(name, n, figure, "action", "million_actions"))
        for row in figure.get("families", []):
            if row["expires"] == "never" and (row["share"] or 0) >= 0.05:
                never[_short(row)] = f"{row['bytes_per_action']:,.0f} B"
    out += rows_of(["actions", "counted", *header[1:]], rows)
    sessions, rows = r.get("idle_sessions") or {}, []
    for state, label in (("joined", "member joined"), ("left", "after leaving")):
        if state in sessions:
            n = f"{sessions['sessions']:,}"
            rows.append(_row(label, n, sessions[state], "session", "100k_sessions"))
    if "error" in sessions:
        rows.append(_row("idle sessions", "", sessions, "session", "100k_sessions"))
    out += rows_of(["idle solo sessions", "n", "per unit", "per 100k", *header[3:]], rows)
    out += wrap(
        "families: MEMORY USAGE of each key family's growth (keys.py's layout), as a share of "
        "the bytes so attributed; key space: the key and expiry hash tables' growth per unit "
        "(power-of-two sized; not in the families); act buckets (they expire within 2 s) are "
        "gone before the reading"
    )
    if never:
        out += wrap(
            "kept with no TTL, for the campaign's life, per action: "
            + ", ".join(f"{name} {size}" for name, size in never.items())
        )
    return out
