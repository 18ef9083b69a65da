"""Logging in and out, who is looking, and the headers every admin page carries."""

from __future__ import annotations

from dataclasses import dataclass

from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, Regexp

from socialads.admin.blueprint import bp
from socialads.domain.accounts import hasher

login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "Log in to see that page."
login_manager.session_protection = "strong"

# Only the shape: a brand's own address may use a private or reserved domain.
EMAIL = Regexp(r"^[^@\s]+@[^@\s]+$", message="Enter an email address.")
LOGIN_WINDOW = 300  # seconds
LOGIN_ATTEMPTS = 10  # failed logins per account or per address within the window


@dataclass
class AdminUser:
    """A person of a brand's team (owner or member), or a superuser managing brands."""

    email: str
    brand_id: str
    role: str
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.email

    @property
    def superuser(self) -> bool:
        return self.role == "superuser"


def store():
    return current_app.extensions["socialads.store"]


@login_manager.user_loader
def load_user(email: str) -> AdminUser | None:
    data = store().get_user(email)
    if not data:
        return None
    return AdminUser(data["email"], data.get("brand_id", ""), data.get("role", "member"))


def brand_id() -> str:
    """The brand this request works on: the user's own, or the one a superuser chose."""
    if current_user.superuser:
        chosen = session.get("brand_id")
        if not chosen:
            abort(404)
        return chosen
    return current_user.brand_id


def current_brand() -> dict:
    brand = store().get_brand(brand_id())
    if brand is None:
        abort(404)
    return brand


def owner_required() -> None:
    if not (current_user.superuser or current_user.role == "owner"):
        abort(403)


@bp.after_app_request
def never_framed(response):
    """Admin pages are never framed and never cached; the preview alone may be framed by the
    admin itself (it sets its own header first)."""
    if request.blueprint == "admin":
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
            "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
            "object-src 'none'; frame-ancestors 'none'",
        )
        response.headers["X-Frame-Options"] = response.headers.get("X-Frame-Options", "DENY")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.before_request
def who():
    g.user = current_user


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), EMAIL])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "POST":
        email = (form.email.data or "").strip().lower()
        ip = request.remote_addr or "unknown"
        if store().login_failures(email, ip) >= LOGIN_ATTEMPTS:
            return render_template("admin/login.html", form=form, locked=True), 429
        if form.validate_on_submit():
            user = store().get_user(email)
            if user and _password_ok(user, form.password.data):
                store().clear_login_failures(email)
                session.clear()
                login_user(load_user(email))
                target = request.args.get("next", "")
                if not target.startswith("/admin/") or target.startswith("//"):
                    target = url_for("admin.home")
                return redirect(target)
        if not form.errors.get("csrf_token"):
            store().count_login_failure(email, ip, LOGIN_WINDOW)
            flash("That email and password don't match.", "error")
        return render_template("admin/login.html", form=form), 400
    return render_template("admin/login.html", form=form)


def _password_ok(user: dict, password: str) -> bool:
    try:
        hasher.verify(user["password_hash"], password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user["password_hash"]):
        store().update_password(user["email"], hasher.hash(password))
    return True


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"))
