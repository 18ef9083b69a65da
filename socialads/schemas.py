"""One set of pydantic models for what crosses our doors: Socket.IO payloads and API bodies.

Models are strict (no "5" for 5, no bool for int) and refuse unknown fields, so a typo in a
client is an error the client sees instead of a field silently ignored.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
SessionToken = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
# Printable text without control characters (ids chosen by clients).
ClientId = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,64}$")]
STATUSES = ("draft", "live", "paused", "ended")
Status = Literal["draft", "live", "paused", "ended"]


def _clean_text(value: str) -> str:
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", value).strip()


def _display_name(value: str | None) -> str | None:
    if value is None:
        return None
    value = re.sub(r"\s+", " ", _clean_text(value))
    return value or None


def _origin(value: str) -> str:
    parts = urlsplit(value)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/")
            or parts.query or parts.fragment or parts.username or parts.password):
        raise ValueError("an origin is scheme://host[:port], e.g. https://news.example")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("the port is not a number between 0 and 65535") from exc
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


# -- Socket.IO ----------------------------------------------------------------------------


class JoinIn(Strict):
    campaign: Id
    session: SessionToken | None = None
    viewer: ClientId
    name: Annotated[str | None, Field(max_length=40), AfterValidator(_display_name)] = None
    since: Annotated[int | None, Field(ge=0)] = None


class ActIn(Strict):
    id: ClientId
    kind: Annotated[str | None, Field(max_length=32)] = None
    data: dict[str, Any] | None = None


class SayIn(Strict):
    id: ClientId
    text: Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_clean_text)]


class LeaveIn(Strict):
    pass


# -- JSON API -----------------------------------------------------------------------------


class Cause(Strict):
    title: Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_clean_text)]
    description: Annotated[str, Field(max_length=2000)] = ""


class Look(Strict):
    accent: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] = "#0b6e4f"
    theme: Literal["light", "dark"] = "light"


Origin = Annotated[str, AfterValidator(_origin)]


class CampaignIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_clean_text)]
    activity: Id
    cause: Cause
    goal: Annotated[int, Field(gt=0, le=10**12)]
    promise: Annotated[str, Field(max_length=300)] = ""
    settings: dict[str, Any] = Field(default_factory=dict)
    allowed_origins: Annotated[list[Origin], Field(max_length=100)] = Field(default_factory=list)
    status: Status = "draft"
    look: Look = Field(default_factory=Look)


class CampaignPatch(Strict):
    name: Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_clean_text)] = None
    activity: Id = None
    cause: Cause = None
    goal: Annotated[int, Field(gt=0, le=10**12)] = None
    promise: Annotated[str, Field(max_length=300)] = None
    settings: dict[str, Any] = None
    allowed_origins: Annotated[list[Origin], Field(max_length=100)] = None
    status: Status = None
    look: Look = None


def first_error(exc: ValidationError) -> tuple[str, str]:
    """(dotted field path, message) of a validation error, for one readable answer."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return where, error["msg"]


def error_list(exc: ValidationError) -> list[dict[str, str]]:
    return [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors(include_url=False)]


def is_too_long(exc: ValidationError) -> bool:
    return any(e["type"] == "string_too_long" for e in exc.errors(include_url=False))
