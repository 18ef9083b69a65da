"""The campaign form and the campaign it stands for, both ways: the API body a posted form
means (`body_from_form`, so the admin is validated by the same rules as the API), the form's
values for a stored campaign, the problems found by input name, and the campaign the preview
shows from unsaved values (every unusable value replaced by its default).
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from socialads.activities import load_activities
from socialads.admin.settings_form import INTEGER, settings_fields, settings_from_form
from socialads.domain import campaigns as campaign_rules
from socialads.domain.campaigns import DEFAULT_ROOM_SIZE
from socialads.domain.errors import Problem
from socialads.domain.schemas import CampaignIn, Look
from socialads.store import Campaign

# What a new campaign starts with, and what the preview shows for a value it cannot use.
DEFAULTS: dict[str, Any] = {
    "name": "New campaign",
    "cause": {"title": "Your cause", "description": ""},
    "goal": 1000,
    "promise": "",
    "status": "draft",
}


def _utc_time(local: str) -> str | None:
    """A ``datetime-local`` value, which the form says is UTC, as an ISO 8601 UTC time."""
    local = local.strip()
    if not local:
        return None
    return local if re.search(r"(Z|[+-]\d\d:?\d\d)$", local) else local + "Z"


def _local_time(utc: str | None) -> str:
    return utc[:16] if utc else ""


def _integer(text: str) -> int | str:
    """A whole number typed into a form ("1,000" too); anything else stays text, to be refused
    with a message by the campaign rules."""
    text = text.strip().replace(",", "")
    return int(text) if INTEGER.match(text) else text


def _text(form: MultiDict, name: str) -> str:
    return form.get(name, "").replace("\r\n", "\n")


def body_from_form(form: MultiDict, saved: Campaign | None = None) -> dict[str, Any]:
    """The API body the form stands for: every field, so an edit replaces them all."""
    goal = _integer(form.get("goal", ""))
    activity = load_activities().get(form.get("activity", ""))
    return {
        "name": form.get("name", ""),
        "activity": form.get("activity", ""),
        "cause": {
            "title": form.get("cause.title", ""),
            "description": _text(form, "cause.description"),
            "image_url": form.get("cause.image_url", "").strip() or None,
        },
        "goal": goal,
        "promise": _text(form, "promise"),
        "settings": settings_from_form(form, activity, saved) if activity else {},
        "allowed_origins": [
            line.strip() for line in form.get("allowed_origins", "").splitlines() if line.strip()
        ],
        "status": form.get("status", ""),
        "look": {
            "accent": form.get("look.accent", Look().accent),
            "theme": form.get("look.theme", "light"),
        },
        "language": form.get("language", "en"),
        "room_size": _integer(form.get("room_size") or str(DEFAULT_ROOM_SIZE)),
        "starts_at": _utc_time(form.get("starts_at", "")),
        "ends_at": _utc_time(form.get("ends_at", "")),
        "people": form.getlist("people"),
    }


def values_from_campaign(campaign: Campaign) -> dict[str, Any]:
    """The form's values (input name → text, or a list for people) for a stored campaign."""
    values = {
        "name": campaign.name,
        "activity": campaign.activity,
        "cause.title": campaign.cause.title,
        "cause.description": campaign.cause.description,
        "cause.image_url": campaign.cause.image_url or "",
        "goal": str(campaign.goal),
        "promise": campaign.promise,
        "look.accent": campaign.look.accent,
        "look.theme": campaign.look.theme,
        "language": campaign.language,
        # 0 (no limit) for a campaign stored before rooms had a size: offer the usual size
        "room_size": str(campaign.room_size or DEFAULT_ROOM_SIZE),
        "allowed_origins": "\n".join(campaign.allowed_origins),
        "starts_at": _local_time(campaign.starts_at),
        "ends_at": _local_time(campaign.ends_at),
        "status": campaign.status,
        "people": list(campaign.people),
    }
    for name, activity in load_activities().items():
        settings = activity.settings(
            campaign.settings if name == campaign.activity else {}
        ).model_dump()
        for f in settings_fields(activity):
            values[f"settings.{name}.{f.key}"] = f.show(settings.get(f.key, f.default))
    return values


def default_activity() -> str:
    """The activity a new campaign starts with: DEFAULT_ACTIVITY when it is installed."""
    activities = load_activities()
    chosen = current_app.config["DEFAULT_ACTIVITY"]
    return chosen if chosen in activities else next(iter(activities))


def _unsaved(data: dict[str, Any], saved: Campaign | None, brand_id: str) -> Campaign:
    """The campaign of values not saved (yet): ``data`` with the saved one's id and times."""
    return Campaign.from_json(
        {
            **data,
            "id": saved.id if saved else "preview",
            "brand_id": brand_id,
            "created_at": saved.created_at if saved else 0.0,
            "updated_at": saved.updated_at if saved else 0.0,
        }
    )


def new_values() -> dict[str, Any]:
    values = values_from_campaign(
        _unsaved(
            {
                **CampaignIn.model_validate(
                    {**DEFAULTS, "activity": default_activity()}
                ).model_dump(),
                "settings": {},
            },
            None,
            "",
        )
    )
    return {**values, "name": "", "cause.title": "", "goal": ""}


def values_from_form(form: MultiDict) -> dict[str, Any]:
    return {**form.to_dict(flat=True), "people": form.getlist("people")}


def field_errors(problem: Problem, body: dict) -> dict[str, list[str]]:
    """The problems ``campaigns.create``/``update`` found, by input name ("" for the rest)."""
    details = problem.extra.get("details") or [{"field": "", "message": problem.message}]
    errors: dict[str, list[str]] = {}
    for detail in details:
        path, message = detail["field"].split("."), detail["message"]
        if path[0] == "settings" and len(path) > 1:
            name = f"settings.{body['activity']}.{path[1]}"
            if len(path) > 2:  # inside a JSON setting: say where
                message = f"{'.'.join(path[2:])}: {message}"
        elif path[0] in ("cause", "look") and len(path) > 1:
            name = ".".join(path[:2])
        elif path[0] in ("allowed_origins", "people") and len(path) > 1 and path[1].isdigit():
            name, index = path[0], int(path[1])
            if index < len(body[name]):
                message = f"{body[name][index]}: {message}"
        else:
            name = path[0]
        errors.setdefault(name, []).append(message)
    return errors


def _lenient(validate, data: dict, fallback: dict):
    """``validate(data)``, with each invalid value replaced by its fallback until it passes."""
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for _ in range(len(data) + 10):
        try:
            return validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = [str(part) for part in error["loc"]]
                if len(loc) > 1 and isinstance(data.get(loc[0]), dict):
                    if loc[1] in fallback.get(loc[0], {}):
                        data[loc[0]][loc[1]] = fallback[loc[0]][loc[1]]
                    else:
                        data[loc[0]].pop(loc[1], None)
                elif loc and loc[0] in fallback:
                    data[loc[0]] = fallback[loc[0]]
                elif loc:
                    data.pop(loc[0], None)
    return validate(fallback)


def preview_entry(form: MultiDict, saved: Campaign | None, brand: dict) -> campaign_rules.Entry:
    """A campaign from unsaved form values, every unusable value replaced by its default."""
    activities = load_activities()
    body = body_from_form(form, saved)
    if body["activity"] not in activities:
        body["activity"] = saved.activity if saved else default_activity()
    activity = activities[body["activity"]]
    fallback = CampaignIn.model_validate({**DEFAULTS, "activity": activity.name}).model_dump()
    if not body["cause"]["title"].strip():
        body["cause"]["title"] = DEFAULTS["cause"]["title"]
    data = _lenient(CampaignIn.model_validate, body, fallback).model_dump()
    settings = _lenient(activity.settings, body["settings"], activity.settings({}).model_dump())
    campaign = _unsaved({**data, "settings": settings.model_dump()}, saved, brand["id"])
    return campaign_rules.Entry(campaign, brand["name"], activity, settings, 0)
