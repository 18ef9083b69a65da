"""Brands and the people who log in for them: one way to create either, shared by the CLI,
the demo, the admin's team page and the tests.

Passwords are hashed with argon2 (memory-hard; `hasher` also says when an old hash needs
redoing at the next login).
"""

from __future__ import annotations

from argon2 import PasswordHasher

from socialads.store import Store

hasher = PasswordHasher()


class EmailTaken(Exception):
    """An account with this email exists already (emails are unique across brands)."""

    def __init__(self, email: str):
        super().__init__(f"a user with the email {email} already exists")
        self.email = email


def create_user(store: Store, email: str, brand_id: str, password: str, role: str) -> None:
    """An admin user of ``brand_id`` (``""`` for a superuser); raises `EmailTaken`."""
    if not store.create_user(email, brand_id, hasher.hash(password), role):
        raise EmailTaken(email)


def make_brand(store: Store, name: str, email: str, password: str) -> dict:
    """A brand, its first owner and its first API token: ``{brand_id, name, email,
    api_token}`` (the token is shown once; only its hash is kept). Raises `EmailTaken`."""
    brand_id = store.create_brand(name)
    create_user(store, email, brand_id, password, "owner")
    return {
        "brand_id": brand_id,
        "name": name,
        "email": email.lower(),
        "api_token": store.create_api_token(brand_id),
    }
