"""One set of pydantic models for what crosses our doors: Socket.IO payloads and API bodies.

Models are strict (no "5" for 5, no bool for int) and refuse unknown fields, so a typo in a
client is an error the client sees instead of a field silently ignored.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from socialads.domain.texts import languages

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
SessionToken = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
# Printable text without control characters (ids chosen by clients).
ClientId = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,64}$")]
STATUSES = ("draft", "live", "paused", "ended")
Status = Literal["draft", "live", "paused", "ended"]


def _clean_text(value: str) -> str:
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", value).strip()


def _required_text(value: str) -> str:
    """Cleaned text that must keep something to show (" " or a control character does not)."""
    value = _clean_text(value)
    if not value:
        raise ValueError("write something other than spaces")
    return value


def _display_name(value: str | None) -> str | None:
    if value is None:
        return None
    value = re.sub(r"\s+", " ", _clean_text(value))
    return value or None


HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
    r"(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def _origin(value: str) -> str:
    """A ``scheme://host[:port]`` origin, normalised; the result goes into a CSP header, so
    only a strict host syntax passes (IDNA for international names, IPv6 in brackets)."""
    problem = "an origin is scheme://host[:port], e.g. https://news.example"
    parts = urlsplit(value.strip())
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise ValueError(problem)
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("the port is not a number between 0 and 65535") from exc
    host = parts.hostname
    if ":" in host:
        try:
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise ValueError(problem) from None
    else:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise ValueError(problem) from None
        if not HOSTNAME.match(host):
            raise ValueError(problem)
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _hex_colour(value: str) -> str:
    if not HEX_COLOUR.fullmatch(value):
        raise ValueError("a colour is # and six hex digits, e.g. #0b6e4f")
    return value


def _https_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.username
        or parts.password
        or re.search(r"[\s\x00-\x1f\x7f]", value)
    ):
        raise ValueError("give an https:// address, e.g. https://cdn.example/bay.jpg")
    return value


def _utc_time(value: str) -> str:
    """An ISO 8601 time with a zone, stored as UTC: ``2025-06-01T09:00:00Z``."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("give a time like 2025-06-01T09:00:00Z (ISO 8601, UTC)") from None
    if moment.tzinfo is None:
        raise ValueError("give the time zone: end with Z for UTC, e.g. 2025-06-01T09:00:00Z")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError("give a time between the years 1 and 9999") from None
    # isoformat pads the year to four digits (strftime's %Y does not on every platform), so
    # the stored times stay RFC 3339 and compare correctly as text.
    return moment.isoformat(timespec="seconds").removesuffix("+00:00") + "Z"


def schedule_error(starts_at: str | None, ends_at: str | None) -> str | None:
    """Why a schedule (normalised UTC times, so they compare as text) is wrong, or None."""
    if starts_at and ends_at and ends_at <= starts_at:
        return "the end must come after the start"
    return None


def _known_people(value: list[str], info: ValidationInfo) -> list[str]:
    """Unique ids, each one of the brand's people when the caller gives the roster."""
    value = list(dict.fromkeys(value))
    roster = (info.context or {}).get("roster")
    if roster is not None:
        unknown = [person for person in value if person not in roster]
        if unknown:
            raise ValueError(f"not among the brand's people: {', '.join(unknown)}")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


# -- Socket.IO ----------------------------------------------------------------------------


class JoinIn(Strict):
    campaign: Id
    session: SessionToken | None = None
    viewer: ClientId
    name: Annotated[str | None, Field(max_length=40), AfterValidator(_display_name)] = None
    since: Annotated[int | None, Field(ge=0)] = None
    # The publisher page's origin (the widget learns it from the embed), for the analytics.
    origin: Annotated[str, Field(max_length=200), AfterValidator(_origin)] | None = None


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


HttpsUrl = Annotated[str, StringConstraints(max_length=500), AfterValidator(_https_url)]
UtcTime = Annotated[
    str,
    StringConstraints(max_length=40),
    AfterValidator(_utc_time),
    Field(json_schema_extra={"format": "date-time"}, examples=["2025-06-01T09:00:00Z"]),
]
PersonIds = Annotated[list[Id], Field(max_length=12), AfterValidator(_known_people)]
SCHEDULE = (
    "A `live` campaign is shown as not started before `starts_at` and as ended after "
    "`ends_at`; null: no limit."
)


class Cause(Strict):
    title: Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_required_text)]
    description: Annotated[str, Field(max_length=2000)] = ""
    image_url: HttpsUrl | None = Field(
        None, description="An https:// image for link previews of invites (≤ 500 characters)."
    )


class Look(Strict):
    accent: Annotated[
        str, AfterValidator(_hex_colour), Field(json_schema_extra={"pattern": HEX_COLOUR.pattern})
    ] = "#0b6e4f"
    theme: Literal["light", "dark"] = "light"


Origin = Annotated[str, AfterValidator(_origin)]


def _language(value: str) -> str:
    if value not in languages():
        raise ValueError(f"one of {', '.join(languages())}")
    return value


Language = Annotated[
    str,
    AfterValidator(_language),
    Field(
        description="The language viewers read the unit in.",
        json_schema_extra={"enum": list(languages())},
    ),
]
RoomSize = Annotated[
    int,
    Field(
        ge=2,
        le=10_000,
        description=(
            "How many people one shared session holds; the next friend is offered a new room of "
            "the same group."
        ),
    ),
]


CampaignName = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_required_text)]


class CampaignIn(Strict):
    name: CampaignName
    activity: Id
    cause: Cause
    goal: Annotated[int, Field(gt=0, le=10**12)]
    promise: Annotated[str, Field(max_length=300)] = ""
    settings: dict[str, Any] = Field(default_factory=dict)
    allowed_origins: Annotated[list[Origin], Field(max_length=100)] = Field(default_factory=list)
    status: Status = "draft"
    look: Look = Field(default_factory=Look)
    starts_at: UtcTime | None = Field(None, description="When it starts (UTC). " + SCHEDULE)
    ends_at: UtcTime | None = Field(None, description="When it ends (UTC), after `starts_at`.")
    people: PersonIds = Field(
        default_factory=list,
        description="Ids of the brand's people (its roster) who speak for it in this campaign.",
    )
    language: Language = "en"
    room_size: RoomSize = 20

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, ends_at: str | None, info: ValidationInfo) -> str | None:
        problem = schedule_error(info.data.get("starts_at"), ends_at)
        if problem:
            raise ValueError(problem)
        return ends_at


class CampaignPatch(Strict):
    # A field left out is None here and not changed; an explicit null is refused by the field's
    # type (422), except for the times, where null clears. The defaults are deliberately outside
    # the types, hence the ignores: `X | None` would let a null through and into the campaign.
    name: CampaignName = None  # type: ignore[assignment]
    activity: Id = None  # type: ignore[assignment]
    cause: Cause = None  # type: ignore[assignment]
    goal: Annotated[int, Field(gt=0, le=10**12)] = None  # type: ignore[assignment]
    promise: Annotated[str, Field(max_length=300)] = None  # type: ignore[assignment]
    settings: dict[str, Any] = None  # type: ignore[assignment]
    allowed_origins: Annotated[list[Origin], Field(max_length=100)] = None  # type: ignore[assignment]
    status: Status = None  # type: ignore[assignment]
    look: Look = None  # type: ignore[assignment]
    # null clears a time; ``campaigns.update`` checks the merged schedule.
    starts_at: UtcTime | None = Field(None, description="When it starts (UTC). " + SCHEDULE)
    ends_at: UtcTime | None = Field(None, description="When it ends (UTC), after `starts_at`.")
    people: PersonIds = None  # type: ignore[assignment]
    language: Language = None  # type: ignore[assignment]
    room_size: RoomSize = None  # type: ignore[assignment]


def _message(error: ErrorDetails) -> str:
    # Our own validators' messages read better without pydantic's "Value error, " in front.
    return error["msg"].removeprefix("Value error, ")


def first_error(exc: ValidationError) -> tuple[str, str]:
    """(dotted field path, message) of a validation error, for one readable answer."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return where, _message(error)


def error_list(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]), "message": _message(e)}
        for e in exc.errors(include_url=False)
    ]


def is_too_long(exc: ValidationError) -> bool:
    return any(e["type"] == "string_too_long" for e in exc.errors(include_url=False))
