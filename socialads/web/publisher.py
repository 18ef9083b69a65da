"""The example publisher site (``examples/publisher``), served on another origin than the
ad server, the way a real news site would embed a unit. Used by the demo and the tests."""

from __future__ import annotations

import mimetypes
from pathlib import Path


def publisher_app(folder: Path, base: str, campaign: str):
    """A WSGI app serving ``folder`` with the snippet's placeholders filled in."""
    folder = Path(folder).resolve()

    def app(environ, start_response):
        name = environ.get("PATH_INFO", "/").lstrip("/") or "index.html"
        path = (folder / name).resolve()
        if folder not in path.parents or not path.is_file():
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        body = path.read_bytes()
        if path.suffix == ".html":
            body = body.replace(b"__SOCIALADS_BASE__", base.encode()).replace(
                b"__SOCIALADS_CAMPAIGN__", campaign.encode()
            )
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        start_response(
            "200 OK",
            [
                ("Content-Type", kind),
                ("Cache-Control", "no-store"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

    return app
