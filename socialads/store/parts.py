"""A hot campaign's counters in parts: K copies of what the count script writes, each in a
hash slot of its own, so the actions of one campaign spread over every shard of a cluster.

A campaign is bounded by the one Redis core that holds its slot (``docs/scaling.md``). Its
sessions' rooms already spread (``socialads.store.keys``); what stays is the count script,
which every action runs. With ``COUNTER_PARTS`` K > 1, a campaign created then keeps its
counts in K parts: part 0 is the campaign's own slot (``{C}``), part k > 0 the slot of
``{C~k}``. A viewer always counts in the same part, chosen by a hash of their id
(`part_of`), so what must be exact per viewer (their dedupe, their cap, their once-only
choices, their cooldown) stays exact: it lives in one slot, as it did. What is summed, the
totals, the activity's counters, a session's total, engaged viewers (an HLL per part; the
parts hold disjoint viewers, so their counts add), the actions per minute and per origin,
is kept per part and added up by readers. Each part publishes its new numbers on a channel
in its own slot, which the processes serving the campaign hear besides its main one.

K is fixed when the campaign is created (``sa:c:{C}:parts``) and never changes: a viewer
must not move to another part. A campaign with a group match counts in one part: its "every
Nth person of a session" and its pool are one count each (``socialads.domain.campaigns``
refuses a match on a campaign in parts). A campaign stored without the key is in one part.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import redis

from socialads.store.keys import CampaignKeys, Keys

PARTS_CACHED = 4096  # campaigns whose parts one process knows (the number never changes)
MAX_PARTS = 64  # more parts than shards buys nothing; a bound keeps reads bounded


def part_of(viewer: str, parts: int) -> int:
    """The part viewer ``viewer`` counts in: the same in every process, for ever (crc32, not
    Python's salted ``hash``)."""
    return zlib.crc32(viewer.encode()) % parts if parts > 1 else 0


def summed(readings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counters read from each part (hashes of numbers: integers, and a float such as
    ``cycle_seconds``), added up field by field."""
    total: dict[str, Any] = {}
    for reading in readings:
        for field, value in reading.items():
            number = _number(value)
            total[field] = total.get(field, 0) + number
    return total


def _number(value: Any) -> int | float:
    if isinstance(value, int | float):
        return value
    try:
        return int(value or 0)
    except ValueError:
        return float(value)


class CampaignParts:
    """The keys of each part of one campaign's counts (``all[0]`` is the campaign's own)."""

    __slots__ = ("all",)

    def __init__(self, keys: Keys, cid: str, count: int):
        main = keys.campaign(cid)
        self.all: tuple[CampaignKeys, ...] = (main,) + tuple(
            CampaignKeys(keys.prefix, cid, part) for part in range(1, count)
        )

    @property
    def count(self) -> int:
        return len(self.all)

    def index(self, viewer: str) -> int:
        """The part ``viewer`` counts in."""
        return part_of(viewer, len(self.all))

    def of(self, viewer: str) -> CampaignKeys:
        """The keys of the part ``viewer`` counts in."""
        return self.all[self.index(viewer)]

    @property
    def channels(self) -> list[str]:
        """Where the parts publish their numbers (part 0's is the campaign's channel)."""
        return [part.bus for part in self.all]


class Parts:
    """How many parts each campaign counts in, read once per process per campaign."""

    def __init__(self, client: redis.Redis, keys: Keys, default: int = 1):
        self.redis = client
        self.keys = keys
        self.default = max(1, min(MAX_PARTS, int(default)))  # for campaigns created now
        self.known: dict[str, CampaignParts] = {}

    def of(self, cid: str) -> CampaignParts:
        """Campaign ``cid``'s parts (one round trip the first time this process asks)."""
        found = self.known.get(cid)
        if found is None:
            raw = self.redis.get(self.keys.campaign(cid).parts)
            count = max(1, min(MAX_PARTS, int(raw))) if raw and str(raw).isdigit() else 1
            found = CampaignParts(self.keys, cid, count)
            if len(self.known) >= PARTS_CACHED:
                self.known.clear()
            self.known[cid] = found
        return found
