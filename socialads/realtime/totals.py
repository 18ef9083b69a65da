"""What a process knows of its campaigns' numbers (``socialads.realtime.progress`` keeps it):
each campaign's total and activity counters, and each session's, per part of the campaign's
counts (``socialads.store.parts``: part 0 alone for most campaigns), as heard in the count
script's notices or read. Every counter only grows, so the larger of two readings of a part
is the later one; a whole figure is the sum of the parts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from socialads.store.actions import SESSION_PROGRESS, PartProgress
from socialads.store.events import ChannelEvent
from socialads.store.parts import MAX_PARTS, summed


def is_count(value: Any) -> bool:
    return type(value) is int  # a bool is not a count


def merged(into: dict[str, int], fresh: Mapping[str, int]) -> None:
    """Every counter here only grows: the larger of two readings is the later one, whichever
    arrived first (a read racing the notices of the actions after it)."""
    for name, value in fresh.items():
        if value > into.get(name, -1):
            into[name] = value


class Totals:
    """A campaign's total and activity state counters, as this process last heard them, per
    part of its counts (``socialads.store.parts``; part 0 alone for most campaigns);
    ``whole`` once read from Redis (a notice carries only its part, and only the counters
    its action moved)."""

    __slots__ = ("totals", "states", "whole")

    def __init__(self) -> None:
        self.totals: dict[int, int] = {}
        self.states: dict[int, dict[str, int]] = {}
        self.whole = False

    def hear(self, part: int, total: int, state: Mapping[str, int]) -> None:
        self.totals[part] = max(self.totals.get(part, 0), total)
        merged(self.states.setdefault(part, {}), state)

    def copy(self) -> Totals:
        mine = Totals()
        mine.totals = dict(self.totals)
        mine.states = {part: dict(state) for part, state in self.states.items()}
        mine.whole = self.whole
        return mine

    def into(self, other: Totals) -> None:
        """What this one knows, merged into ``other``."""
        for part, total in self.totals.items():
            other.hear(part, total, self.states.get(part, {}))

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    @property
    def state(self) -> dict[str, int]:
        return summed(self.states.values())


def notice_part(event: ChannelEvent) -> int | None:
    """The part of the campaign's counts a notice speaks for (None: the only one)."""
    part = event.get("p")
    return part if type(part) is int and 0 <= part < MAX_PARTS else None


Known = dict[str, dict[int, dict[str, int]]]  # session -> part -> counters


def hear_session(
    known: Known, partial: Known, session: str, part: int | None, numbers: list
) -> None:
    """A notice's session numbers (``st``, ``sp``, ``sm``) into ``known``, the sessions read
    whole. A part's notice of a session not (yet) read whole goes to ``partial``: it does not
    say the other parts' numbers, but it is newer than a read in flight may be (`absorb`).
    A notice that lacks them makes the session one to read afresh."""
    if not all(is_count(n) for n in numbers):
        known.pop(session, None)
        return
    heard = dict(zip(SESSION_PROGRESS, cast(list[int], numbers), strict=True))
    into = known if session in known or part is None else partial
    merged(into.setdefault(session, {}).setdefault(part or 0, {}), heard)


def absorb(
    readings: Sequence[PartProgress],
    sessions: Sequence[str],
    here: Iterable[str],
    known: Known,
    partial: Known,
) -> Known:
    """Sessions read whole (``readings``, in the order of ``sessions``): what each was read
    as, merged with what was heard of it; those still ``here`` are known whole from now."""
    read: Known = {}
    here = set(here)
    for i, session in enumerate(sessions):
        mine = read[session] = {part: dict(fresh[i]) for part, (_, _, fresh) in enumerate(readings)}
        for part, heard in partial.get(session, {}).items():
            merged(mine.setdefault(part, {}), heard)
        if session in here:
            partial.pop(session, None)
            for part, counts in mine.items():
                merged(known.setdefault(session, {}).setdefault(part, {}), counts)
    return read


def whole_of(
    readings: Sequence[PartProgress], part: int, total: int, session_total: int
) -> tuple[int, int]:
    """The campaign's and the (one) session's totals from each part's reading, part ``part``
    being at least ``total`` and ``session_total`` (what it just answered)."""
    campaign = sum(max(t, total) if p == part else t for p, (t, _, _) in enumerate(readings))
    session = sum(
        max(s[0]["total"], session_total) if p == part else s[0]["total"]
        for p, (_, _, s) in enumerate(readings)
    )
    return campaign, session
