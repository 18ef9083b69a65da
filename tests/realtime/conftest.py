"""Fixtures the realtime tests share."""

from __future__ import annotations

import pytest


@pytest.fixture
def joined(server, viewers, make_campaign):
    viewer = viewers(server.url)
    assert viewer.join(make_campaign()["id"])["ok"]
    return viewer
