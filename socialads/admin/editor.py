"""The campaign editor: create and edit a campaign, see it as viewers will while typing, embed it.

The form is plain HTML, posted and validated by the same rules as the API
(``campaigns.create`` / ``campaigns.update``); each problem they report is shown next to its
field. An activity's own settings form is generated from its settings JSON Schema, so a new
widget needs no admin code. Beside the form, an iframe shows the real widget template
rendered from the unsaved values (`preview`, refreshed by ``static/src/admin/editor.js``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from socialads.activities import Activity, load_activities
from socialads.admin import CAMPAIGN_TABS, bp
from socialads.admin.auth import current_brand, store
from socialads.admin.campaigns import own_campaign
from socialads.domain import campaigns as campaign_rules
from socialads.domain.campaigns import DEFAULT_ROOM_SIZE
from socialads.domain.errors import Problem
from socialads.domain.schemas import CampaignIn, Look
from socialads.domain.texts import languages
from socialads.web import embed

# What a new campaign starts with, and what the preview shows for a value it cannot use.
DEFAULTS = {"name": "New campaign", "cause": {"title": "Your cause", "description": ""},
            "goal": 1000, "promise": "", "status": "draft"}
STATUSES = [("draft", "Draft: not shown to anyone yet"), ("live", "Live"),
            ("paused", "Paused"), ("ended", "Ended")]
INTEGER = re.compile(r"^[+-]?\d{1,15}$")


# -- the activity's settings form, from its JSON Schema ------------------------------------


@dataclass(frozen=True)
class SettingField:
    """One input of an activity's settings form."""

    key: str  # the settings key
    kind: str  # text | number | checkbox | select | json (a list or object, as JSON text)
    label: str
    hint: str
    default: Any
    attrs: dict[str, Any] = field(default_factory=dict)  # maxlength, min, max, step
    options: tuple[Any, ...] = ()  # the enum values of a select
    nullable: bool = False

    def parse(self, raw: str | None) -> Any:
        """The form's text as the setting's type; what does not parse goes on as text, so
        the activity's validation names the problem."""
        if self.kind == "checkbox":
            return raw is not None
        raw = raw or ""
        if raw == "" and self.nullable:
            return None
        if self.kind == "json":
            try:
                return json.loads(raw)
            except ValueError:
                return raw
        if self.kind == "select":
            return next((option for option in self.options if str(option) == raw), raw)
        if self.kind == "number":
            text = raw.strip().replace(",", "")
            if INTEGER.match(text):
                return int(text)
            if self.attrs.get("step") == "any":
                try:
                    return float(text)
                except ValueError:
                    pass
        return raw

    def show(self, value: Any) -> str:
        if self.kind == "checkbox":
            return "on" if value else ""
        if self.kind == "json":
            return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False)
        return "" if value is None else str(value)


def _resolve(prop: dict, defs: dict) -> tuple[dict, bool]:
    """(the property's own schema with $refs and Optional unwrapped, whether null is allowed)."""
    nullable = False
    branches = prop.get("anyOf") or prop.get("allOf")
    if branches:
        others = [b for b in branches if b.get("type") != "null"]
        nullable = len(others) < len(branches)
        if len(others) == 1:
            prop = {**others[0], **{k: v for k, v in prop.items() if k not in ("anyOf", "allOf")}}
    if "$ref" in prop:
        target = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
        prop = {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop, nullable


def settings_fields(activity: Activity) -> list[SettingField]:
    """The inputs for an activity's settings: string → text, integer/number → number,
    boolean → checkbox, enum → select, array/object → a JSON textarea (validated by the same
    settings model); other types are kept as they are, not edited here."""
    schema = activity.Settings.model_json_schema()
    fields = []
    for key, raw_prop in schema.get("properties", {}).items():
        prop, nullable = _resolve(raw_prop, schema.get("$defs", {}))
        kind, attrs, options = None, {}, ()
        if "enum" in prop:
            kind, options = "select", tuple(prop["enum"])
        elif prop.get("type") == "string":
            kind = "text"
            attrs = {"maxlength": prop.get("maxLength"), "minlength": prop.get("minLength")}
        elif prop.get("type") in ("integer", "number"):
            kind, integer = "number", prop["type"] == "integer"
            # min/max are inclusive: an exclusive bound translates for whole numbers only
            low = prop.get("minimum", _exclusive(prop.get("exclusiveMinimum"), 1, integer))
            high = prop.get("maximum", _exclusive(prop.get("exclusiveMaximum"), -1, integer))
            attrs = {"min": low, "max": high, "step": 1 if integer else "any"}
        elif prop.get("type") == "boolean":
            kind = "checkbox"
        elif prop.get("type") in ("array", "object"):
            kind = "json"
        if kind is None:
            continue
        fields.append(SettingField(
            key, kind, prop.get("title") or key.replace("_", " ").capitalize(),
            prop.get("description", ""), prop.get("default"),
            {k: v for k, v in attrs.items() if v is not None}, options, nullable))
    return fields


def _exclusive(bound, step: int, integer: bool):
    return bound + step if integer and isinstance(bound, int) else None


# -- form <-> campaign ----------------------------------------------------------------------


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


def settings_from_form(form: MultiDict, activity: Activity, saved: dict | None) -> dict:
    """The activity's settings from its inputs (``settings.<activity>.<key>``); settings the
    form does not edit keep their saved values."""
    fields = settings_fields(activity)
    edited = {f.key for f in fields}
    kept = (saved["settings"] if saved and saved["activity"] == activity.name else {})
    settings = {k: v for k, v in kept.items() if k not in edited}
    for f in fields:
        name = f"settings.{activity.name}.{f.key}"
        if f.kind == "json" and not form.get(name, "").strip():
            continue  # left empty: the activity's default
        if f.kind == "checkbox" or name in form:
            settings[f.key] = f.parse(form.get(name))
    return settings


def body_from_form(form: MultiDict, saved: dict | None = None) -> dict:
    """The API body the form stands for: every field, so an edit replaces them all."""
    goal = _integer(form.get("goal", ""))
    activity = load_activities().get(form.get("activity", ""))
    return {
        "name": form.get("name", ""),
        "activity": form.get("activity", ""),
        "cause": {"title": form.get("cause.title", ""),
                  "description": _text(form, "cause.description"),
                  "image_url": form.get("cause.image_url", "").strip() or None},
        "goal": goal,
        "promise": _text(form, "promise"),
        "settings": settings_from_form(form, activity, saved) if activity else {},
        "allowed_origins": [line.strip() for line in form.get("allowed_origins", "").splitlines()
                            if line.strip()],
        "status": form.get("status", ""),
        "look": {"accent": form.get("look.accent", Look().accent),
                 "theme": form.get("look.theme", "light")},
        "language": form.get("language", "en"),
        "room_size": _integer(form.get("room_size") or str(DEFAULT_ROOM_SIZE)),
        "starts_at": _utc_time(form.get("starts_at", "")),
        "ends_at": _utc_time(form.get("ends_at", "")),
        "people": form.getlist("people"),
    }


def values_from_campaign(campaign: dict) -> dict[str, Any]:
    """The form's values (input name → text, or a list for people) for a stored campaign."""
    values = {
        "name": campaign["name"], "activity": campaign["activity"],
        "cause.title": campaign["cause"]["title"],
        "cause.description": campaign["cause"].get("description", ""),
        "cause.image_url": campaign["cause"].get("image_url") or "",
        "goal": str(campaign["goal"]), "promise": campaign.get("promise", ""),
        "look.accent": campaign["look"]["accent"], "look.theme": campaign["look"]["theme"],
        "language": campaign.get("language", "en"),
        "room_size": str(campaign.get("room_size", DEFAULT_ROOM_SIZE)),
        "allowed_origins": "\n".join(campaign.get("allowed_origins", [])),
        "starts_at": _local_time(campaign.get("starts_at")),
        "ends_at": _local_time(campaign.get("ends_at")),
        "status": campaign["status"], "people": list(campaign.get("people", [])),
    }
    for name, activity in load_activities().items():
        settings = activity.settings(
            campaign["settings"] if name == campaign["activity"] else {}).model_dump()
        for f in settings_fields(activity):
            values[f"settings.{name}.{f.key}"] = f.show(settings.get(f.key, f.default))
    return values


def default_activity() -> str:
    """The activity a new campaign starts with: DEFAULT_ACTIVITY when it is installed."""
    activities = load_activities()
    chosen = current_app.config["DEFAULT_ACTIVITY"]
    return chosen if chosen in activities else next(iter(activities))


def _new_values() -> dict[str, Any]:
    values = values_from_campaign(
        {**CampaignIn.model_validate({**DEFAULTS, "activity": default_activity()})
         .model_dump(), "settings": {}})
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


# -- the preview ------------------------------------------------------------------------------


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


def preview_entry(form: MultiDict, saved: dict | None, brand: dict) -> campaign_rules.Entry:
    """A campaign from unsaved form values, every unusable value replaced by its default."""
    activities = load_activities()
    body = body_from_form(form, saved)
    if body["activity"] not in activities:
        body["activity"] = saved["activity"] if saved else default_activity()
    activity = activities[body["activity"]]
    fallback = CampaignIn.model_validate({**DEFAULTS, "activity": activity.name}).model_dump()
    if not body["cause"]["title"].strip():
        body["cause"]["title"] = DEFAULTS["cause"]["title"]
    data = _lenient(CampaignIn.model_validate, body, fallback).model_dump()
    settings = _lenient(activity.settings, body["settings"], activity.settings({}).model_dump())
    campaign = {**data, "settings": settings.model_dump(),
                "id": saved["id"] if saved else "preview", "brand_id": brand["id"]}
    return campaign_rules.Entry(campaign, brand["name"], activity, settings, 0)


# -- views ------------------------------------------------------------------------------------

_after_overview = next((i + 1 for i, tab in enumerate(CAMPAIGN_TABS) if tab["name"] == "overview"),
                       len(CAMPAIGN_TABS))
CAMPAIGN_TABS[_after_overview:_after_overview] = [
    {"name": "edit", "title": "Edit", "endpoint": "admin.edit_campaign"},
    {"name": "embed", "title": "Embed", "endpoint": "admin.embed_code"},
]


def _editor(brand: dict, saved: dict | None, values: dict, errors: dict, status: int = 200):
    activities = load_activities()
    # Empty values are left out: an unchecked box is an absent one, as in a form.
    preview_query = {k: v for k, v in values.items() if isinstance(v, str) and v}
    if saved:
        preview_query["cid"] = saved["id"]
    preview_url = url_for("admin.preview") + "?" + urlencode(
        [*preview_query.items(), *(("people", p) for p in values.get("people", []))])
    return render_template(
        "admin/campaign_form.html", brand=brand, campaign=saved, values=values, errors=errors,
        activities=activities,
        settings_fields={name: settings_fields(a) for name, a in activities.items()},
        statuses=STATUSES, roster=store().brand_people(brand["id"]), languages=languages(),
        effective_status=campaign_rules.effective_status(saved) if saved else None,
        preview_url=preview_url,
        preview_base=url_for("admin.preview", **({"cid": saved["id"]} if saved else {})),
        tab="edit"), status


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign():
    brand = current_brand()
    if request.method == "GET":
        return _editor(brand, None, _new_values(), {})
    body = body_from_form(request.form)
    try:
        created = campaign_rules.create(store(), brand["id"], body)
    except Problem as problem:
        return _editor(brand, None, values_from_form(request.form),
                       field_errors(problem, body), 422)
    flash(f"Campaign “{created['name']}” created.", "success")
    return redirect(url_for("admin.edit_campaign", cid=created["id"]))


@bp.route("/campaigns/<cid>/edit", methods=["GET", "POST"])
@login_required
def edit_campaign(cid: str):
    saved = own_campaign(cid)
    brand = current_brand()
    if request.method == "GET":
        return _editor(brand, saved, values_from_campaign(saved), {})
    body = body_from_form(request.form, saved)
    try:
        campaign_rules.update(store(), saved, body)
    except Problem as problem:
        return _editor(brand, saved, values_from_form(request.form),
                       field_errors(problem, body), problem.http_status)
    flash("Saved. Totals and sessions carry on.", "success")
    return redirect(url_for("admin.edit_campaign", cid=cid))


@bp.get("/campaigns/preview")
@login_required
def preview():
    """The widget from the editor's unsaved values; framed only by the admin itself."""
    cid = request.args.get("cid")
    saved = own_campaign(cid) if cid else None
    entry = preview_entry(request.args, saved, current_brand())
    total, state = store().campaign_progress(saved["id"])[:2] if saved else (0, {})
    response = embed.render_document(
        "embed/widget.html", embed.unit_context(entry, total, state, None, "widget",
                                                preview=True), frame_ancestors="'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/campaigns/<cid>/embed")
@login_required
def embed_code(cid: str):
    campaign = own_campaign(cid)
    public_url = current_app.config["PUBLIC_URL"]
    return render_template(
        "admin/embed_code.html", campaign=campaign, tab="embed",
        snippet=campaign_rules.embed_snippet(public_url, cid),
        invite_host=urlsplit(public_url).netloc,
        invite_image=campaign["cause"].get("image_url") or url_for("embed.og_image"))


@bp.get("/campaigns/<cid>/test-page")
@login_required
def test_page(cid: str):
    """The campaign embedded exactly as a publisher would, to try it before publishing."""
    campaign = own_campaign(cid)
    public_url = current_app.config["PUBLIC_URL"]
    parts = urlsplit(public_url)
    ours = f"'self' {parts.scheme}://{parts.netloc}"
    response = current_app.make_response(render_template(
        "admin/test_page.html", campaign=campaign,
        snippet=campaign_rules.embed_snippet(public_url, cid)))
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src {ours}; style-src 'self'; img-src 'self' data:; "
        f"frame-src {ours}; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "object-src 'none'; frame-ancestors 'none'")
    return response
