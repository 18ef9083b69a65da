"""One campaign's conversation: read what viewers say, answer as one of the brand's people,
and moderate in the open.

Replies are typed by a person on the brand's team; nothing here posts on its own. A reply is
numbered like any message and reaches the session's widgets through the same ``message``
event. Hiding a message or blocking a viewer needs a reason, and both land in the campaign's
public moderation log (``/c/<id>/moderation``); nothing is edited silently.

The page works without JavaScript (plain forms, redirects); ``conversation.js`` adds live
updates over the ``/admin`` Socket.IO namespace and sends the forms with ``fetch``.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from flask_socketio import Namespace, join_room
from flask_wtf import FlaskForm
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from socialads.admin.auth import current_brand, store
from socialads.admin.blueprint import CAMPAIGN_TABS, bp
from socialads.admin.campaigns import own_campaign
from socialads.admin.conversation_forms import (
    BlockForm,
    CloseForm,
    HideForm,
    ReplyForm,
    UnblockForm,
)
from socialads.domain.errors import Problem
from socialads.protocol import ErrorCode
from socialads.realtime.rooms import admin_room, session_room, socketio
from socialads.store import Campaign, SessionClosed

PAGE = 10  # conversations per page

CAMPAIGN_TABS.append(
    {"name": "conversation", "title": "Conversation", "endpoint": "admin.conversation"}
)


def clock(ms: int | float) -> str:
    """A message time for the page (UTC; conversation.js shows it in the reader's zone)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%-d %b, %H:%M UTC")


def iso(ms: int | float) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


bp.add_app_template_filter(clock, "clock")
bp.add_app_template_filter(iso, "iso")


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _speaker(person_id: str | None) -> dict | None:
    """One of the brand's people (404 for anyone else's), or None when none was chosen."""
    if not person_id:
        return None
    person = store().get_person(current_brand()["id"], person_id[:64])
    if person is None:
        abort(404)
    return person


def _owned(cid: str, form: FlaskForm) -> tuple[str | None, dict | None]:
    """The form's conversation and speaker, each a 404 when it is not this brand's."""
    token = getattr(form, "session", None) and form.session.data
    if token and not store().session_exists(cid, token[:64]):
        abort(404)
    return token, _speaker(form.person.data)


def _decided(token: str | None, person: dict | None) -> tuple[str, dict]:
    """The conversation and speaker of a form that validated (both required by its fields);
    a 404 if either is missing all the same."""
    if not token or person is None:
        abort(404)
    return token, person


def _record(person: dict, reason: str) -> dict:
    return {
        "at": time.time(),
        "reason": reason,
        "user": current_user.email,
        "by": {"id": person["id"], "name": person["name"], "role": person.get("role", "")},
    }


def _page(campaign: Campaign, failed: dict | None = None, status: int = 200):
    brand = current_brand()
    cid = campaign.id
    before = request.args.get("before", type=int)
    talks = store().conversations(cid, before=before, limit=PAGE)
    people = store().brand_people(brand["id"])
    ids = [person["id"] for person in people]
    speaker = session.get("speak_as") if session.get("speak_as") in ids else (ids or [""])[0]
    blocked = store().blocked_viewers(cid)
    median = store().median_reply_seconds(cid)
    return render_template(
        "admin/conversation.html",
        campaign=campaign,
        tab="conversation",
        brand=brand,
        talks=talks,
        people=people,
        speaker=speaker,
        blocked=blocked,
        blocked_ids={viewer["member"] for viewer in blocked},
        replies=store().brand_replies(cid),
        median=median,
        failed=failed or {},
        older=talks[-1]["last"] if len(talks) == PAGE else None,
        newer=before is not None,
        fresh_id=lambda: secrets.token_urlsafe(12),
        moderation_url=f"{current_app.config['PUBLIC_URL']}/c/{cid}/moderation",
    ), status


def _failed(campaign: Campaign, kind: str, form: FlaskForm):
    errors = {name: " ".join(messages) for name, messages in form.errors.items()}
    if wants_json():
        return jsonify(
            {
                "ok": False,
                "error": {
                    "code": "invalid",
                    "message": next(iter(errors.values())),
                    "fields": errors,
                },
            }
        ), 400
    values = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
    return _page(campaign, {"kind": kind, "errors": errors, **values}, 400)


def _done(campaign: Campaign, person: dict, note: str, anchor: str, **payload):
    session["speak_as"] = person["id"]
    if wants_json():
        return jsonify({"ok": True, **payload})
    flash(note, "success")
    return redirect(url_for("admin.conversation", cid=campaign.id) + anchor)


@bp.get("/campaigns/<cid>/conversation")
@login_required
def conversation(cid: str):
    return _page(own_campaign(cid))


@bp.post("/campaigns/<cid>/conversation/reply")
@login_required
def conversation_reply(cid: str):
    campaign = own_campaign(cid)
    form = ReplyForm()
    valid = form.validate()
    token, person = _owned(cid, form)
    if not valid:
        return _failed(campaign, "reply", form)
    token, person = _decided(token, person)
    message = {
        "text": form.text.data,
        "ts": int(time.time() * 1000),
        "author": {
            "id": person["id"],
            "name": person["name"],
            "role": person.get("role", ""),
            "brand_person": True,
        },
    }
    try:
        posted, message = store().post_brand_reply(cid, token, form.reply_id.data, message)
    except SessionClosed:
        closed = "This group was closed: nobody there can read a reply."
        if wants_json():
            return jsonify({"ok": False, "error": {"code": "closed", "message": closed}}), 409
        flash(closed, "error")
        return _page(campaign, status=409)
    if posted:
        socketio.emit("message", message, to=session_room(cid, token))
        socketio.emit(
            "message",
            {"session": token, "message": message},
            to=admin_room(cid),
            namespace="/admin",
        )
    return _done(
        campaign,
        person,
        f"Replied as {person['name']}.",
        f"#s-{token}",
        session=token,
        message=message,
    )


@bp.post("/campaigns/<cid>/conversation/hide")
@login_required
def conversation_hide(cid: str):
    campaign = own_campaign(cid)
    form = HideForm()
    valid = form.validate()
    token, person = _owned(cid, form)
    if (
        form.message.data
        and token
        and store().session_message(cid, token, int(form.message.data[:15])) is None
    ):
        abort(404)
    if not valid:
        return _failed(campaign, "hide", form)
    token, person = _decided(token, person)
    message_id = int(form.message.data)
    kept = store().hide_message(cid, token, message_id, _record(person, form.reason.data))
    if kept is None:  # someone hid it first: answer with their record
        kept = store().session_message(cid, token, message_id) or {"hidden": None}
    else:
        socketio.emit("hidden", {"id": message_id}, to=session_room(cid, token))
        socketio.emit(
            "hidden",
            {"session": token, "id": message_id, "hidden": kept["hidden"]},
            to=admin_room(cid),
            namespace="/admin",
        )
    return _done(
        campaign,
        person,
        "Message hidden; the reason is in the public log.",
        f"#s-{token}",
        session=token,
        id=message_id,
        hidden=kept["hidden"],
    )


@bp.post("/campaigns/<cid>/conversation/block")
@login_required
def conversation_block(cid: str):
    campaign = own_campaign(cid)
    form = BlockForm()
    valid = form.validate()
    token, person = _owned(cid, form)
    message = None
    if form.message.data and token:
        message = store().session_message(cid, token, int(form.message.data[:15]))
        if message is None:
            abort(404)
    if not valid:
        return _failed(campaign, "block", form)
    token, person = _decided(token, person)
    if message is None:  # never: the form requires the message it blocks the author of
        abort(404)
    author = message["author"]
    if author.get("brand_person"):
        abort(404)  # the brand's own people are not viewers
    record = {**_record(person, form.reason.data), "name": author.get("name", "")}
    if store().block_viewer(cid, author["id"], record):
        socketio.emit(
            "blocked", {"member": author["id"], **record}, to=admin_room(cid), namespace="/admin"
        )
    return _done(
        campaign,
        person,
        f"{author.get('name', 'The viewer')} is blocked from this "
        "campaign; the reason is in the public log.",
        "#blocked",
        member=author["id"],
        blocked=store().blocked(cid, author["id"]),
    )


@bp.post("/campaigns/<cid>/conversation/unblock")
@login_required
def conversation_unblock(cid: str):
    campaign = own_campaign(cid)
    form = UnblockForm()
    valid = form.validate()
    _, person = _owned(cid, form)
    if form.member.data and store().blocked(cid, form.member.data[:64]) is None:
        abort(404)
    if not valid:
        return _failed(campaign, "unblock", form)
    _, person = _decided("-", person)
    store().unblock_viewer(cid, form.member.data, _record(person, form.reason.data))
    return _done(
        campaign,
        person,
        "Unblocked; the reason is in the public log.",
        "#blocked",
        member=form.member.data,
    )


@bp.post("/campaigns/<cid>/conversation/close")
@login_required
def conversation_close(cid: str):
    """Close a group for good: its people are taken out (their widgets say why and start a
    new group), nothing more counts or is said in it, and the public log says who and why."""
    campaign = own_campaign(cid)
    form = CloseForm()
    valid = form.validate()
    token, person = _owned(cid, form)
    if not valid:
        return _failed(campaign, "close", form)
    token, person = _decided(token, person)
    record = _record(person, form.reason.data)
    if store().close_session(cid, token, record):
        socketio.emit(
            "closed", {"session": token, "closed": record}, to=admin_room(cid), namespace="/admin"
        )
    return _done(
        campaign,
        person,
        "Group closed; the reason is in the public log.",
        f"#s-{token}",
        session=token,
        closed=record,
    )


class AdminNamespace(Namespace):
    """``/admin``: live updates for a brand's team. The connection is authenticated by the
    admin's session cookie (read from the handshake: a logout takes effect on reconnect), and
    a team member only ever watches their own brand's campaigns."""

    def on_connect(self, auth=None):
        try:
            return None if current_user.is_authenticated else False
        except Exception:  # an error handler's answer would let the connection in
            current_app.logger.exception("/admin connect failed")
            return False

    def on_watch(self, payload=None, *_extra):
        """Join ``admin:<campaign>`` for its new messages, replies, hides and blocks."""
        cid = payload.get("campaign") if isinstance(payload, dict) else None
        try:
            if not isinstance(cid, str) or not current_user.is_authenticated:
                abort(404)
            own_campaign(cid)
        except HTTPException:
            return Problem(ErrorCode.NOT_FOUND, "There is no such campaign.").ack()
        except RedisError:
            return Problem(
                ErrorCode.UNAVAILABLE, "The service is briefly unavailable; retry."
            ).ack()
        join_room(admin_room(cid))
        return {"ok": True}

    def on_disconnect(self, *_reason):
        pass


# Registered before any app binds the server, so every create_app's init_app picks it up.
socketio.on_namespace(AdminNamespace("/admin"))
