"""The widget interface: what an activity type provides, and how activities are found.

An activity (a "widget") is a self-contained package, usually a folder in ``widgets/``,
that exposes one `Activity` object through the ``socialads.widgets`` entry point group.
Built-in activities are registered exactly like third-party ones, so the core never names
a widget. A widget package holds:

- ``template.html``: the activity's part of the unit, rendered server-side (Jinja2) as
  ``<name>/template.html`` with the context documented in ``socialads.web.embed``;
- ``widget.js`` / ``widget.css``: its browser code and style, bundled by ``make build``
  into hashed files (``widget.js`` calls ``start()`` from the ``socialads-live`` core);
- the `Activity` object below: settings schema and the server-side rules.

Rules run in Python before one atomic Redis script counts the action (see
``socialads.store.record_action``): `effect` turns a validated action into an `Effect`
(how much it adds, the per-viewer cap, a once-only choice, a cooldown, state counters to
bump), and `summarise` turns the stored state counters into the ``state`` object sent with
``progress`` and ``join``. A viewer's own once-only choices come back to them in the join
acknowledgement as ``mine`` ({once key: choice}), so a poll can show "you voted for …".

An activity may also offer a **group match** (`group_match`): every ``every`` different people
of one session who act unlock ``amount`` more from the brand, added to the campaign total
from a pool of ``pool``, in the same script, and written to a public ledger. Viewers then get
``group`` ({people, matched}) with their session's totals and ``state.match`` (the pool, what
is used, the latest ledger entries).

Words a widget shows go through its ``texts/<lang>.json`` (see ``socialads.domain.texts``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from importlib.resources import files
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

ENTRY_POINT_GROUP = "socialads.widgets"
log = logging.getLogger(__name__)


class ActionRejected(Exception):
    """An action the activity refuses; ``code`` is a CONTRACT error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Match:
    """A brand match that friends unlock together (see the module docstring)."""

    every: int  # different people of one session per unlock
    amount: int  # what one unlock adds to the campaign total
    pool: int  # the most the brand adds through unlocks, all sessions together


@dataclass(frozen=True)
class Effect:
    """What one accepted action does; the core applies it in one atomic Redis script."""

    amount: int = 1  # added to the campaign and session totals (0 counts the action only)
    per_viewer_cap: int = 0  # how many actions one viewer may have counted (0: no cap)
    state: dict[str, int] = field(default_factory=dict)  # activity state counters to bump
    # A choice a viewer makes once (e.g. "vote", "q3"): a second action with the same key is
    # refused with `already`; `choice` is kept and returned to that viewer in `join` (`mine`).
    once: str = ""
    choice: str = ""
    already: str = "You have already made that choice."
    cooldown: float = 0  # seconds a viewer waits between two counted actions (0: none)

    def __post_init__(self) -> None:
        # Totals only grow: every process keeps the larger of two readings as the later one
        # (socialads.realtime.progress), so a count that went down would never be shown.
        if self.amount < 0 or any(step < 0 for step in self.state.values()):
            raise ValueError("an Effect only adds: amount and state steps must be >= 0")


class Settings(BaseModel):
    """Base for an activity's settings: unknown keys are errors, every field has a default."""

    model_config = ConfigDict(extra="forbid", strict=True)


# Inside `Activity` the name ``Settings`` is its class attribute (a widget's own model); its
# methods' annotations name the base model through this alias.
SettingsModel = Settings


class Activity:
    """Subclass this (or instantiate it) in a widget package and expose the instance."""

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    Settings: ClassVar[type[Settings]] = Settings
    package: ClassVar[str]  # the import name of the widget package (its files live there)
    # How many of the top sessions (group names and totals, never tokens) ``state`` carries
    # under "board"; 0 for none.
    leaderboard: ClassVar[int] = 0

    def settings(self, raw: dict[str, Any] | None) -> SettingsModel:
        """Validate campaign settings; raises pydantic.ValidationError."""
        return self.Settings.model_validate(raw or {})

    def effect(self, settings: SettingsModel, kind: str | None, data: dict | None) -> Effect:
        """Validate one action and say what it counts; raise ActionRejected to refuse."""
        return Effect()

    def summarise(self, settings: SettingsModel, state: dict[str, int]) -> dict[str, Any]:
        """The activity's public state, from its stored counters."""
        return {}

    def group_match(self, settings: SettingsModel) -> Match | None:
        """The brand match friends unlock together in this campaign, if any."""
        return None

    @property
    def folder(self) -> Path:
        return Path(str(files(self.package)))

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "settings": self.Settings.model_json_schema(),
        }


@cache
def load_activities() -> dict[str, Activity]:
    """Every installed activity, by name, from the ``socialads.widgets`` entry points."""
    found: dict[str, Activity] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            activity = entry.load()
        except Exception:  # one broken plugin must not take the others down
            log.exception("activity %s (%s) failed to load; skipped", entry.name, entry.value)
            continue
        if isinstance(activity, type):
            activity = activity()
        if not isinstance(activity, Activity) or activity.name != entry.name:
            raise RuntimeError(f"entry point {entry.value} is not an Activity named {entry.name}")
        found[entry.name] = activity
    return dict(sorted(found.items()))
