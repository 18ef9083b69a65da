"""The campaign editor: create and edit a campaign, see it as viewers will while typing, embed it.

The form is plain HTML, posted and validated by the same rules as the API
(``campaigns.create`` / ``campaigns.update``; `campaign_form` turns one into the other); each
problem they report is shown next to its field. An activity's own settings form is generated
from its settings JSON Schema (`settings_form`). Beside the form, an iframe shows the real
widget template rendered from the unsaved values (`preview`, refreshed by
``static/src/admin/editor.js``).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from socialads.activities import load_activities
from socialads.admin.auth import current_brand, store
from socialads.admin.blueprint import CAMPAIGN_TABS, bp
from socialads.admin.campaign_form import (
    body_from_form,
    field_errors,
    new_values,
    preview_entry,
    values_from_campaign,
    values_from_form,
)
from socialads.admin.campaigns import own_campaign
from socialads.admin.settings_form import settings_fields
from socialads.domain import campaigns as campaign_rules
from socialads.domain.errors import Problem
from socialads.domain.texts import languages
from socialads.store import Campaign
from socialads.web import embed

STATUSES = [
    ("draft", "Draft: not shown to anyone yet"),
    ("live", "Live"),
    ("paused", "Paused"),
    ("ended", "Ended"),
]


# -- views ------------------------------------------------------------------------------------

_after_overview = next(
    (i + 1 for i, tab in enumerate(CAMPAIGN_TABS) if tab["name"] == "overview"), len(CAMPAIGN_TABS)
)
CAMPAIGN_TABS[_after_overview:_after_overview] = [
    {"name": "edit", "title": "Edit", "endpoint": "admin.edit_campaign"},
    {"name": "embed", "title": "Embed", "endpoint": "admin.embed_code"},
]


def _editor(brand: dict, saved: Campaign | None, values: dict, errors: dict, status: int = 200):
    activities = load_activities()
    # Empty values are left out: an unchecked box is an absent one, as in a form.
    preview_query = {k: v for k, v in values.items() if isinstance(v, str) and v}
    if saved:
        preview_query["cid"] = saved.id
    preview_url = (
        url_for("admin.preview")
        + "?"
        + urlencode([*preview_query.items(), *(("people", p) for p in values.get("people", []))])
    )
    return render_template(
        "admin/campaign_form.html",
        brand=brand,
        campaign=saved,
        values=values,
        errors=errors,
        activities=activities,
        settings_fields={name: settings_fields(a) for name, a in activities.items()},
        statuses=STATUSES,
        roster=store().brand_people(brand["id"]),
        languages=languages(),
        effective_status=campaign_rules.effective_status(saved) if saved else None,
        preview_url=preview_url,
        preview_base=url_for("admin.preview", cid=saved.id) if saved else url_for("admin.preview"),
        tab="edit",
    ), status


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign():
    brand = current_brand()
    if request.method == "GET":
        return _editor(brand, None, new_values(), {})
    body = body_from_form(request.form)
    try:
        created = campaign_rules.create(store(), brand["id"], body)
    except Problem as problem:
        return _editor(
            brand, None, values_from_form(request.form), field_errors(problem, body), 422
        )
    flash(f"Campaign “{created.name}” created.", "success")
    return redirect(url_for("admin.edit_campaign", cid=created.id))


@bp.route("/campaigns/<cid>/edit", methods=["GET", "POST"])
@login_required
def edit_campaign(cid: str):
    saved = own_campaign(cid)
    brand = current_brand()
    if request.method == "GET":
        return _editor(brand, saved, values_from_campaign(saved), {})
    body = body_from_form(request.form, saved)
    try:
        campaign_rules.update(store(), saved, body)
    except Problem as problem:
        return _editor(
            brand,
            saved,
            values_from_form(request.form),
            field_errors(problem, body),
            problem.http_status,
        )
    flash("Saved. Totals and sessions carry on.", "success")
    return redirect(url_for("admin.edit_campaign", cid=cid))


@bp.get("/campaigns/preview")
@login_required
def preview():
    """The widget from the editor's unsaved values; framed only by the admin itself."""
    cid = request.args.get("cid")
    saved = own_campaign(cid) if cid else None
    entry = preview_entry(request.args, saved, current_brand())
    total, state = store().campaign_progress(saved.id)[:2] if saved else (0, {})
    response = embed.render_document(
        "embed/widget.html",
        embed.unit_context(entry, total, state, None, "widget", preview=True),
        frame_ancestors="'self'",
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/campaigns/<cid>/embed")
@login_required
def embed_code(cid: str):
    campaign = own_campaign(cid)
    public_url = current_app.config["PUBLIC_URL"]
    return render_template(
        "admin/embed_code.html",
        campaign=campaign,
        tab="embed",
        snippet=campaign_rules.embed_snippet(public_url, cid),
        invite_host=urlsplit(public_url).netloc,
        invite_image=campaign.cause.image_url or url_for("embed.og_image"),
    )


@bp.get("/campaigns/<cid>/test-page")
@login_required
def test_page(cid: str):
    """The campaign embedded exactly as a publisher would, to try it before publishing."""
    campaign = own_campaign(cid)
    public_url = current_app.config["PUBLIC_URL"]
    parts = urlsplit(public_url)
    ours = f"'self' {parts.scheme}://{parts.netloc}"
    response = current_app.make_response(
        render_template(
            "admin/test_page.html",
            campaign=campaign,
            snippet=campaign_rules.embed_snippet(public_url, cid),
        )
    )
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src {ours}; style-src 'self'; img-src 'self' data:; "
        f"frame-src {ours}; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "object-src 'none'; frame-ancestors 'none'"
    )
    return response
