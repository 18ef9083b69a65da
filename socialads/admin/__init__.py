"""The brand admin: where a brand's team sets up campaigns, talks with viewers as named people,
and watches what happens. Server-rendered pages with small, progressive JavaScript.

Every page needs a login, every form a CSRF token, and nothing here may be framed. A user sees
only their own brand; a superuser (created by the CLI) can manage brands and look into any.
"""

from flask import Blueprint, current_app

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Brand-wide pages in the header, in order: (name, title, endpoint).
NAV: list[dict] = []
# One campaign's tabs, in order: (name, title, endpoint taking `cid`).
CAMPAIGN_TABS: list[dict] = []


@bp.app_context_processor
def _admin_globals():
    from socialads.admin.team import brand_for_nav

    return {"admin_nav": NAV, "campaign_tabs": CAMPAIGN_TABS, "brand_for_nav": brand_for_nav,
            "url_endpoints": current_app.view_functions}


from socialads.admin import auth, campaigns, conversation, dashboard, editor, people, team  # noqa: E402,F401
