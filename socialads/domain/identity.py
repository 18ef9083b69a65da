"""Friendly display names for viewers who give none, and public member ids.

A viewer id is a secret of the viewer's browser (it keys their actions), so friends see a
keyed hash of it instead; the same viewer keeps the same id and default name in a campaign.
"""

from __future__ import annotations

import hashlib
import hmac

ADJECTIVES = (
    "Bright",
    "Calm",
    "Clever",
    "Curious",
    "Gentle",
    "Happy",
    "Kind",
    "Lively",
    "Lucky",
    "Merry",
    "Nimble",
    "Brave",
    "Quiet",
    "Sunny",
    "Swift",
    "Warm",
    "Witty",
    "Bold",
    "Keen",
    "Jolly",
    "Steady",
    "Cheerful",
    "Daring",
    "Friendly",
)
ANIMALS = (
    "Otter",
    "Heron",
    "Fox",
    "Badger",
    "Robin",
    "Lynx",
    "Panda",
    "Puffin",
    "Hare",
    "Owl",
    "Seal",
    "Wren",
    "Koala",
    "Falcon",
    "Dolphin",
    "Beaver",
    "Finch",
    "Marten",
    "Bison",
    "Crane",
    "Gecko",
    "Lemur",
    "Orca",
    "Tapir",
)


def member_id(secret: str, campaign_id: str, viewer: str) -> str:
    digest = hmac.new(secret.encode(), f"{campaign_id}\0{viewer}".encode(), hashlib.sha256)
    return digest.hexdigest()[:12]


def friendly_name(member: str) -> str:
    """A stable two-word name such as "Curious Otter", picked from the member id."""
    number = int(member, 16)
    return f"{ADJECTIVES[number % len(ADJECTIVES)]} {ANIMALS[(number // 97) % len(ANIMALS)]}"
