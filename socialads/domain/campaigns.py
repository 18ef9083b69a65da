"""Campaigns: a brand's cause, the activity people do for it, its goal, look and reach.

A campaign is what a publisher embeds. Its definition (this module's rules; the record is
``socialads.store.records.Campaign``) is kept apart from what happens to it (counters,
sessions: ``socialads.store``), so editing a live campaign never touches its totals. Per
process, definitions are cached briefly and dropped as soon as any process announces a change,
because every action needs one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from socialads.activities import Activity, Match, Settings, load_activities
from socialads.domain.errors import Problem
from socialads.domain.schemas import CampaignIn, CampaignPatch, error_list, schedule_error
from socialads.protocol import ErrorCode
from socialads.store import Campaign, Store, new_id

DEFAULT_ROOM_SIZE = CampaignIn.model_fields["room_size"].default
LEDGER_SHOWN = 3  # ledger entries that travel with every update (the rest: /c/<id>/ledger)


def embed_snippet(public_url: str, cid: str) -> str:
    return (
        f'<div class="socialad" data-campaign="{cid}"></div>\n'
        f'<script async src="{public_url}/embed.js"></script>'
    )


def public(campaign: Campaign, public_url: str) -> dict:
    """The API's view of a campaign: its JSON, with how to embed it."""
    return {
        **campaign.to_json(),
        "embed_snippet": embed_snippet(public_url, campaign.id),
        "widget_url": f"{public_url}/w/{campaign.id}",
    }


def effective_status(campaign: Campaign, now: float | None = None) -> str:
    """What viewers get: the status, with the schedule applied to a `live` campaign.

    Before ``starts_at`` a live campaign is ``draft`` (it has not started), after ``ends_at``
    it is ``ended``; the stored status is untouched, so a schedule needs no job to flip it.
    Times are normalised UTC strings (``schemas.UtcTime``).
    """
    status, starts_at, ends_at = campaign.status, campaign.starts_at, campaign.ends_at
    if status != "live" or not (starts_at or ends_at):
        return status  # (on every action: no clock reading when there is no schedule)
    at = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    at_text = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if starts_at and at_text < starts_at:
        return "draft"
    if ends_at and at_text >= ends_at:
        return "ended"
    return "live"


INACTIVE_MESSAGES = {
    "draft": "This campaign hasn't started yet.",
    "paused": "This campaign is paused.",
    "ended": "This campaign has ended.",
}


def _invalid(errors: list[dict[str, str]]) -> Problem:
    """422 with every problem found in ``details`` (the admin shows each by its field)."""
    first = errors[0]
    return Problem(ErrorCode.INVALID, f"{first['field']}: {first['message']}", 422, details=errors)


def _settings_errors(activity_name: Any, settings: Any) -> tuple[dict | None, list[dict]]:
    """(the activity's validated settings, or None; the problems found)."""
    activity = load_activities().get(activity_name) if isinstance(activity_name, str) else None
    if activity is None:
        names = ", ".join(load_activities())
        return None, [{"field": "activity", "message": f"unknown activity (one of: {names})"}]
    try:
        return activity.settings(settings).model_dump(), []
    except ValidationError as exc:
        return None, [{**e, "field": "settings." + e["field"]} for e in error_list(exc)]


def _validate(model: type[CampaignIn | CampaignPatch], store: Store, brand_id: str, body: Any):
    """(the model or None, errors); people are checked against the brand's roster."""
    roster = {person["id"] for person in store.brand_people(brand_id)}
    try:
        return model.model_validate(body, context={"roster": roster}), []
    except ValidationError as exc:
        return None, error_list(exc)


def _failed(errors: list[dict], field: str) -> bool:
    return any(e["field"] == field or e["field"].startswith(field + ".") for e in errors)


def create(store: Store, brand_id: str, body: Any, parts: int | None = None) -> Campaign:
    """A new campaign from the API's or the admin's fields; raises Problem (422) with details.
    ``parts``: the parts its counts are kept in (``socialads.store.parts``), when not the
    store's default."""
    data, errors = _validate(CampaignIn, store, brand_id, body)
    raw = body if isinstance(body, dict) else {}
    settings = None
    if not _failed(errors, "activity") and not _failed(errors, "settings"):
        settings, more = _settings_errors(
            data.activity if data else raw.get("activity"),
            data.settings if data else raw.get("settings"),
        )
        errors += more
    if errors:
        raise _invalid(errors)
    now = time.time()
    campaign = Campaign.from_json(
        {
            "id": new_id("c"),
            "brand_id": brand_id,
            **data.model_dump(),
            "settings": settings,
            "created_at": now,
            "updated_at": now,
        }
    )
    # A group match counts people per session once: its campaign counts in one part.
    store.save_campaign(campaign, new=True, parts=1 if _matches(campaign) else parts)
    return campaign


def _matches(campaign: Campaign) -> bool:
    """Whether ``campaign`` (validated) has a group match."""
    activity = load_activities()[campaign.activity]
    return activity.group_match(activity.settings(campaign.settings)) is not None


def update(store: Store, campaign: Campaign, body: Any) -> Campaign:
    """Change the fields sent; counters and sessions live elsewhere and are never touched."""
    patch, errors = _validate(CampaignPatch, store, campaign.brand_id, body)
    if errors:
        raise _invalid(errors)
    # The fields sent replace the stored ones whole (a nested `look` keeps its defaults).
    changes = {name: patch.model_dump(include={name})[name] for name in patch.model_fields_set}
    if "activity" in changes and changes["activity"] != campaign.activity:
        if store.stats(campaign.id)["actions"]:
            message = (
                "people already took part; the activity of a campaign with actions cannot change."
            )
            raise Problem(
                ErrorCode.CONFLICT,
                f"activity: {message}",
                409,
                details=[{"field": "activity", "message": message}],
            )
        changes.setdefault("settings", {})
    updated = {**campaign.to_json(), **changes, "updated_at": time.time()}
    problem = schedule_error(updated["starts_at"], updated["ends_at"])
    if problem:
        errors.append({"field": "ends_at", "message": problem})
    updated["settings"], more = _settings_errors(updated["activity"], updated["settings"])
    errors += more
    if errors:
        raise _invalid(errors)
    saved = Campaign.from_json(updated)
    if _matches(saved) and store.counter_parts(saved.id).count > 1:
        message = (
            "this campaign's counts are kept in parts over the cluster's shards, and a group"
            " match needs them in one: it cannot have a match."
        )
        raise _invalid([{"field": "settings.match_every", "message": message}])
    store.save_campaign(saved)
    return saved


@dataclass(frozen=True)
class Entry:
    """A campaign with its activity and validated settings, ready for the hot path."""

    campaign: Campaign
    brand_name: str
    activity: Activity
    settings: Settings
    expires: float

    @property
    def status(self) -> str:
        """The status viewers get now (`effective_status`)."""
        return effective_status(self.campaign)

    @property
    def active(self) -> bool:
        return self.status == "live"

    @property
    def match(self) -> Match | None:
        return self.activity.group_match(self.settings)

    @property
    def room_size(self) -> int:
        """People per session; 0 (no limit) for campaigns stored before rooms had a size."""
        return self.campaign.room_size

    def summarise(self, state: dict[str, int]) -> dict:
        return self.activity.summarise(self.settings, state)

    def public_state(self, store: Store, counters: dict[str, int]) -> dict:
        """The activity's state as viewers get it: its summary, plus the leaderboard and the
        group match (pool, used, latest ledger entries) when the activity has them."""
        state = self.summarise(counters)
        cid = self.campaign.id
        if self.activity.leaderboard:
            state["board"] = store.leaderboard(cid, self.activity.leaderboard)
        match = self.match
        if match:
            used, ledger = store.match_summary(cid, LEDGER_SHOWN)
            state["match"] = {
                "every": match.every,
                "amount": match.amount,
                "pool": match.pool,
                "used": used,
                "ledger": ledger,
            }
        return state

    def group(self, session: dict[str, int]) -> dict[str, int] | None:
        """What a session sees of its own group match: who acted, what they unlocked."""
        if self.match is None:
            return None
        return {"people": session["people"], "matched": session["matched"]}


class Campaigns:
    """Per-process cache of campaign definitions."""

    def __init__(self, store: Store, ttl: float):
        self.store = store
        self.ttl = ttl
        self.entries: dict[str, Entry] = {}
        self.generation = 0  # bumped by forget(): a load that began before it is stale
        self.lock = threading.Lock()

    def get(self, cid: str) -> Entry | None:
        entry = self.entries.get(cid)
        if entry is None or entry.expires < time.monotonic():
            generation = self.generation
            entry = self._load(cid)
            with self.lock:
                if entry is not None and generation == self.generation:
                    self.entries[cid] = entry
        return entry

    def _load(self, cid: str) -> Entry | None:
        campaign = self.store.get_campaign(cid)
        if campaign is None:
            return None
        activity = load_activities().get(campaign.activity)
        if activity is None:
            return None
        brand = self.store.get_brand(campaign.brand_id) or {}
        return Entry(
            campaign,
            brand.get("name", ""),
            activity,
            activity.settings(campaign.settings),
            time.monotonic() + self.ttl,
        )

    def live(self, cid: str) -> Entry:
        """The campaign if people can take part in it now; otherwise the error to answer."""
        entry = self.get(cid)
        if entry is None:
            raise Problem(ErrorCode.NOT_FOUND, "There is no such campaign.", 404)
        status = entry.status
        if status != "live":
            message = INACTIVE_MESSAGES.get(status, f"This campaign is {status}.")
            raise Problem(ErrorCode.INACTIVE, message, 409, status=status)
        return entry

    def forget(self, cid: str) -> None:
        with self.lock:
            self.generation += 1
            self.entries.pop(cid, None)
