"""Fixtures of the admin's tests (those every folder shares are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.support.admin import WebAdmin


@pytest.fixture
def web_admin(server, brand):
    """The owner of ``brand``, logged in to a real `serve` process over HTTP."""
    return WebAdmin(server.url, brand["email"])
