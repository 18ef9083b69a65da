"""Every word a viewer reads, in one place, so a campaign can speak its audience's language.

Catalogs are JSON files, one per language: ``socialads/domain/texts/<lang>.json`` for the unit's
frame (status, presence, chat, invite pages) and ``<widget folder>/texts/<lang>.json`` for an
activity's own words, whose keys are read with the activity's name in front
(``pledge.thanks``). English is complete and fills whatever another catalog lacks, so a
missing translation shows English rather than a hole; a key English lacks is a bug and
raises. The same merged catalog renders the first paint (Jinja's ``t()`` and ``n()``) and
travels to the live code in the page's config, so server and browser never disagree.

A text is a string with ``{named}`` fields, or ``{"one": …, "other": …}`` chosen by the
``n`` field (the plural rules of the languages we ship). ``number.group`` is the thousands
separator. What brands write (cause, promise, button labels they set) is theirs to write in
the campaign's language; an activity's label settings left blank take the catalog's words.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
from markupsafe import Markup, escape

from socialads.activities import load_activities

FALLBACK = "en"
# What the live code in the browser reads (the rest only renders the first paint).
LIVE = (
    "number.",
    "status.",
    "presence.",
    "member.",
    "chat.",
    "note.",
    "unit.goal_reached",
    "unit.of_goal",
)
CORE = Path(str(files("socialads.domain"))) / "texts"


def _read(folder: Path, lang: str) -> dict[str, Any]:
    try:
        return orjson.loads((folder / f"{lang}.json").read_bytes())
    except FileNotFoundError:
        return {}


@cache
def languages() -> dict[str, str]:
    """The languages we ship: code -> the language's own name."""
    found = {}
    for path in sorted(CORE.glob("*.json")):
        found[path.stem] = orjson.loads(path.read_bytes())["language"]
    return found


@cache
def catalog(lang: str, activity: str | None = None) -> dict[str, Any]:
    """The merged texts of the frame and one activity in ``lang``, English underneath."""
    merged = _read(CORE, FALLBACK)
    if lang != FALLBACK:
        merged.update(_read(CORE, lang))
    widget = load_activities().get(activity or "")
    if widget is not None:
        own = _read(widget.folder / "texts", FALLBACK)
        if lang != FALLBACK:
            own.update(_read(widget.folder / "texts", lang))
        merged.update({f"{widget.name}.{key}": value for key, value in own.items()})
    return merged


class Texts:
    """``t(key, **fields)`` and ``n(number)`` for one language and activity."""

    def __init__(self, lang: str | None, activity: str | None = None):
        self.lang = lang if lang in languages() else FALLBACK
        self.activity = activity
        self.catalog = catalog(self.lang, activity)

    def live(self) -> dict[str, Any]:
        """The texts the browser needs: the frame's live words and all of the activity's."""
        own = f"{self.activity}."
        return {
            key: text
            for key, text in self.catalog.items()
            if key.startswith(LIVE) or key.startswith(own)
        }

    def __call__(self, key: str, **fields: Any) -> Markup:
        """The text, its fields filled in; escaped for HTML, except fields that are Markup
        (a brand name already wrapped in <strong>, say)."""
        text = self.catalog[key]
        if isinstance(text, dict):
            text = text["one" if fields.get("n") == 1 else "other"]
        shown = {
            k: self.n(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in fields.items()
        }
        return escape(text).format_map(shown)  # escape() is Markup: fields are escaped too

    def plain(self, key: str, **fields: Any) -> str:
        """The text as plain text (not HTML), for what is stored and shown through textContent
        (a group's name)."""
        text = self.catalog[key]
        if isinstance(text, dict):
            text = text["one" if fields.get("n") == 1 else "other"]
        return text.format_map(fields)

    def n(self, number: int | float) -> str:
        """A count with the language's thousands separator: 12,345 or 12.345."""
        return f"{int(number):,}".replace(",", self.catalog["number.group"])
