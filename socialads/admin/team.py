"""A brand's team (owners add members) and, for superusers, the brands themselves."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from socialads.admin.auth import EMAIL, brand_id, current_brand, owner_required, store
from socialads.admin.blueprint import bp
from socialads.domain.accounts import hasher


class MemberForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), EMAIL])
    password = PasswordField("Initial password", validators=[DataRequired(), Length(8, 200)])
    role = SelectField(
        "Role", choices=[SelectChoice("member", "Member"), SelectChoice("owner", "Owner")]
    )


class BrandForm(FlaskForm):
    name = StringField("Brand name", validators=[DataRequired(), Length(1, 120)])


@bp.route("/team", methods=["GET", "POST"])
@login_required
def team():
    brand = current_brand()
    form = MemberForm()
    if form.validate_on_submit():
        owner_required()
        email = form.email.data.strip().lower()
        if store().create_user(email, brand["id"], hasher.hash(form.password.data), form.role.data):
            flash(f"{email} can now log in.", "success")
            return redirect(url_for("admin.team"))
        form.email.errors.append("Someone already uses this email.")
    return render_template(
        "admin/team.html",
        brand=brand,
        form=form,
        users=store().brand_users(brand["id"]),
        can_add=current_user.superuser or current_user.role == "owner",
    )


@bp.route("/brands", methods=["GET", "POST"])
@login_required
def brands():
    if not current_user.superuser:
        abort(403)
    form = BrandForm()
    if form.validate_on_submit():
        new_brand = store().create_brand(form.name.data.strip())
        session["brand_id"] = new_brand
        flash(f"Brand {form.name.data.strip()} created.", "success")
        return redirect(url_for("admin.team"))
    return render_template(
        "admin/brands.html", form=form, brands=store().list_brands(), chosen=session.get("brand_id")
    )


@bp.post("/brands/<chosen>/open")
@login_required
def open_brand(chosen: str):
    if not current_user.superuser:
        abort(403)
    if store().get_brand(chosen) is None:
        abort(404)
    session["brand_id"] = chosen
    return redirect(url_for("admin.home"))


def brand_for_nav() -> dict | None:
    """The brand shown in the header, or None (a superuser who has not picked one)."""
    if current_user.superuser and not session.get("brand_id"):
        return None
    return store().get_brand(brand_id())
