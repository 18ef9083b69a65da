"""The admin's doors: login, CSRF, rate limits, framing, and brands kept apart."""

from __future__ import annotations

import uuid

from socialads.domain.accounts import make_brand
from tests.support.admin import AdminSession
from tests.support.seeds import SECRET


def test_pages_need_a_login(client):
    for path in ("/admin/", "/admin/team", "/admin/brands"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login")


def test_login_and_logout(app, brand):
    person = AdminSession(app.test_client(), brand["email"], "password123")
    response = person.login()
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    home = person.get("/admin/")
    assert home.status_code == 200 and brand["name"] in home.get_data(as_text=True)
    assert person.post("/admin/logout", csrf_from="/admin/").status_code == 302
    assert person.get("/admin/").status_code == 302


def test_the_session_cookie_is_secure_over_https(redis_server, brand):
    from socialads import create_app

    app = create_app(
        {
            "REDIS_URL": redis_server.url,
            "SECRET_KEY": SECRET,
            "PUBLIC_URL": "https://ads.example",
            "MESSAGE_QUEUE": False,
        }
    )
    person = AdminSession(app.test_client(), brand["email"], "password123")
    assert "Secure" in person.login().headers["Set-Cookie"]


def test_a_post_without_its_csrf_token_is_refused(app, brand, admin):
    response = app.test_client().post(
        "/admin/login", data={"email": brand["email"], "password": "password123"}
    )
    assert response.status_code == 400
    response = admin.client.post("/admin/logout")  # logged in, but no token
    assert response.status_code == 400
    assert admin.get("/admin/").status_code == 200  # still logged in


def test_wrong_passwords_are_rate_limited(app, brand):
    person = AdminSession(app.test_client(), brand["email"], "password123")
    for _ in range(10):
        assert person.login("wrong password").status_code == 400
    # locked for this account, even with the right password
    assert person.login().status_code == 429
    # and for this address, even for another account
    other = make_brand(
        app.extensions["socialads.store"],
        "Other",
        f"x-{uuid.uuid4().hex[:6]}@other.test",
        "password123",
    )
    same_address = AdminSession(app.test_client(), other["email"], "password123")
    same_address.client.environ_base["REMOTE_ADDR"] = person.client.environ_base["REMOTE_ADDR"]
    assert same_address.login().status_code == 429
    # another address logs in to that other account as usual
    assert AdminSession(app.test_client(), other["email"], "password123").login().status_code == 302


def test_admin_pages_are_never_framed(admin):
    for path in ("/admin/login", "/admin/", "/admin/team"):
        response = admin.get(path)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"


def test_a_brand_sees_only_its_own_campaigns_and_team(app, admin, store, make_campaign):
    mine = make_campaign(name="Mine")
    other = make_brand(store, "Other", f"o-{uuid.uuid4().hex[:6]}@other.test", "password123")
    from socialads.domain import campaigns

    theirs = campaigns.create(
        store,
        other["brand_id"],
        {"name": "Theirs", "activity": "pledge", "cause": {"title": "Secret"}, "goal": 5},
    )
    home = admin.get("/admin/").get_data(as_text=True)
    assert "Mine" in home and "Theirs" not in home
    assert admin.get(f"/admin/campaigns/{mine['id']}").status_code == 200
    assert admin.get(f"/admin/campaigns/{theirs.id}").status_code == 404
    team = admin.get("/admin/team").get_data(as_text=True)
    assert admin.email in team and other["email"] not in team
    assert admin.get("/admin/brands").status_code == 403


def test_members_cannot_add_teammates_but_owners_can(app, admin, store, brand):
    added = admin.post(
        "/admin/team", {"email": "member@brand.test", "password": "password123", "role": "member"}
    )
    assert added.status_code == 302
    member = AdminSession(app.test_client(), "member@brand.test", "password123")
    assert member.login().status_code == 302
    refused = member.post(
        "/admin/team", {"email": "x@brand.test", "password": "password123", "role": "owner"}
    )
    assert refused.status_code == 403
    assert store.get_user("x@brand.test") is None


def test_a_superuser_manages_brands(app, store):
    from argon2 import PasswordHasher

    email = f"root-{uuid.uuid4().hex[:6]}@socialads.test"
    store.create_user(email, "", PasswordHasher().hash("password123"), "superuser")
    root = AdminSession(app.test_client(), email, "password123")
    assert root.login().status_code == 302
    assert root.get("/admin/").headers["Location"].endswith("/admin/brands")
    created = root.post("/admin/brands", {"name": "Fresh Brand"})
    assert created.status_code == 302
    assert "Fresh Brand" in root.get("/admin/team").get_data(as_text=True)
