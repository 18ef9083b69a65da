"""The readable side of a run: a plain-text table of every figure beside its baseline, the
targets with pass/fail, and the plot of latency against viewers."""

from __future__ import annotations

import textwrap
from pathlib import Path


def _n(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _ratio(ours, base) -> str:
    return f"{ours / base:.2f}×" if ours and base else "—"


def _lat(latency: dict | None) -> str:
    if not latency:
        return "—"
    return f"{_n(latency.get('p50'))} / {_n(latency.get('p95'))} / {_n(latency.get('p99'))}"


def _wrap(text: str, indent: int = 2, width: int = 100, hang: int = 2) -> list[str]:
    return textwrap.wrap(
        text, width, initial_indent=" " * indent, subsequent_indent=" " * (indent + hang)
    )


def _rows(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join
    out = ["  " + line(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for row in rows:
        out.append("  " + line(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return out


def fanout_lines(fanout: dict) -> list[str]:
    out = [
        "FAN-OUT (a): 1 action/s; ms from act to arrival at every viewer (p50 / p95 / p99)",
        *_wrap(f"crowd: {fanout.get('crowd')}"),
    ]
    topologies = fanout.get("topologies", {})
    rows = []
    for processes in sorted({int(n.rsplit("_", 1)[1][:-1]) for n in topologies}):
        ours = topologies.get(f"ours_{processes}p", {})
        base = topologies.get(f"baseline_{processes}p", {})
        if "error" in ours or "error" in base:
            rows.append(
                [
                    f"{processes}",
                    "—",
                    ours.get("error", "") or base.get("error", ""),
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
            continue
        sizes = sorted(
            {int(s) for s in ours.get("by_viewers", {})}
            | {int(s) for s in base.get("by_viewers", {})}
        )
        node = topologies.get(f"node_{processes}p", {})
        for size in sizes:
            a = ours.get("by_viewers", {}).get(str(size), {})
            b = base.get("by_viewers", {}).get(str(size), {})
            c = node.get("by_viewers", {}).get(str(size), {})
            rows.append(
                [
                    str(processes),
                    _n(size),
                    _lat(a.get("latency_ms")),
                    _lat(b.get("latency_ms")),
                    _lat(c.get("latency_ms")) if c else "—",
                    _ratio(
                        (a.get("latency_ms") or {}).get("p99"),
                        (b.get("latency_ms") or {}).get("p99"),
                    ),
                    _ratio(
                        (a.get("latency_ms") or {}).get("p99"),
                        (c.get("latency_ms") or {}).get("p99"),
                    ),
                    f"{_n(a.get('missed'))} / {_n(b.get('missed'))}",
                    f"{_n(a.get('progress_per_action_per_viewer'), 2)} / "
                    f"{_n(b.get('progress_per_action_per_viewer'), 2)}",
                ]
            )
    out += _rows(
        [
            "procs",
            "viewers",
            "socialads ms",
            "baseline ms",
            "node ms",
            "p99 × base",
            "p99 × node",
            "missed",
            "msgs/action/viewer",
        ],
        rows,
    )
    out.append("  (missed and msgs/action/viewer: socialads / baseline)")
    out += cpu_lines(topologies)
    out.append("FAN-OUT (b): burst of actions on a fixed schedule")
    rows = []
    for name, topology in topologies.items():
        burst = topology.get("burst")
        if not burst:
            continue
        rates = burst.get("updates_per_viewer_per_s", {})
        lag = burst.get("final_total_after_last_ack_ms", {})
        rows.append(
            [
                name.replace("baseline", "base"),
                _n(burst.get("viewers")),
                f"{_n(burst.get('offered_per_s'))}/s × {_n(burst.get('seconds'), 0)}s",
                _n(burst.get("acked_per_s")),
                f"{_n(rates.get('mean'))} / {_n(rates.get('max'))}",
                _n(burst.get("peak_updates_in_any_1s")),
                _n(burst.get("messages_delivered_per_s"), 0),
                f"{_n(lag.get('p50'))} / {_n(lag.get('max'))}",
                _n(burst.get("viewers_without_final_total")),
            ]
        )
    out += _rows(
        [
            "",
            "viewers",
            "offered",
            "acked/s",
            "upd/viewer/s",
            "peak 1s",
            "msgs out/s",
            "final after ack ms",
            "never",
        ],
        rows,
    )
    out += _wrap(
        "upd/viewer/s: mean / max over viewers; peak 1s: the most one viewer got "
        "in any second; final after ack: p50 / max over viewers of when the final "
        "total arrived after the last ack (negative: before the ack came back); "
        "never: viewers that did not get it"
    )
    return out


def cpu_lines(topologies: dict) -> list[str]:
    """(c): server CPU per delivered update, every system side by side."""
    out = ["FAN-OUT (c): server CPU µs per delivered progress update (actions at a fixed rate)"]
    rows = []
    for name, topology in sorted(topologies.items()):
        if name.startswith("ours_"):
            processes = name.rsplit("_", 1)[1]
            for size, _figure in sorted(
                (topology.get("by_viewers") or {}).items(), key=lambda item: int(item[0])
            ):
                cells = [processes, _n(int(size))]
                figures = []
                for kind in ("ours", "baseline", "node"):
                    peer = (topologies.get(f"{kind}_{processes}") or {}).get("by_viewers", {})
                    load = (peer.get(size) or {}).get("cpu_per_update") or {}
                    figures.append(load.get("us_per_update"))
                    cells.append(
                        f"{_n(load.get('us_per_update'))} ({_n(load.get('delivered'))})"
                        if load
                        else "—"
                    )
                cells += [_ratio(figures[0], figures[1]), _ratio(figures[0], figures[2])]
                rows.append(cells)
    if not rows:
        return []
    out += _rows(
        [
            "procs",
            "viewers",
            "socialads µs (n)",
            "baseline µs (n)",
            "node µs (n)",
            "× base",
            "× node",
        ],
        rows,
    )
    out += _wrap(
        "n: updates delivered; µs: user + system CPU of the server processes from the "
        "first action until every viewer has the last total, over n"
    )
    return out


def throughput_lines(t: dict) -> list[str]:
    out = [
        "THROUGHPUT: acked actions/s on one process",
        *_wrap(f"closed loop: {t.get('closed_loop')}"),
    ]
    floor = t.get("redis_incr", {})
    ours, ack, incr = t.get("ours", {}), t.get("baseline_ack", {}), t.get("baseline_incr", {})
    rows = []
    for name, figure in (
        ("socialads act", ours),
        ("baseline ack-only", ack),
        ("baseline INCR + emit", incr),
    ):
        cpu = figure.get("cpu_percent_of_one_core", {})
        server_cpu = next((v for k, v in cpu.items() if k not in ("redis", "bench_clients")), None)
        rows.append(
            [
                name,
                _n(figure.get("actions_per_s")),
                _ratio(figure.get("actions_per_s"), ack.get("actions_per_s")),
                f"{_n((figure.get('ack_latency_ms') or {}).get('p50'))} / "
                f"{_n((figure.get('ack_latency_ms') or {}).get('p99'))}",
                f"{_n(server_cpu)}% / {_n(cpu.get('redis'))}% / {_n(cpu.get('bench_clients'))}%",
                figure.get("error", ""),
            ]
        )
    rows.append(
        [
            "redis-py INCR, 1 connection",
            _n(floor.get("incr_per_s")),
            _ratio(floor.get("incr_per_s"), ack.get("actions_per_s")),
            "",
            "",
            f"pipelined ×{floor.get('pipeline_batch')}: {_n(floor.get('pipelined_incr_per_s'))}/s",
        ]
    )
    out += _rows(["what", "per s", "× ack", "ack ms p50/p99", "CPU srv/redis/bench", ""], rows)
    out.append(f"  socialads: exact total {ours.get('exact')}; {ours.get('dedupe_checked')}")
    return out


def browser_lines(b: dict) -> list[str]:
    ours, base = b.get("ours", {}), b.get("baseline", {})
    first, live = ours.get("first_paint", {}), ours.get("live", {})
    embed = ours.get("embed_js") or {}
    tti, base_tti = ours.get("tti", {}), base.get("tti", {})
    out = [
        f"BROWSER: Chromium {b.get('version')}, cold cache, bytes as transferred "
        "(compressed body + headers)"
    ]
    rows = [
        ["embed.js", f"{_n(embed.get('body'))} B body + {_n(embed.get('headers'))} B headers", ""],
        [
            "first paint (unit out of view)",
            f"{_n(first.get('bytes'))} B in {_n(first.get('requests'))} requests, "
            f"{_n(first.get('sockets'))} sockets",
            "",
        ],
        [
            "live mode (in view, joined)",
            f"{_n(live.get('bytes_with_websocket'))} B in {_n(live.get('requests'))} requests "
            f"+ 1 socket",
            f"bare page {_n((base.get('live') or {}).get('bytes_with_websocket'))} B",
        ],
        [
            "time to interactive, median",
            f"{_n(tti.get('median_ms'))} ms",
            f"bare page {_n(base_tti.get('median_ms'))} ms",
        ],
    ]
    server = b.get("server_ms") or {}
    if server:
        rows.append(
            [
                "GET /w/<id>, server only, p50/p99",
                f"{_n((server.get('widget_html') or {}).get('p50'))} / "
                f"{_n((server.get('widget_html') or {}).get('p99'))} ms",
                f"bare /page {_n((server.get('baseline_page') or {}).get('p50'))} / "
                f"{_n((server.get('baseline_page') or {}).get('p99'))} ms",
            ]
        )
    out += _rows(["what", "socialads", "baseline"], rows)
    out += _wrap(
        "first paint: "
        + ", ".join(
            f"{i['url'].split('?')[0]} {_n(i['body'] + i['headers'])} B"
            for i in first.get("items", [])
        )
    )
    out += _wrap(
        "TTI runs: "
        + ", ".join(_n(x, 0) for x in tti.get("runs_ms", []))
        + " ms; bare page "
        + ", ".join(_n(x, 0) for x in base_tti.get("runs_ms", []))
        + " ms"
    )
    waterfall = tti.get("waterfall_of_median_run") or []
    if waterfall:
        out += _wrap(
            "median run, ms from navigation start: "
            + "; ".join(
                f"{row[0].split('?')[0]} {row[1]}" + (f"–{row[2]}" if row[2] is not None else "")
                for row in waterfall
            )
        )
    return out


def memory_lines(m: dict) -> list[str]:
    out = [
        "MEMORY: VmRSS of one server process per idle, joined viewer",
        *_wrap(f"crowd: {m.get('crowd')}"),
    ]
    ours, base, node = m.get("ours", {}), m.get("baseline", {}), m.get("node", {})
    rows = []
    sizes = sorted(
        {int(s) for s in ours.get("by_viewers", {})} | {int(s) for s in base.get("by_viewers", {})}
    )
    for size in sizes:
        a = ours.get("by_viewers", {}).get(str(size), {})
        b = base.get("by_viewers", {}).get(str(size), {})
        c = node.get("by_viewers", {}).get(str(size), {})
        rows.append(
            [
                _n(size),
                f"{_n(a.get('kb_per_viewer'))} KB",
                f"{_n(a.get('rss_kb'))} KB",
                f"{_n(b.get('kb_per_viewer'))} KB",
                f"{_n(b.get('rss_kb'))} KB",
                f"{_n(c.get('kb_per_viewer'))} KB",
                f"{_n(a.get('join_seconds_for_new'))} / {_n(b.get('join_seconds_for_new'))} s",
            ]
        )
    out += _rows(
        [
            "viewers",
            "ours/viewer",
            "ours RSS",
            "base/viewer",
            "base RSS",
            "node/viewer",
            "joins took ours/base",
        ],
        rows,
    )
    for name, figure in (("socialads", ours), ("baseline", base), ("node", node)):
        action = figure.get("actions_at_largest") or {}
        if action:
            out += _wrap(
                f"{_n(action.get('actions'))} actions, 1/s, to all "
                f"{_n(action.get('viewers'))} viewers, {name}: ms p50/p95/p99 "
                f"{_lat(action.get('latency_ms'))}, missed "
                f"{_n(action.get('missed'))}"
            )
        if "error" in figure:
            out.append(f"  {name}: {figure['error']}")
    return out


def stats_lines(s: dict) -> list[str]:
    seeding = s.get("seeding", {})
    out = [
        "ADMIN STATS: GET /api/v1/campaigns/<id>/stats",
        *_wrap(f"{s.get('how')}; {_n(s.get('requests'))} requests"),
    ]
    rows = [
        [f"stats at {_n(seeding.get('recorded'))} actions", _lat(s.get("ours_at_actions"))],
        ["stats at 0 actions", _lat(s.get("ours_no_actions"))],
        ["baseline GET /count (one Redis GET)", _lat(s.get("baseline_count"))],
    ]
    out += _rows(["request", "ms p50 / p95 / p99"], rows)
    out += _wrap(
        f"recorded through record_action.lua in {_n(seeding.get('seconds'))} s: "
        f"{_n(seeding.get('viewers'))} viewers, {_n(seeding.get('sessions'))} "
        f"sessions; stats says total {_n(seeding.get('stats_total'))}"
    )
    return out


def redis_lines(r: dict) -> list[str]:
    from redis_bytes import redis_table  # the figure's own module lays out its rows

    return redis_table(r, _rows, _wrap)


def scale_lines(r: dict) -> list[str]:
    from scale import scale_table  # the figure's own module lays out its rows

    return scale_table(r, _rows, _wrap)


def target_lines(targets: list[dict]) -> list[str]:
    out = ["TARGETS (issues #6, #11 and #12)"]
    for t in targets:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[t["pass"]]
        out += _wrap(
            f"{verdict}  {t['name']}: {_n(t['measured'], 2)} {t['unit']}".rstrip()
            + f"; target {t['limit']}",
            indent=2,
            hang=6,
        )
        if t.get("note"):
            out += _wrap(t["note"], indent=8)
    return out


def render(result: dict) -> str:
    m = result.get("machine", {})
    lines = [
        *_wrap(
            f"socialads bench: {m.get('date')}, {m.get('cpu_count')} CPUs "
            f"({m.get('cpu')}), {m.get('ram_gib')} GiB RAM, load "
            f"{m.get('load_avg_1m_at_start')} at start; {m.get('mode')} run, "
            f"{m.get('run_seconds')} s; git {m.get('git')}",
            indent=0,
        ),
        "",
    ]
    for name, function in (
        ("fanout", fanout_lines),
        ("throughput", throughput_lines),
        ("browser", browser_lines),
        ("memory", memory_lines),
        ("stats", stats_lines),
        ("redis", redis_lines),
        ("scale", scale_lines),
    ):
        figure = result.get(name)
        if figure is None:
            continue
        if "error" in figure and len(figure) <= 2:
            lines += [f"{name.upper()}: failed: {figure['error']}", ""]
            continue
        lines += function(figure) + [""]
    lines += target_lines(result.get("targets", []))
    return "\n".join(lines)


SYSTEMS = {  # kind -> (label, colour): one colour per system, in both panels
    "ours": ("socialads", "tab:blue"),
    "baseline": ("bare Flask-SocketIO", "tab:orange"),
    "node": ("Node socket.io", "tab:green"),
}
PERCENTILES = {"p50": ":", "p99": "-"}  # one line style per percentile
PROCESS_MARKERS = {1: "o", 2: "s"}


def plot(result: dict, path: Path) -> str | None:
    """Two panels side by side: fan-out latency (p50 dotted, p99 solid) against viewers, and
    server CPU per delivered update, for socialads, the bare baseline and Node socket.io, one
    colour each; None if it can't."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'): no plot"
    topologies = (result.get("fanout") or {}).get("topologies", {})
    figure, (latency, cpu) = plt.subplots(1, 2, figsize=(12, 5), width_ratios=(3, 2))
    drew = False
    for _name, topology in sorted(topologies.items()):
        if "by_viewers" not in topology or topology["kind"] not in SYSTEMS:
            continue
        label, colour = SYSTEMS[topology["kind"]]
        processes = topology["processes"]
        sizes = sorted(int(s) for s in topology["by_viewers"])
        for stat, style in PERCENTILES.items():
            values = [topology["by_viewers"][str(s)]["latency_ms"][stat] for s in sizes]
            latency.plot(
                sizes,
                values,
                style,
                marker=PROCESS_MARKERS.get(processes, "^"),
                color=colour,
                label=f"{label}, {processes} proc, {stat}",
            )
            drew = True
        points = [
            (s, (topology["by_viewers"][str(s)].get("cpu_per_update") or {}).get("us_per_update"))
            for s in sizes
        ]
        points = [(s, us) for s, us in points if us is not None]
        if points and processes == 1:
            cpu.plot(
                [s for s, _ in points],
                [us for _, us in points],
                "-",
                marker="o",
                color=colour,
                label=label,
            )
    if not drew:
        plt.close(figure)
        return "no fan-out figures: no plot"
    latency.set_xscale("log")
    latency.set_yscale("log")
    latency.set_xlabel("viewers in one campaign")
    latency.set_ylabel("ms from action to arrival at every viewer")
    latency.set_title("fan-out latency (dotted p50, solid p99)")
    latency.grid(True, which="both", alpha=0.3)
    latency.legend(fontsize=7)
    cpu.set_xscale("log")
    cpu.set_ylim(bottom=0)
    cpu.set_xlabel("viewers on one process")
    cpu.set_ylabel("µs of server CPU per delivered update")
    cpu.set_title("CPU per delivered update")
    cpu.grid(True, which="both", alpha=0.3)
    cpu.legend(fontsize=7)
    m = result.get("machine", {})
    figure.suptitle(
        f"socialads vs bare Flask-SocketIO vs Node socket.io — {m.get('date', '')[:10]}, "
        f"{m.get('cpu_count')} CPUs"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None
