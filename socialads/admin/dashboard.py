"""A campaign's Overview tab: its numbers, funnel, publishers and last hour, live.

The page is complete without JavaScript (every number server-rendered); ``dashboard.js``
then polls ``stats.json`` every two seconds and updates numbers, funnel, table and chart in
place. Both come from ``report()``, which also formats every figure, so the live page and the
server-rendered one never disagree on how a number reads. Reading a report costs a handful of
Redis reads by key (counters, two HLL counts, three small hashes, 60 minute buckets): the
counters are kept as things happen, nothing is scanned.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

from flask import current_app, jsonify, render_template
from flask_login import login_required

from socialads.admin.auth import store
from socialads.admin.blueprint import bp
from socialads.admin.campaigns import own_campaign
from socialads.domain.analytics import DIRECT, minute_iso, minute_of, origin_of, ratio
from socialads.store import Campaign

CHART_MINUTES = 60
CSV_MINUTES = 24 * 60
POLL_SECONDS = 2

# The headline figures, grouped, in reading order: (stats key, label, meaning, format).
HEADLINES = [
    (
        "Reach",
        [
            ("impressions", "Impressions", "Widget loads on publishers' pages", "count"),
            ("viewers", "Unique viewers", "People who joined the unit", "count"),
            ("engaged_viewers", "Engaged viewers", "Took part or chatted", "count"),
            ("actions", "Actions", "Counted once each", "count"),
        ],
    ),
    (
        "Sharing",
        [
            ("sessions", "Sessions", "Groups started", "count"),
            ("invites_opened", "Invites opened", "Invite links opened", "count"),
            ("invite_joins", "Friends joined", "Arrived through an invite", "count"),
            (
                "invite_conversion",
                "Invite conversion",
                "Friends joined per invite opened",
                "percent",
            ),
            ("k_factor", "Viral coefficient k", "Friends joined per seed session", "ratio"),
            (
                "cycle_time_seconds",
                "Cycle time",
                "From a group's start to a friend joining",
                "duration",
            ),
        ],
    ),
    (
        "Conversation",
        [
            ("messages", "Messages", "Chat messages posted", "count"),
            ("brand_replies", "Brand replies", "Replies from your people", "count"),
            (
                "median_reply_seconds",
                "Median reply time",
                "How long viewers waited for you",
                "duration",
            ),
        ],
    ),
]

# The invite funnel: (stats key, label, unit of the step).
FUNNEL = [
    ("impressions", "Impressions", "widget loads"),
    ("engaged_viewers", "Engaged", "viewers who took part or chatted"),
    ("invited_sessions", "Invited", "sessions whose invite was opened"),
    ("invite_joins", "Joined via invite", "friends who arrived"),
    ("friends_acted", "Acted", "of those friends, took part"),
]

# -- formatting ----------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def display(value, kind: str = "count") -> str:
    """How a figure reads on the page; "—" when there is nothing to show yet."""
    if value is None:
        return "—"
    if kind == "percent":
        return f"{value * 100:.1f}%".replace(".0%", "%")
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "duration":
        return _duration(value)
    return f"{value:,}"


def _width(part: int, whole: int) -> int:
    """A bar's width in steps of 5% (the ``w0``..``w100`` classes; no inline styles)."""
    return min(100, round(part * 20 / whole) * 5) if whole else 0


# -- the report ----------------------------------------------------------------------------


def origin_label(origin: str) -> str:
    if origin == DIRECT:
        return "Direct or unknown"
    if origin == origin_of(current_app.config["PUBLIC_URL"]):
        return "Our pages (invite, test)"  # the invite landing page and the admin's test page
    return origin.split("://", 1)[-1]


def _funnel(stats: dict) -> list[dict]:
    top = max(stats[key] for key, _, _ in FUNNEL)
    steps: list[dict] = []
    previous: int | None = None
    for key, label, unit in FUNNEL:
        value = stats[key]
        share = ratio(value, previous) if previous is not None else None
        steps.append(
            {
                "key": key,
                "label": label,
                "unit": unit,
                "value": value,
                "display": display(value),
                "width": _width(value, top),
                "rate": ""
                if previous is None
                else f"{display(share, 'percent')} of the step before",
            }
        )
        previous = value
    return steps


def _origins(by_origin: dict[str, dict]) -> list[dict]:
    rows = [
        {
            "origin": origin,
            "label": origin_label(origin),
            **counts,
            "join_rate": display(ratio(counts["joins"], counts["impressions"]), "percent"),
        }
        for origin, counts in by_origin.items()
    ]
    rows.sort(key=lambda r: (-r["impressions"], -r["joins"], -r["actions"], r["origin"]))
    for row in rows:
        row.update(
            {
                f"{field}_display": display(row[field])
                for field in ("impressions", "joins", "actions")
            }
        )
    return rows


def report(campaign: Campaign) -> dict:
    """Everything the Overview shows, numbers and their display text, as plain JSON."""
    cid, goal = campaign.id, campaign.goal
    now = time.time()
    stats = store().stats(cid)
    minutes = store().minutes(cid, minute_of(now) - CHART_MINUTES + 1, CHART_MINUTES)
    shown = {
        key: display(stats[key], kind) for _, figures in HEADLINES for key, _, _, kind in figures
    }
    percent = min(100, stats["total"] * 100 // goal)
    shown.update(
        total=display(stats["total"]),
        goal=display(goal),
        live_viewers=display(stats["live_viewers"]),
        percent=f"{percent}%",
    )
    return {
        "campaign": cid,
        "goal": goal,
        "percent": percent,
        "width": max(_width(min(stats["total"], goal), goal), 5 if stats["total"] else 0),
        "stats": stats,
        "display": shown,
        "funnel": _funnel(stats),
        "origins": _origins(stats["by_origin"]),
        "series": {
            "t": [m["minute"] * 60 for m in minutes],
            "label": [minute_iso(m["minute"])[11:16] for m in minutes],
            "actions": [m["actions"] for m in minutes],
            "joins": [m["joins"] for m in minutes],
            "impressions": [m["impressions"] for m in minutes],
        },
        "updated_at": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# -- views ---------------------------------------------------------------------------------


@bp.get("/campaigns/<cid>")
@login_required
def campaign(cid: str):
    found = own_campaign(cid)
    return render_template(
        "admin/campaign.html",
        campaign=found,
        tab="overview",
        report=report(found),
        headlines=HEADLINES,
        poll_ms=POLL_SECONDS * 1000,
    )


@bp.get("/campaigns/<cid>/stats.json")
@login_required
def campaign_stats_json(cid: str):
    return jsonify(report(own_campaign(cid)))


@bp.get("/campaigns/<cid>/stats.csv")
@login_required
def campaign_stats_csv(cid: str):
    """The last 24 hours minute by minute, oldest first, quiet minutes included."""
    found = own_campaign(cid)
    last = minute_of(time.time())
    rows = store().minutes(cid, last - CSV_MINUTES + 1, CSV_MINUTES)
    body = io.StringIO()
    writer = csv.writer(body, lineterminator="\r\n")
    writer.writerow(["minute", "impressions", "joins", "actions"])
    for row in rows:
        writer.writerow(
            [minute_iso(row["minute"]), row["impressions"], row["joins"], row["actions"]]
        )
    stamp = datetime.fromtimestamp(last * 60, UTC).strftime("%Y%m%d-%H%M")
    response = current_app.response_class(body.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{found.id}-per-minute-{stamp}Z.csv"'
    )
    return response
