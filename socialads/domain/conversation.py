"""What viewers see of the brand's people: who speaks for the brand in a campaign, how fast
they usually answer, and the public log of every moderation decision.

Moderation happens in the open: each hidden message, blocked and unblocked viewer is logged
with when, why and by whom, and anyone can read the log. The hidden words themselves are never
repeated there, and the log names neither the viewer nor the team member's login.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from socialads.domain.texts import Texts
from socialads.store import Campaign, Store

ACTIONS = ("hide", "block", "unblock", "close")


def initials(name: str) -> str:
    """ "Maya López" -> "ML": the avatar a widget shows instead of a photo from elsewhere."""
    words = [word for word in re.split(r"[\s\-]+", name or "") if word]
    if not words:
        return "?"
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


def answer_time(seconds: float, t: Texts | None = None) -> str:
    """A median reply time as people say it: "a minute", "4 minutes", "2 hours"."""
    t = t or Texts(None)
    if seconds <= 60:
        return t("within.minute")
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return t("within.minutes", n=minutes)
    hours = math.ceil(seconds / 3600)
    if hours < 48:
        return t("within.hours", n=hours)
    return t("within.days", n=math.ceil(seconds / 86400))


def widget_talk(store: Store, campaign: Campaign, brand_name: str, t: Texts | None = None) -> dict:
    """The widget's view of the brand's people: ``people`` (featured, with initials),
    ``answers`` (the median reply line, or None before the first reply) and
    ``moderation_url`` (on our own origin, like everything the widget links to)."""
    ids = [pid for pid in campaign.people if isinstance(pid, str)]
    people, median = store.talk_summary(campaign.id, campaign.brand_id, ids)
    return {
        "people": [
            {"name": p["name"], "role": p.get("role", ""), "initials": initials(p["name"])}
            for p in people
        ],
        "answers": None
        if median is None
        else (t or Texts(None))(
            "unit.answers_within", brand=brand_name, within=answer_time(median, t)
        ),
        "moderation_url": f"/c/{campaign.id}/moderation",
    }


def when(seconds: float) -> dict:
    moment = datetime.fromtimestamp(seconds, UTC)
    return {
        "iso": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "text": moment.strftime("%-d %b %Y, %H:%M UTC"),
    }


def public_log(store: Store, cid: str) -> list[dict]:
    """The moderation log as the public page shows it: when, what, why and which of the
    brand's people; nothing else from the stored entry."""
    entries = []
    for entry in store.moderation_log(cid):
        by = entry.get("by") or {}
        action = entry["action"] if entry["action"] in ACTIONS else "other"
        entries.append(
            {
                "when": when(entry["at"]),
                "action": action,
                "why": entry.get("reason", ""),
                "by_name": by.get("name", ""),
                "by_role": by.get("role", ""),
            }
        )
    return entries
