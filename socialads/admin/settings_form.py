"""An activity's settings form, generated from its settings JSON Schema: a new widget needs no
admin code. Each property becomes one input (`SettingField`) that parses what the form sends
back into the setting's type, or leaves it as text for the activity's own validation to name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from socialads.activities import Activity
from socialads.store import Campaign

INTEGER = re.compile(r"^[+-]?\d{1,15}$")


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
        fields.append(
            SettingField(
                key,
                kind,
                prop.get("title") or key.replace("_", " ").capitalize(),
                prop.get("description", ""),
                prop.get("default"),
                {k: v for k, v in attrs.items() if v is not None},
                options,
                nullable,
            )
        )
    return fields


def _exclusive(bound, step: int, integer: bool):
    return bound + step if integer and isinstance(bound, int) else None


def settings_from_form(form: MultiDict, activity: Activity, saved: Campaign | None) -> dict:
    """The activity's settings from its inputs (``settings.<activity>.<key>``); settings the
    form does not edit keep their saved values."""
    fields = settings_fields(activity)
    edited = {f.key for f in fields}
    kept = saved.settings if saved and saved.activity == activity.name else {}
    settings = {k: v for k, v in kept.items() if k not in edited}
    for f in fields:
        name = f"settings.{activity.name}.{f.key}"
        if f.kind == "json" and not form.get(name, "").strip():
            continue  # left empty: the activity's default
        if f.kind == "checkbox" or name in form:
            settings[f.key] = f.parse(form.get(name))
    return settings
