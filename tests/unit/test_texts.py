"""The texts of issue 4: every catalog says the same things in every language, and every key
the templates and the live code ask for exists (socialads.domain.texts)."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from socialads.activities import load_activities
from socialads.config import ROOT
from socialads.domain.texts import CORE, FALLBACK, Texts, catalog
from tests.support.pages import FIELD, english_left

# t('key') / t("key") with a literal key, followed by its fields or the closing parenthesis
# (a computed key such as t('status.' ~ status) is not a literal one).
USED = re.compile(r"""\bt\(\s*(['"])([\w.]+)\1\s*[,)]""")


def catalog_folders() -> dict[str, Path]:
    """Every folder of catalogs: the frame's, and each installed activity's own."""
    folders = {"core": CORE}
    for name, activity in load_activities().items():
        folder = activity.folder / "texts"
        if folder.is_dir():
            folders[name] = folder
    return folders


def read(path: Path) -> dict:
    return orjson.loads(path.read_bytes())


def shape(text) -> str | tuple[str, ...]:
    return "text" if isinstance(text, str) else tuple(sorted(text))


def fields(text) -> set[str]:
    forms = [text] if isinstance(text, str) else list(text.values())
    return {name for form in forms for name in FIELD.findall(form)}


CATALOGS = [
    (owner, path)
    for owner, folder in catalog_folders().items()
    for path in sorted(folder.glob("*.json"))
    if path.stem != FALLBACK
]


def test_every_activity_with_words_has_an_english_catalog():
    folders = catalog_folders()
    for name in load_activities():
        assert name in folders, f"widgets/{name} has no texts/ folder"
    for owner, folder in folders.items():
        assert (folder / f"{FALLBACK}.json").is_file(), owner
    assert CATALOGS, "no second language shipped"


@pytest.mark.parametrize("owner, path", CATALOGS, ids=[f"{o}/{p.name}" for o, p in CATALOGS])
def test_every_language_says_what_english_says(owner, path):
    english = read(path.parent / f"{FALLBACK}.json")
    other = read(path)
    assert set(other) == set(english), (
        f"missing: {sorted(set(english) - set(other))}, extra: {sorted(set(other) - set(english))}"
    )
    for key, text in english.items():
        assert shape(other[key]) == shape(text), key
        if not isinstance(text, str):
            assert set(text) == {"one", "other"}, key
        assert fields(other[key]) == fields(text), key
        assert all(
            isinstance(form, str) and form.strip()
            for form in ([other[key]] if isinstance(other[key], str) else other[key].values())
        ), key


def test_every_shipped_language_has_a_catalog_for_every_activity():
    languages = {path.stem for path in CORE.glob("*.json")}
    for owner, folder in catalog_folders().items():
        assert {path.stem for path in folder.glob("*.json")} == languages, owner


def _sources() -> list[tuple[Path, str | None]]:
    """Every file that asks for texts, with the activity whose own keys it may use."""
    found: list[tuple[Path, str | None]] = [
        (path, None) for path in sorted((ROOT / "socialads" / "templates").rglob("*.html"))
    ]
    # the live code is ES modules in folders (static/src/live/*.js): every one of them
    found += [(path, None) for path in sorted((ROOT / "static" / "src").rglob("*.js"))]
    for name, activity in load_activities().items():
        for file in ("template.html", "widget.js"):
            if (activity.folder / file).is_file():
                found.append((activity.folder / file, name))
    return found


def test_every_literal_key_in_templates_and_live_code_exists_in_english():
    core = read(CORE / f"{FALLBACK}.json")
    asked = 0
    missing = []
    for path, activity in _sources():
        known = set(core)
        if activity:
            known |= set(catalog(FALLBACK, activity))
        for match in USED.finditer(path.read_text(encoding="utf-8")):
            asked += 1
            if match.group(2) not in known:
                missing.append(f"{path.relative_to(ROOT)}: {match.group(2)}")
    assert asked > 50, "found too few t() calls: is the pattern still right?"
    assert missing == []


def test_an_activity_reads_only_its_own_keys_besides_the_frame():
    for name, activity in load_activities().items():
        for file in ("template.html", "widget.js"):
            path = activity.folder / file
            if not path.is_file():
                continue
            for match in USED.finditer(path.read_text(encoding="utf-8")):
                key = match.group(2)
                other = key.split(".", 1)[0]
                assert other == name or other not in load_activities(), f"{path}: {key}"


def test_numbers_take_the_language_s_separator():
    assert Texts("es").n(1234567) == "1.234.567"
    assert Texts("en").n(1234567) == "1,234,567"
    assert Texts("es").n(999) == "999"


def test_plurals_and_fields():
    es = Texts("es", "poll")
    assert es("poll.votes", n=1) == "1 voto"
    assert es("poll.votes", n=1200) == "1.200 votos"
    assert Texts("en", "poll")("poll.votes", n=0) == "0 votes"
    assert es("poll.you_voted", option="<b>") == "Has votado por &lt;b&gt;."
    assert Texts("xx").lang == FALLBACK


def test_english_left_finds_english_words_shown_and_nothing_else():
    page = (
        '<p data-x="Results">Votes in all: 3</p><p class="votes">Votos</p>'
        '<script type="application/json">{"poll.votes": "{votes}"}</script>'
    )
    assert english_left(page, "poll") == ["poll.results: 'Results'", "poll.total: 'Votes in all'"]
