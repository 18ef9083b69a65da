"""Built front-end files: the manifest of hashed names, and precompressed responses.

``make build`` writes ``static/dist`` with ``manifest.json`` (logical name -> hashed file)
and a ``.br`` and ``.gz`` sibling for every file; we pick the smallest the client accepts.
Hashed files are immutable and cached for a year; unhashed ones (``embed.js``) briefly.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

import orjson
from flask import abort, current_app, request, send_file

HASHED = re.compile(r"-[A-Z0-9]{8}\.[a-z]+$")
_manifests: dict[str, tuple[float, dict]] = {}


def static_dir() -> Path:
    return Path(current_app.config["STATIC_DIR"])


def manifest() -> dict[str, str]:
    path = static_dir() / "manifest.json"
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise RuntimeError(f"{path} is missing: run `make build` first") from None
    cached = _manifests.get(str(path))
    if cached is None or cached[0] != mtime:
        cached = (mtime, orjson.loads(path.read_bytes()))
        _manifests[str(path)] = cached
    return cached[1]


def asset_url(name: str) -> str:
    return "/static/" + manifest()[name]


_texts: dict[str, str] = {}


def asset_text(name: str) -> str:
    """A built file's text, for what is small and needed at once enough to be worth inlining:
    the first paint's CSS and boot script. A stylesheet in its own request blocks rendering and
    every script after it for one more round trip, in a frame whose renderer is just starting;
    inline, the unit paints (and can go live) as soon as its document arrives."""
    path = static_dir() / manifest()[name]
    key = str(path)
    if key not in _texts:  # hashed names: a new build is a new path
        text = path.read_text(encoding="utf-8")
        lowered = text.lower()
        if "</script" in lowered or "</style" in lowered:
            raise RuntimeError(f"{name} cannot be inlined in a <script> or <style> element")
        _texts[key] = text
    return _texts[key]


def send_asset(relative: str, max_age: int | None = None):
    """Send a built file, precompressed when the client accepts it."""
    root = static_dir().resolve()
    if "\0" in relative:
        abort(404)
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file() or path.suffix in (".gz", ".br"):
        abort(404)
    accepted = request.accept_encodings
    chosen, encoding = path, None
    for suffix, name in ((".br", "br"), (".gz", "gzip")):
        candidate = path.with_name(path.name + suffix)
        if accepted[name] and candidate.is_file():
            chosen, encoding = candidate, name
            break
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mimetype.startswith("text/") or mimetype.endswith("javascript"):
        mimetype += "; charset=utf-8"
    immutable = bool(HASHED.search(path.name))
    response = send_file(
        chosen,
        mimetype=mimetype,
        conditional=True,
        etag=True,
        max_age=31536000 if immutable else (max_age or 300),
    )
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    response.cache_control.public = True
    if immutable:
        response.cache_control.immutable = True
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
