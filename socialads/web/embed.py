"""What publishers and viewers load: the loader script, the widget document, invite pages.

The widget sets no cookies and loads nothing from third parties; its first paint is
server-rendered with the current totals. ``frame-ancestors`` lets only the campaign's
allowed publisher origins frame it, and our own origin (the admin's preview and test page);
any origin when the brand listed none.

Template context of ``embed/*.html`` (and so of every activity's ``template.html``):
``campaign`` (definition + ``brand_name``), ``settings`` (the activity's validated settings),
``summary`` ({total, goal, percent, state}), ``active``, ``preview`` (the admin's editor
shows unsaved values: no live code, nothing counts), ``config`` (the JSON the live code
reads), ``nonce``, ``page`` and ``asset_url()``; the landing page adds ``invite_url`` and
``og_image_url``. ``campaign.status`` is what viewers get now: a live campaign outside its
schedule is ``draft`` before it starts and ``ended`` after (``campaigns.effective_status``).
"""

from __future__ import annotations

import re
import secrets
import zlib
from collections.abc import Sequence

from flask import Blueprint, abort, current_app, render_template, request, send_file
from redis.exceptions import RedisError

from socialads.config import ROOT
from socialads.domain import analytics
from socialads.domain.campaigns import Entry
from socialads.domain.conversation import public_log, when, widget_talk
from socialads.domain.texts import Texts
from socialads.protocol import ErrorCode
from socialads.web.api import error_response
from socialads.web.assets import asset_text, asset_url, send_asset

bp = Blueprint("embed", __name__)
CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SESSION_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@bp.app_context_processor
def _globals():
    return {"asset_url": asset_url, "asset_text": asset_text}


def _store():
    return current_app.extensions["socialads.store"]


def _campaigns():
    return current_app.extensions["socialads.campaigns"]


@bp.get("/embed.js")
def embed_js():
    return send_asset("embed.js", max_age=600)


@bp.get("/static/<path:relative>")
def static(relative: str):
    return send_asset(relative)


@bp.get("/og.png")
def og_image():
    response = send_file(ROOT / "static" / "og.png", mimetype="image/png", max_age=86400)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _security_headers(response, frame_ancestors: str, nonce: str):
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'; "
        f"font-src 'self'; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def unit_context(
    entry: Entry,
    total: int,
    state: dict[str, int],
    session: str | None,
    page: str,
    preview: bool = False,
) -> dict:
    """The template context of a campaign's unit (see above), from its totals."""
    campaign = entry.campaign
    status = entry.status
    goal = campaign.goal
    texts = Texts(campaign.language, campaign.activity)
    return {
        "page": page,
        "preview": preview,
        "t": texts,
        "n": texts.n,
        "lang": texts.lang,
        "campaign": {**campaign.to_json(), "brand_name": entry.brand_name, "status": status},
        "settings": entry.settings.model_dump(),
        "summary": {
            "total": total,
            "goal": goal,
            "state": entry.public_state(_store(), state),
            "percent": min(100, total * 100 // goal),
        },
        "active": entry.active and not preview,
        "config": {
            "campaign": campaign.id,
            "session": session,
            "base": current_app.config["PUBLIC_URL"],
            "status": status,
            "total": total,
            "session_total": 0,
            "goal": goal,
            "activity": campaign.activity,
            "landing": page != "widget",
            "lang": texts.lang,
            "texts": texts.live(),
        },
    }


def render_document(
    template: str, context: dict, status: int = 200, frame_ancestors: str = "'none'"
):
    """One of our documents with its security headers (a fresh style nonce each time)."""
    nonce = secrets.token_urlsafe(12)
    texts = Texts(None)  # pages without a campaign speak English
    defaults = {"campaign": None, "t": texts, "n": texts.n, "lang": texts.lang}
    response = current_app.make_response(
        (render_template(template, **{**defaults, **context, "nonce": nonce}), status)
    )
    return _gzipped(_security_headers(response, frame_ancestors, nonce))


def _gzipped(response):
    """Our documents gzipped when the client takes it: the widget's first paint (HTML with its
    CSS inline) is about a third of its size. Safe against BREACH-style guessing: these
    documents hold no secret tied to a login (no CSRF token, no session data), and the one
    value an attacker cannot know, the CSP nonce, is new in every response. The admin's own
    pages, which carry a CSRF token, are not compressed by the process."""
    response.vary.add("Accept-Encoding")
    if not request.accept_encodings["gzip"] or response.direct_passthrough:
        return response
    body = response.get_data()
    if len(body) < 512:
        return response
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    response.set_data(packer.compress(body) + packer.flush())
    response.headers["Content-Encoding"] = "gzip"
    return response


def _render(
    template: str,
    entry: Entry | None,
    session: str | None,
    page: str,
    status: int = 200,
    frame_ancestors: str = "'none'",
    **extra,
):
    context = {"page": page, **extra}
    if entry is not None:
        campaign = entry.campaign
        total, state, _ = _store().campaign_progress(campaign.id)
        context.update(unit_context(entry, total, state, session, page))
        context["talk"] = widget_talk(_store(), campaign, entry.brand_name, context["t"])
    return render_document(template, context, status, frame_ancestors)


@bp.get("/w/<cid>")
def widget(cid: str):
    entry = _campaigns().get(cid) if CAMPAIGN_ID.match(cid) else None
    if entry is None:
        return _render("embed/not_found.html", None, None, "not_found", 404)
    session = request.args.get("session", "")
    if not SESSION_TOKEN.match(session) or _store().session_campaign(session) != cid:
        session = ""  # e.g. an invite to another unit on the same publisher page
    origins = entry.campaign.allowed_origins
    try:
        if _ignore_reason(origins) is None:
            _store().count_impression(cid, analytics.publisher_origin(request.referrer))
    except RedisError:
        pass  # the unit still shows; one impression less is better than no ad
    return _render(
        "embed/widget.html",
        entry,
        session if SESSION_TOKEN.match(session) else None,
        "widget",
        frame_ancestors=widget_frame_ancestors(origins),
    )


def widget_frame_ancestors(origins: Sequence[str]) -> str:
    """Who may frame the widget: the brand's publishers and our own pages; anyone if unlisted."""
    return " ".join(["'self'", *origins]) if origins else "*"


@bp.get("/s/<token>")
def landing(token: str):
    """An invite link: the unit full-page in the friend's session, with a link preview."""
    if not SESSION_TOKEN.match(token):
        abort(404)
    cid = _store().session_campaign(token)
    entry = _campaigns().get(cid) if cid else None
    if entry is None:
        return _render("embed/not_found.html", None, None, "not_found", 404)
    if not _store().session_open(cid, token):
        return _render("embed/not_found.html", entry, None, "not_found", 404)
    try:
        if _ignore_reason() is None:
            _store().count_invite_opened(cid, token)
    except RedisError:
        pass
    return _render(
        "embed/landing.html",
        entry,
        token,
        "landing",
        **invite_preview(entry, token),
        full_group=_full_group(entry, token),
    )


def _full_group(entry: Entry, token: str) -> str | None:
    """The group's name when its room is full now: the landing page says up front that the
    friend will get a new room of it (the join does that)."""
    store = _store()
    cid = entry.campaign.id
    if not entry.room_size or len(store.members(cid, token)) < entry.room_size:
        return None
    return store.session_name(cid, token)


def _ignore_reason(allowed_origins: Sequence[str] = ()) -> str | None:
    """Why this page load must not count in the analytics (None: it counts)."""
    return analytics.ignore_reason(
        request.method,
        request.user_agent.string,
        request.referrer,
        current_app.config["PUBLIC_URL"],
        allowed_origins,
    )


def invite_preview(entry: Entry, token: str) -> dict:
    """What a shared invite link shows: its URL and the image of its link preview."""
    public_url = current_app.config["PUBLIC_URL"]
    image = entry.campaign.cause.image_url or f"{public_url}/og.png"
    return {"invite_url": f"{public_url}/s/{token}", "og_image_url": image}


@bp.get("/c/<cid>/moderation")
def moderation(cid: str):
    """A campaign's public moderation log: what its people hid or blocked, when and why."""
    entry = _campaigns().get(cid) if CAMPAIGN_ID.match(cid) else None
    if entry is None:
        return _render("embed/not_found.html", None, None, "not_found", 404)
    return _render(
        "embed/moderation.html", entry, None, "moderation", log=public_log(_store(), cid)
    )


@bp.get("/c/<cid>/ledger")
def ledger(cid: str):
    """A campaign's public match ledger: every match its brand added because friends acted
    together, with the group, how many of them, how much and when; and what the pool holds."""
    entry = _campaigns().get(cid) if CAMPAIGN_ID.match(cid) else None
    if entry is None or entry.match is None:
        return _render("embed/not_found.html", None, None, "not_found", 404)
    used, entries = _store().match_summary(cid, -1)
    rows = [{**row, "when": when(row["at"] / 1000)} for row in entries]
    return _render(
        "embed/ledger.html",
        entry,
        None,
        "ledger",
        ledger=rows,
        match={"used": used, "pool": entry.match.pool, "left": max(0, entry.match.pool - used)},
    )


@bp.app_errorhandler(404)
def not_found(_error):
    if request.path.startswith("/api/"):
        return error_response(ErrorCode.NOT_FOUND, "No such resource.", 404)
    return _render("embed/not_found.html", None, None, "not_found", 404)
