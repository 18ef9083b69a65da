"""What a campaign's numbers mean, and which hits count: the pure side of the analytics.

The counters themselves are incremented in Redis as things happen (``socialads.store``: the
Lua scripts and pipelines that count actions, joins, impressions and invite opens, and
``socialads.store.analytics``, the names of what is counted and the ratios ``Store.stats``
computes); nothing here touches Redis, and nothing ever scans raw events to answer a
question.

Vocabulary (every field of ``Store.stats``):

- *impressions*: loads of the widget document (``GET /w/<id>``), per publisher origin: the
  ``Referer`` of that request, which the embed's ``referrerpolicy`` reduces to the publisher
  page's origin. No usable ``Referer``: ``"direct"``.
- *joins*: a viewer's first join of a session (a leader starting one, or a friend arriving);
  reconnects and second tabs do not count again.
- *engaged viewers*: distinct viewers who acted or chatted (an estimate, like *viewers*).
- *seed sessions*: sessions started by a viewer who never arrived through an invite; the
  viral coefficient *k* is friends who joined through an invite per seed session.
- *invites opened*: loads of the invite landing page (``GET /s/<token>``) plus joins that
  carry a session token from a viewer new to that session, except joins made from the
  landing page itself (their open was counted when the page loaded). *Invited sessions* are
  the sessions whose invite was opened at least once.
- *cycle time*: mean seconds from a session's creation to each invited friend's first join.

A hit that does not count says why (``ignore_reason``), as ad servers do: a link-preview bot
fetching an invite, a ``HEAD`` request, the brand's own preview in the admin, or a widget
load from a page the campaign does not allow (the browser will not show it there).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

# What is counted, and the ratios between counts, are the store's (it computes them when it
# reads the counters); they are named here too, for the code that speaks analytics.
from socialads.store.analytics import (
    DIRECT,
    ORIGIN_FIELDS,
    SERIES_FIELDS,
    SERIES_TTL,
    derived,
    minute_of,
    ratio,
)

__all__ = [
    "BOT",
    "DIRECT",
    "MAX_ORIGIN",
    "ORIGIN_FIELDS",
    "SERIES_FIELDS",
    "SERIES_TTL",
    "derived",
    "ignore_reason",
    "minute_iso",
    "minute_of",
    "origin_of",
    "publisher_origin",
    "ratio",
]

MAX_ORIGIN = 200
# Link unfurlers and crawlers: Slackbot, Twitterbot, facebookexternalhit, WhatsApp, ...
BOT = re.compile(
    r"[a-z]bot\b|bot/|crawl|spider|slurp|facebookexternalhit|whatsapp|embedly"
    r"|preview|vkshare|pinterest",
    re.IGNORECASE,
)


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None when it has none."""
    if not url or len(url) > 2048:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    origin = f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port and port != default else "")
    return origin if len(origin) <= MAX_ORIGIN else None


def publisher_origin(referrer: str | None) -> str:
    """The publisher origin of a widget load: its ``Referer``'s origin, else ``"direct"``."""
    return origin_of(referrer) or DIRECT


def ignore_reason(
    method: str,
    user_agent: str | None,
    referrer: str | None,
    public_url: str,
    allowed_origins: Sequence[str] = (),
) -> str | None:
    """Why a page load must not count (None: it counts)."""
    if method != "GET":
        return "not a GET"
    if user_agent and BOT.search(user_agent):
        return "bot or link preview"
    origin = origin_of(referrer)
    if origin and origin == origin_of(public_url):
        if urlsplit(referrer or "").path.startswith("/admin/"):
            return "admin preview"
    elif origin and allowed_origins and origin not in {origin_of(o) for o in allowed_origins}:
        return "origin not allowed"
    return None


def minute_iso(minute: int) -> str:
    """``2025-06-01T09:30:00Z`` for a bucket."""
    return datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
