"""Campaigns: a brand's cause, the activity people do for it, its goal, look and reach.

A campaign is what a publisher embeds. Its definition (this module) is kept apart from what
happens to it (counters, sessions: ``socialads.store``), so editing a live campaign never
touches its totals. Per process, definitions are cached briefly and dropped as soon as any
process announces a change, because every action needs one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .activities import Activity, Settings, load_activities
from .errors import Problem
from .schemas import CampaignIn, CampaignPatch, error_list
from .store import Store, new_id


def embed_snippet(public_url: str, cid: str) -> str:
    return (f'<div class="socialad" data-campaign="{cid}"></div>\n'
            f'<script async src="{public_url}/embed.js"></script>')


def public(campaign: dict, public_url: str) -> dict:
    """The API's view of a campaign."""
    return {**campaign, "embed_snippet": embed_snippet(public_url, campaign["id"]),
            "widget_url": f"{public_url}/w/{campaign['id']}"}


def _invalid(exc: ValidationError, prefix: str = "") -> Problem:
    errors = error_list(exc)
    for error in errors:
        error["field"] = prefix + error["field"]
    first = errors[0]
    return Problem("invalid", f"{first['field']}: {first['message']}", 422, details=errors)


def _check_settings(activity_name: str, settings: dict) -> dict:
    activity = load_activities().get(activity_name)
    if activity is None:
        names = ", ".join(load_activities())
        raise Problem("invalid", f"activity: unknown activity (one of: {names})", 422)
    try:
        return activity.settings(settings).model_dump()
    except ValidationError as exc:
        raise _invalid(exc, "settings.") from None


def create(store: Store, brand_id: str, body: Any) -> dict:
    try:
        data = CampaignIn.model_validate(body)
    except ValidationError as exc:
        raise _invalid(exc) from None
    now = time.time()
    campaign = {
        "id": new_id("c"), "brand_id": brand_id, **data.model_dump(),
        "created_at": now, "updated_at": now,
    }
    campaign["settings"] = _check_settings(data.activity, data.settings)
    store.save_campaign(campaign, new=True)
    return campaign


def update(store: Store, campaign: dict, body: Any) -> dict:
    try:
        patch = CampaignPatch.model_validate(body)
    except ValidationError as exc:
        raise _invalid(exc) from None
    # The fields sent replace the stored ones whole (a nested `look` keeps its defaults).
    changes = {name: patch.model_dump(include={name})[name] for name in patch.model_fields_set}
    if "activity" in changes and changes["activity"] != campaign["activity"]:
        if store.stats(campaign["id"])["actions"]:
            raise Problem("conflict", "activity: people already took part; the activity of a "
                                      "campaign with actions cannot change.", 409)
        changes.setdefault("settings", {})
    updated = {**campaign, **changes, "updated_at": time.time()}
    updated["settings"] = _check_settings(updated["activity"], updated["settings"])
    store.save_campaign(updated)
    return updated


@dataclass(frozen=True)
class Entry:
    """A campaign with its activity and validated settings, ready for the hot path."""

    campaign: dict
    brand_name: str
    activity: Activity
    settings: Settings
    expires: float

    @property
    def active(self) -> bool:
        return self.campaign["status"] == "live"

    def summarise(self, state: dict[str, int]) -> dict:
        return self.activity.summarise(self.settings, state)


class Campaigns:
    """Per-process cache of campaign definitions."""

    def __init__(self, store: Store, ttl: float):
        self.store = store
        self.ttl = ttl
        self.entries: dict[str, Entry | None] = {}
        self.lock = threading.Lock()

    def get(self, cid: str) -> Entry | None:
        entry = self.entries.get(cid)
        if entry is None or entry.expires < time.monotonic():
            entry = self._load(cid)
            with self.lock:
                self.entries[cid] = entry
        return entry

    def _load(self, cid: str) -> Entry | None:
        campaign = self.store.get_campaign(cid)
        if campaign is None:
            return None
        activity = load_activities().get(campaign["activity"])
        if activity is None:
            return None
        brand = self.store.get_brand(campaign["brand_id"]) or {}
        return Entry(campaign, brand.get("name", ""), activity,
                     activity.settings(campaign["settings"]), time.monotonic() + self.ttl)

    def live(self, cid: str) -> Entry:
        """The campaign if people can take part in it now; otherwise the error to answer."""
        entry = self.get(cid)
        if entry is None:
            raise Problem("not_found", "There is no such campaign.", 404)
        if not entry.active:
            status = entry.campaign["status"]
            raise Problem("inactive", f"This campaign is {status}.", 409, status=status)
        return entry

    def forget(self, cid: str) -> None:
        with self.lock:
            self.entries.pop(cid, None)
