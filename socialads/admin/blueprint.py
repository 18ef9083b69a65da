"""The admin's blueprint and the lists its pages add themselves to as they are imported.

Apart from the package's ``__init__`` so the page modules can import it without importing
the package that imports them (no circle).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Brand-wide pages in the header, in order: (name, title, endpoint).
NAV: list[dict] = []
# One campaign's tabs, in order: (name, title, endpoint taking `cid`).
CAMPAIGN_TABS: list[dict] = []
