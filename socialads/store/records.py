"""The campaign as a record: what the store keeps for one campaign, as a typed, frozen object.

Why a record and not the parsed JSON: a campaign crosses every layer (the store keeps it, the
domain validates and caches it, the realtime side reads its goal and room size on every join,
the doors render and answer it). A dict lets each of them guess at keys and defaults
(``campaign.get("room_size", 0)`` here, ``20`` there); a record names every field once, with
its type and the default a campaign stored before the field existed gets, and mypy checks
every reader. Outside the process (Redis, the API, templates' JSON) a campaign stays the same
JSON object: `Campaign.from_json` and `Campaign.to_json` are the only two translations.

Records are frozen: an edit is a new record (`Campaign.replace`), so a cached one can be shared
between greenlets. ``settings`` is the activity's validated settings, a plain mapping that the
activity's own model reads; treat it as read-only too.

A new field a brand sets goes into ``socialads.domain.schemas.CampaignIn`` (which validates it)
and here (which keeps it): `from_json` keeps only the fields it knows, and
``tests/web/test_openapi.py`` fails an API answer that lacks a field of the schema.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Cause:
    """What the campaign is for: its title, a few lines about it, an image for link previews."""

    title: str
    description: str = ""
    image_url: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cause:
        return cls(
            title=data["title"],
            description=data.get("description", ""),
            image_url=data.get("image_url"),
        )

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.description, "image_url": self.image_url}


@dataclass(frozen=True, slots=True)
class Look:
    """How the unit looks: an accent colour (``#rrggbb``) and a ``light`` or ``dark`` theme."""

    accent: str
    theme: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Look:
        return cls(accent=data["accent"], theme=data["theme"])

    def to_json(self) -> dict[str, str]:
        return {"accent": self.accent, "theme": self.theme}


@dataclass(frozen=True, slots=True, kw_only=True)
class Campaign:
    """One campaign's definition, as stored (its counters live elsewhere and outlive it).

    The fields are in the order of the stored JSON's keys. Those with a default are the ones a
    campaign stored before they existed may lack: ``room_size`` 0 means no limit (campaigns
    stored before rooms had a size; the editor offers the usual size for them), ``language``
    English, no people, no promise, no allowed origins (any publisher), no schedule.
    """

    id: str
    brand_id: str
    name: str
    activity: str
    cause: Cause
    goal: int
    promise: str = ""
    settings: dict[str, Any]
    allowed_origins: tuple[str, ...] = ()
    status: str
    look: Look
    starts_at: str | None = None  # UTC, ``2025-06-01T09:00:00Z``: compares as text
    ends_at: str | None = None
    people: tuple[str, ...] = ()  # ids of the brand's people who speak for it here
    language: str = "en"
    room_size: int = 0
    created_at: float
    updated_at: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Campaign:
        """The record of a stored (or about to be stored) campaign's JSON object."""
        return cls(
            id=data["id"],
            brand_id=data["brand_id"],
            name=data["name"],
            activity=data["activity"],
            cause=Cause.from_json(data["cause"]),
            goal=data["goal"],
            promise=data.get("promise", ""),
            settings=dict(data["settings"]),
            allowed_origins=tuple(data.get("allowed_origins", ())),
            status=data["status"],
            look=Look.from_json(data["look"]),
            starts_at=data.get("starts_at"),
            ends_at=data.get("ends_at"),
            people=tuple(data.get("people", ())),
            language=data.get("language", "en"),
            room_size=data.get("room_size", 0),
            created_at=data["created_at"],
            updated_at=data["updated_at"],
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON object the store keeps and the API answers (lists, nested objects)."""
        return {
            "id": self.id,
            "brand_id": self.brand_id,
            "name": self.name,
            "activity": self.activity,
            "cause": self.cause.to_json(),
            "goal": self.goal,
            "promise": self.promise,
            "settings": dict(self.settings),
            "allowed_origins": list(self.allowed_origins),
            "status": self.status,
            "look": self.look.to_json(),
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "people": list(self.people),
            "language": self.language,
            "room_size": self.room_size,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def replace(self, **changes: Any) -> Campaign:
        """A copy with ``changes`` (field name → new value): how a campaign is edited."""
        return dataclasses.replace(self, **changes)
