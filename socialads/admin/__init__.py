"""The brand admin: where a brand's team sets up campaigns, talks with viewers as named people,
and watches what happens. Server-rendered pages with small, progressive JavaScript.

Every page needs a login, every form a CSRF token, and nothing here may be framed. A user sees
only their own brand; a superuser (created by the CLI) can manage brands and look into any.

One module per page family (auth, campaigns, conversation, dashboard, editor with its settings
forms, people, team); each registers its routes on `blueprint.bp` when imported, in this order,
which is the order of the header and the campaign tabs.

May import: ``socialads.web`` (the unit's rendering, for the preview), ``socialads.realtime``
(the ``/admin`` namespace and rooms), ``socialads.domain``, ``socialads.store`` and the modules
at the package's top. Never ``runtime``.
"""

from __future__ import annotations

from flask import current_app

from socialads.admin import auth, campaigns, conversation, dashboard, editor, people, team
from socialads.admin.blueprint import CAMPAIGN_TABS, NAV, bp
from socialads.admin.team import brand_for_nav

__all__ = ["auth", "bp", "campaigns", "conversation", "dashboard", "editor", "people", "team"]


@bp.app_context_processor
def _admin_globals():
    return {
        "admin_nav": NAV,
        "campaign_tabs": CAMPAIGN_TABS,
        "brand_for_nav": brand_for_nav,
        "url_endpoints": current_app.view_functions,
    }
