"""What a rendered widget page must hold: the hooks the live code finds its elements by, and
no English left on a page in another language (``english_left``)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import orjson

from socialads.domain.texts import FALLBACK, catalog

# The data-* attributes static/src's live code looks for in every widget document.
HOOKS = (
    "data-socialad-action",
    "data-socialad-total",
    "data-socialad-session-total",
    "data-socialad-presence",
    "data-socialad-invite",
    "data-socialad-chat-input",
    "data-socialad-chat-log",
    "data-socialad-status",
)

# A {field} of a text, filled in when it is shown.
FIELD = re.compile(r"\{(\w+)\}")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [text for item in value for text in _strings(item)] if isinstance(value, list) else []


class _Shown(HTMLParser):
    """What a page shows or says: its text, the values of its attributes that people read or
    that the live code shows (aria-*, title, placeholder, alt, value, data-*) and the string
    values (not the keys) of its JSON scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.inside: tuple[str, str] = ("", "")

    def handle_starttag(self, tag, attrs):
        self.inside = (tag, dict(attrs).get("type") or "")
        for name, value in attrs:
            if value and (
                name.startswith(("aria-", "data-"))
                or name in ("title", "placeholder", "alt", "value", "content")
            ):
                self.parts.append(value)

    def handle_endtag(self, tag):
        self.inside = ("", "")

    def handle_data(self, data):
        tag, kind = self.inside
        if tag == "script" and kind == "application/json":
            self.parts += _strings(orjson.loads(data))
        elif tag not in ("script", "style"):
            self.parts.append(data)


def english_left(html: str, activity: str, lang: str = "es") -> list[str]:
    """The activity's English words (those ``lang`` says differently) still shown in a page in
    ``lang``: the pieces of its texts between their {fields}, as whole words."""
    parser = _Shown()
    parser.feed(html)
    shown = FIELD.sub(" ", "\n".join(parser.parts))  # a {field} name is no word shown
    english = catalog(FALLBACK, activity)
    other = catalog(lang, activity)
    left = []
    for key, text in english.items():
        if not key.startswith(f"{activity}.") or other[key] == text:
            continue
        for form in [text] if isinstance(text, str) else text.values():
            for piece in FIELD.split(form)[::2]:
                piece = piece.strip(" :;,.·")
                if len(piece) < 4 or not re.search(r"[A-Za-z]{3}", piece):
                    continue
                if re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", shown):
                    left.append(f"{key}: {piece!r}")
    return left
