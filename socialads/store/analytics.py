"""A campaign's numbers as Redis keeps them: what is counted where, and reading it back.

The counters are incremented as things happen (record_action.lua for actions, `count_join`
and `Analytics.count_impression` here, invite_opened.lua for invite opens); nothing ever
scans raw events to answer a question. What each figure means is documented in
``socialads.domain.analytics``, which imports the vocabulary below from here.
"""

from __future__ import annotations

import time
from typing import Any, TypedDict

from socialads.store.base import Domain
from socialads.store.keys import SERIES_TTL
from socialads.store.parts import summed
from socialads.store.presence import live_count
from socialads.store.scripts import (
    count_impression_args,
    count_impression_keys,
    invite_opened_keys,
    no_args,
)

__all__ = [
    "DIRECT",
    "ORIGIN_FIELDS",
    "SERIES_FIELDS",
    "SERIES_TTL",
    "derived",
    "minute_of",
    "ratio",
]

DIRECT = "direct"  # the publisher origin of a widget load without a usable Referer
SERIES_FIELDS = ("impressions", "joins", "actions")  # counted per minute
ORIGIN_FIELDS = ("impressions", "joins", "actions")  # counted per publisher origin
COUNTER_FIELDS = ("total", "actions", "impressions", "sessions", "invite_joins", "messages")
ANALYTICS_FIELDS = (
    "joins",
    "invites_opened",
    "invited_sessions",
    "seed_sessions",
    "friends_acted",
    "matched",
)


def minute_of(timestamp: float) -> int:
    """The per-minute bucket of a Unix time."""
    return int(timestamp // 60)


def ratio(part: int, whole: int, digits: int = 4) -> float | None:
    """``part / whole`` rounded, or None when there is nothing to divide by."""
    return round(part / whole, digits) if whole else None


class Derived(TypedDict):
    invite_conversion: float | None
    k_factor: float | None
    cycle_time_seconds: float | None


def derived(counters: dict[str, str]) -> Derived:
    """The ratios of ``Store.stats`` from the raw counter hash."""

    def count(field: str) -> int:
        return int(counters.get(field, 0))

    cycle_joins = count("cycle_joins")
    cycle_seconds = float(counters.get("cycle_seconds", 0))
    return {
        "invite_conversion": ratio(count("invite_joins"), count("invites_opened")),
        "k_factor": ratio(count("invite_joins"), count("seed_sessions")),
        "cycle_time_seconds": round(cycle_seconds / cycle_joins, 1) if cycle_joins else None,
    }


class Analytics(Domain):
    """Counting page loads, and reading every figure of a campaign."""

    def stats(self, cid: str) -> dict[str, Any]:
        """Every counter of a campaign and the ratios between them, read in one round trip
        (see ``socialads.domain.analytics`` for what each means)."""
        key = self.keys.campaign(cid)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(key.counters)
        pipe.pfcount(key.viewers)
        pipe.hgetall(key.here)
        pipe.delete(key.live)  # the connection entries kept before :here (store.keys)
        pipe.pfcount(key.engaged)
        pipe.get(key.reply_median)
        for field in ORIGIN_FIELDS:
            pipe.hgetall(key.by_origin(field))
        others = self.parts.of(cid).all[1:]  # the other parts of its counts, if any
        for part in others:
            pipe.hgetall(part.counters)
            pipe.pfcount(part.engaged)  # disjoint viewers: the counts add
            pipe.hgetall(part.origin_actions)
        replies = pipe.execute()
        at = 6 + len(ORIGIN_FIELDS)
        raw, viewers, here, _, engaged, median, *per_origin = replies[:at]
        if others:
            more = replies[at:]
            raw = summed([raw, *more[0::3]])
            engaged += sum(more[1::3])
            actions = ORIGIN_FIELDS.index("actions")
            per_origin[actions] = summed([per_origin[actions], *more[2::3]])
        live, gone = live_count(here, time.time())
        if gone:  # the counts of processes that ended
            self.redis.hdel(key.here, *gone)
        stats: dict[str, Any] = {field: int(raw.get(field, 0)) for field in COUNTER_FIELDS}
        stats.update(viewers=int(viewers), live_viewers=live)
        stats.update({field: int(raw.get(field, 0)) for field in ANALYTICS_FIELDS})
        stats.update(engaged_viewers=int(engaged), **derived(raw))
        stats["brand_replies"] = int(raw.get("brand_replies", 0))
        stats["median_reply_seconds"] = float(median) if median is not None else None
        origins = sorted(set().union(*per_origin))
        stats["by_origin"] = {
            origin: {
                field: int(counts.get(origin, 0))
                for field, counts in zip(ORIGIN_FIELDS, per_origin, strict=True)
            }
            for origin in origins
        }
        return stats

    def minutes(self, cid: str, first: int, count: int) -> list[dict[str, int]]:
        """Per-minute counts (impressions, joins, actions) of ``count`` minutes from minute
        ``first`` (Unix time // 60), oldest first; a quiet minute is zeros."""
        parts = self.parts.of(cid).all  # in parts, each keeps the actions of its viewers
        pipe = self.redis.pipeline(transaction=False)
        for minute in range(first, first + count):
            for key in parts:
                pipe.hmget(key.minute(minute), SERIES_FIELDS)
        replies = pipe.execute()
        step = len(parts)
        return [
            {
                "minute": first + i,
                **{
                    field: sum(int(reply[f] or 0) for reply in replies[i * step : (i + 1) * step])
                    for f, field in enumerate(SERIES_FIELDS)
                },
            }
            for i in range(count)
        ]

    def count_impression(self, cid: str, origin: str = DIRECT) -> None:
        """A widget load on a publisher ``origin`` (count_impression.lua: its origin bounded)."""
        key = self.keys.campaign(cid)
        self.scripts.count_impression(
            count_impression_keys(
                counters=key.counters,
                by_origin=key.by_origin("impressions"),
                minute=key.minute(minute_of(time.time())),
            ),
            count_impression_args(origin=origin),
        )

    def count_invite_opened(self, cid: str, token: str) -> bool:
        """An invite landing page was loaded; False when the session no longer exists."""
        key = self.keys.campaign(cid)
        opened = invite_opened_keys(session=key.session_hash(token), counters=key.counters)
        return bool(self.scripts.invite_opened(opened, no_args()))
