"""The answers of ``/api/v1`` that are not request models, as pydantic models: the campaign
as the API returns it, the campaign list, a campaign's stats (with what each counter means)
and the activities. ``socialads.web.openapi`` turns them into the OpenAPI document; each
field's description is what a reader of that document sees."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from socialads.domain.schemas import CampaignIn, Id

# -- answers that are not request models ------------------------------------------------


class Campaign(CampaignIn):
    """A campaign as the API answers it: the brand's fields plus those the server sets."""

    model_config = ConfigDict(title="Campaign")

    id: Id = Field(description="Server-chosen id, e.g. `c_k3j9x2m4q8`.")
    brand_id: Id = Field(description="The brand that owns the campaign (the token's brand).")
    created_at: float = Field(description="Unix time, seconds.")
    updated_at: float = Field(description="Unix time, seconds, of the last change.")
    embed_snippet: str = Field(description="HTML a publisher pastes into a page.")
    widget_url: str = Field(description="The widget document (`/w/<id>`) the snippet frames.")


class CampaignList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaigns: list[Campaign] = Field(description="The brand's campaigns, oldest first.")


class OriginStats(BaseModel):
    """What happened on one publisher's pages."""

    model_config = ConfigDict(extra="forbid")

    impressions: int = Field(ge=0, description="Widget loads on that publisher's pages.")
    joins: int = Field(ge=0, description="First joins of a session there.")
    actions: int = Field(ge=0, description="Actions counted there.")


class Stats(BaseModel):
    """What happened in a campaign so far (``/stats``)."""

    model_config = ConfigDict(extra="forbid")

    campaign: Id = Field(description="The campaign id.")
    goal: int = Field(description="The campaign's goal, for comparison with `total`.")
    total: int = Field(
        ge=0,
        description="Progress towards the goal: the sum of action amounts "
        "and of the group matches the brand added.",
    )
    matched: int = Field(
        ge=0,
        description="What the brand added through group matches (part "
        "of `total`; its public ledger is /c/<id>/ledger).",
    )
    actions: int = Field(ge=0, description="Actions counted.")
    impressions: int = Field(ge=0, description="Times the widget was loaded.")
    viewers: int = Field(ge=0, description="Distinct viewers (an estimate).")
    sessions: int = Field(ge=0, description="Sessions (groups of friends) started.")
    invite_joins: int = Field(ge=0, description="Friends who joined through an invite link.")
    messages: int = Field(ge=0, description="Chat messages posted.")
    live_viewers: int = Field(ge=0, description="Viewers present right now.")
    joins: int = Field(
        ge=0,
        description="Viewers' first joins of a session (starting one or "
        "arriving as a friend); reconnects do not count.",
    )
    engaged_viewers: int = Field(
        ge=0, description="Distinct viewers who acted or chatted (an estimate)."
    )
    invites_opened: int = Field(
        ge=0,
        description=(
            "Invite links opened: loads of the invite landing page (`/s/<token>`, link-preview "
            "bots excluded) plus friends arriving with the invite on a publisher page."
        ),
    )
    invited_sessions: int = Field(
        ge=0, description="Sessions whose invite was opened at least once."
    )
    seed_sessions: int = Field(
        ge=0, description="Sessions started by a viewer no invite brought (the base of `k_factor`)."
    )
    friends_acted: int = Field(
        ge=0, description="Friends who joined through an invite and then acted."
    )
    invite_conversion: float | None = Field(
        ge=0, description=("`invite_joins / invites_opened`; null before any invite was opened.")
    )
    k_factor: float | None = Field(
        ge=0,
        description=("Viral coefficient: `invite_joins / seed_sessions`; null before any session."),
    )
    cycle_time_seconds: float | None = Field(
        ge=0,
        description=(
            "Mean seconds from a session's start to each invited friend's first join; null "
            "before the first friend."
        ),
    )
    brand_replies: int | None = Field(ge=0, description="Replies posted by the brand's people.")
    median_reply_seconds: float | None = Field(
        ge=0,
        description=(
            "Median seconds a session waited for a brand reply; null before the first reply."
        ),
    )
    by_origin: dict[str, OriginStats] = Field(
        description=(
            "Per publisher origin (`scheme://host[:port]`; `direct` when unknown): what happened "
            "on that publisher's pages."
        )
    )


class Activity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Id = Field(description="The value for a campaign's `activity`.")
    title: str
    description: str
    settings: dict[str, Any] = Field(
        description="JSON Schema (2020-12) of the activity's `settings`; `{}` takes defaults."
    )


class Activities(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activities: list[Activity]
