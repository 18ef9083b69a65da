"""The campaigns of a brand: the list, and one campaign's pages."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, session, url_for
from flask_login import current_user, login_required

from socialads.admin.auth import brand_id, current_brand, store
from socialads.admin.blueprint import CAMPAIGN_TABS, bp
from socialads.store import Campaign


def own_campaign(cid: str) -> Campaign:
    """A campaign of the current brand; any other id is a 404, like one that does not exist."""
    campaign = store().get_campaign(cid) if len(cid) <= 64 else None
    if campaign is None or campaign.brand_id != brand_id():
        abort(404)
    return campaign


@bp.get("/")
@login_required
def home():
    if current_user.superuser and not session.get("brand_id"):
        return redirect(url_for("admin.brands"))
    brand = current_brand()
    rows = []
    for campaign in store().brand_campaigns(brand["id"]):
        stats = store().stats(campaign.id)
        rows.append(
            {
                **campaign.to_json(),
                "stats": stats,
                "percent": min(100, stats["total"] * 100 // campaign.goal),
            }
        )
    rows.sort(key=lambda c: c["created_at"], reverse=True)
    return render_template(
        "admin/campaigns.html",
        brand=brand,
        campaigns=rows,
        public_url=current_app.config["PUBLIC_URL"],
        campaign_endpoint=CAMPAIGN_TABS[0]["endpoint"],
    )


# The first tab, registered here so it stays first; its view is in dashboard.py.
CAMPAIGN_TABS.append({"name": "overview", "title": "Overview", "endpoint": "admin.campaign"})
