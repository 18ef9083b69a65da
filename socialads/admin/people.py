"""The brand's people: the named team members who speak for the brand in its rooms.

Viewers talk with people, not with a logo: every reply and every moderation decision is made
as one of them, with their name and role in plain view. Owners and members may keep the roster.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from socialads.admin.auth import current_brand, store
from socialads.admin.blueprint import NAV, bp
from socialads.domain.conversation import initials
from socialads.store import new_id


def tidy(value):
    """Drop control characters and runs of spaces that would only look broken in a widget."""
    if not isinstance(value, str):
        return value
    value = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", value)
    return re.sub(r"[ \t]+", " ", value).strip()


def one_line(value):
    return re.sub(r"\s+", " ", tidy(value)) if isinstance(value, str) else value


def https_address(_form, field) -> None:
    if not field.data:
        return
    parts = urlsplit(field.data)
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.username
        or parts.password
        or re.search(r"\s", field.data)
    ):
        raise ValidationError("Give an https:// address, e.g. https://cdn.example/maya.jpg")


class PersonForm(FlaskForm):
    name = StringField(
        "Name", filters=[one_line], validators=[DataRequired("Give their name."), Length(max=60)]
    )
    role = StringField(
        "Role", filters=[one_line], validators=[DataRequired("Say what they do."), Length(max=60)]
    )
    photo_url = URLField(
        "Photo URL (optional)",
        filters=[one_line],
        validators=[Optional(), Length(max=500), https_address],
    )
    bio = TextAreaField(
        "Short bio (optional)", filters=[tidy], validators=[Optional(), Length(max=280)]
    )


NAV.append({"name": "people", "title": "People", "endpoint": "admin.people"})
bp.add_app_template_filter(initials, "initials")


def own_person(person_id: str) -> dict:
    """One of the current brand's people; any other id is a 404."""
    brand = current_brand()
    person = store().get_person(brand["id"], person_id) if len(person_id) <= 64 else None
    if person is None:
        abort(404)
    return person


def _save(form: PersonForm, person_id: str) -> dict:
    person = {
        "id": person_id,
        "name": form.name.data,
        "role": form.role.data,
        "photo_url": form.photo_url.data or "",
        "bio": form.bio.data or "",
    }
    store().save_person(current_brand()["id"], person)
    return person


def _page(form: PersonForm, editing: dict | None = None):
    brand = current_brand()
    featured: dict[str, list[str]] = {}
    for campaign in store().brand_campaigns(brand["id"]):
        for person_id in campaign.people:
            featured.setdefault(person_id, []).append(campaign.name)
    status = 400 if form.errors else 200
    return render_template(
        "admin/people.html",
        brand=brand,
        form=form,
        editing=editing,
        people=store().brand_people(brand["id"]),
        featured=featured,
    ), status


@bp.route("/people", methods=["GET", "POST"])
@login_required
def people():
    form = PersonForm()
    if form.validate_on_submit():
        person = _save(form, new_id("p"))
        flash(f"{person['name']} can now speak for {current_brand()['name']}.", "success")
        return redirect(url_for("admin.people"))
    return _page(form)


@bp.route("/people/<person_id>", methods=["GET", "POST"])
@login_required
def person(person_id: str):
    found = own_person(person_id)
    form = PersonForm(data=found)
    if form.validate_on_submit():
        saved = _save(form, found["id"])
        flash(f"Saved {saved['name']}.", "success")
        return redirect(url_for("admin.people"))
    return _page(form, editing=found)


@bp.post("/people/<person_id>/delete")
@login_required
def delete_person(person_id: str):
    found = own_person(person_id)
    store().delete_person(current_brand()["id"], found["id"])
    flash(f"Removed {found['name']}. Their past replies keep their name.", "success")
    return redirect(url_for("admin.people"))
