"""What the tests put in Redis: the secret every test app and `serve` process signs with, the
default campaign, and a brand with a live campaign in a Redis of a test's own."""

from __future__ import annotations

import uuid

from socialads import create_app
from socialads.domain import campaigns
from socialads.domain.accounts import make_brand

SECRET = "test-secret-key"

CAMPAIGN = {
    "name": "Clean the bay",
    "activity": "pledge",
    "cause": {"title": "Clean the bay", "description": "Pledge to pick up litter on the bay."},
    "goal": 1000,
    "promise": "At 1,000 pledges, Brand funds ten clean-up days.",
    "status": "live",
}


def seed_campaign(redis_url: str, **fields) -> dict:
    """A brand and a live campaign in the Redis at ``redis_url``, as its JSON."""
    app = create_app({"REDIS_URL": redis_url, "SECRET_KEY": SECRET, "MESSAGE_QUEUE": False})
    store = app.extensions["socialads.store"]
    suffix = uuid.uuid4().hex[:8]
    brand = make_brand(store, f"Brand {suffix}", f"owner-{suffix}@example.test", "password123")
    return campaigns.create(store, brand["brand_id"], {**CAMPAIGN, **fields}).to_json()
