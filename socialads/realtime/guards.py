"""May this go? The one place that decides, for every event a viewer sends.

Each event passes its checks in one order, written here and nowhere else (the order is
behaviour: a payload too large is ``too_large`` even from a connection over its rate)::

    join     payload · own bucket · campaign live · shared buckets · viewer not blocked
             · one viewer per connection · invite known and open
    act      payload · own bucket · joined · campaign live · the activity's rules
             | in the count script: session open · not a duplicate (a re-sent id is
             never limited) · shared buckets · per-viewer cap · once-only choice · cooldown
    say      payload · text not empty · own bucket · joined · shared buckets · campaign
             live · viewer not blocked | in the chat script: session open
    leave    payload
    connect  connects per address · live connections per address

A payload is a JSON object within ``MAX_EVENT_BYTES``, valid for its model; a connection's
own buckets are in process (``ACT_RATE``, ``SAY_RATE``, ``JOIN_RATE``); the shared ones, per
viewer and per address, and the connection caps are in Redis (``socialads.realtime.limits``).
"Joined" also tells a connection whose viewer the brand blocked meanwhile from one that never
joined. What must be decided atomically with the count itself is decided by the count
script, with the buckets `Guard.act_buckets` names; `act_refusal` turns its answer into the
refusal the viewer reads.

Every refusal is a `Problem` with a CONTRACT code, raised for the handler to answer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from socialads.activities import ActionRejected, Effect
from socialads.domain.campaigns import Campaigns, Entry
from socialads.domain.errors import Problem
from socialads.domain.identity import member_id
from socialads.domain.schemas import ActIn, JoinIn, LeaveIn, SayIn, first_error, is_too_long
from socialads.protocol import ActionStatus, ErrorCode
from socialads.realtime.connections import Connection, Connections
from socialads.realtime.limits import TOO_MANY, SharedBucket, SharedLimits, rate_limited
from socialads.store import ActionResult, Store

Model = TypeVar("Model", bound=BaseModel)


def closed_problem(reason: str = "") -> Problem:
    return Problem(
        ErrorCode.NOT_FOUND,
        "The people of this campaign closed this group.",
        404,
        closed=True,
        reason=reason,
    )


def blocked_problem(reason: str) -> Problem:
    return Problem(
        ErrorCode.INACTIVE,
        f"The people of this campaign blocked you from taking part. Their reason: {reason}",
        403,
        blocked=True,
        reason=reason,
    )


@dataclass
class Bucket:
    """A token bucket: ``capacity`` actions at once, refilled at ``rate`` per second."""

    capacity: float
    rate: float
    tokens: float = -1
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> float:
        """Take one token; returns 0 when allowed, else seconds until one is available."""
        now = time.monotonic()
        if self.tokens < 0:
            self.tokens = self.capacity
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return round((1 - self.tokens) / self.rate, 2)


# The count script's answers that refuse an act (any other: counted, or a duplicate).
REFUSALS = frozenset(
    {
        ActionStatus.CAPPED,
        ActionStatus.ALREADY_CHOSEN,
        ActionStatus.SESSION_CLOSED,
        ActionStatus.RATE_LIMITED,
        ActionStatus.COOLING_DOWN,
    }
)


def act_refusal(result: ActionResult, effect: Effect) -> Problem | None:
    """The refusal the count script's answer stands for; None when the act was counted (or
    was counted before: a duplicate)."""
    if result.status not in REFUSALS:  # the common case, in one look-up
        return None
    if result.status == ActionStatus.CAPPED:
        return Problem(
            ErrorCode.INVALID,
            "You have already taken part as many times as this campaign allows.",
            capped=True,
        )
    if result.status == ActionStatus.ALREADY_CHOSEN:
        return Problem(ErrorCode.INVALID, effect.already, already=effect.once)
    if result.status == ActionStatus.SESSION_CLOSED:
        return closed_problem()
    if result.status == ActionStatus.RATE_LIMITED:
        return rate_limited(result.wait)
    if result.status == ActionStatus.COOLING_DOWN:
        return Problem(
            ErrorCode.RATE_LIMITED,
            "Wait a moment before you act again.",
            retry_after=round(max(result.wait, 0.01), 2),
        )
    return None


class Guard:
    """Admits or refuses each event of this process's connections (see the module docstring);
    keeps each connection's own token buckets."""

    def __init__(
        self,
        config: Mapping[str, Any],
        store: Store,
        campaigns: Campaigns,
        connections: Connections,
        limits: SharedLimits,
    ):
        self.config = config
        self.store = store
        self.campaigns = campaigns
        self.connections = connections
        self.limits = limits  # per viewer and address, in Redis
        self.buckets: dict[str, dict[str, Bucket]] = {}  # sid -> event -> its bucket

    # -- one method per event, each in its order of checks ---------------------------------

    def join(self, sid: str, payload: Any) -> tuple[JoinIn, Entry, str, Connection | None]:
        """May connection ``sid`` join? The join, its live campaign, the viewer's member id and
        where the connection was joined before (if it was)."""
        data = self.parse(JoinIn, payload)
        self._limit(sid, "join")
        entry = self.campaigns.live(data.campaign)
        self.limits.take("join", data.campaign, data.viewer, sid)
        cid = data.campaign
        member = member_id(self.config["SECRET_KEY"], cid, data.viewer)
        self._unblocked(cid, member)
        previous = self.connections.get(sid)
        if previous and previous.viewer != data.viewer:
            # One connection is one person: otherwise one socket could pose as a crowd
            # (seats in a room, people unlocking a group match, per-viewer limits).
            raise Problem(ErrorCode.INVALID, "viewer: one connection is one viewer.")
        if data.session:
            state = (
                self.store.session_state(cid, data.session)
                if self.store.session_campaign(data.session) == cid
                else None
            )
            if state is None:
                raise Problem(ErrorCode.NOT_FOUND, "This invite link has expired or is unknown.")
            if state == "closed":
                raise closed_problem()
        return data, entry, member, previous

    def act(self, sid: str, payload: Any) -> tuple[ActIn, Connection, Entry, Effect]:
        """May connection ``sid`` act, as far as this process can tell? The act, the
        connection, its live campaign and what the activity says the act does. The count
        script decides the rest (`act_buckets`, `act_refusal`)."""
        data = self.parse(ActIn, payload)
        self._limit(sid, "act")
        connection = self._joined(sid)
        entry = self.campaigns.live(connection.campaign)
        try:
            effect = entry.activity.effect(entry.settings, data.kind, data.data)
        except ActionRejected as exc:
            raise Problem(exc.code, exc.message) from None  # a widget names a CONTRACT code
        return data, connection, entry, effect

    def act_buckets(self, connection: Connection, sid: str) -> list[SharedBucket]:
        """The shared buckets an act takes a token from, inside the count script."""
        return self.limits.buckets("act", connection.viewer, sid)

    def say(self, sid: str, payload: Any) -> tuple[SayIn, Connection]:
        """May connection ``sid`` post this message? The message and the connection."""
        data = self.parse(SayIn, payload)
        if not data.text:
            raise Problem(ErrorCode.INVALID, "text: the message is empty.")
        self._limit(sid, "say")
        connection = self._joined(sid)
        self.limits.take("say", connection.campaign, connection.viewer, sid)
        self.campaigns.live(connection.campaign)
        # Also asked here, not only told by the block event: a process that missed the event
        # must still never post for a blocked viewer.
        self._unblocked(connection.campaign, connection.member)
        return data, connection

    def leave(self, payload: Any) -> None:
        self.parse(LeaveIn, payload)

    # -- connections ------------------------------------------------------------------------

    def connect(self, sid: str, ip: str | None) -> None:
        """May a new connection from ``ip`` come in? Raises ``rate_limited`` beyond the
        address's limits."""
        self.limits.connect(sid, ip)

    def forget(self, sid: str) -> None:
        """Connection ``sid`` went: its buckets and refusal with it."""
        self.buckets.pop(sid, None)
        self.connections.forget_refusal(sid)

    def release(self, sid: str) -> None:
        """Connection ``sid`` went: it no longer counts among its address's connections."""
        self.limits.release(sid)

    def refresh(self) -> None:
        """Heartbeat: keep this process's connections counted."""
        self.limits.refresh()

    # -- the checks -----------------------------------------------------------------------

    def parse(self, model: type[Model], payload: Any) -> Model:
        if payload is None and model is LeaveIn:
            payload = {}
        if not isinstance(payload, dict):
            raise Problem(ErrorCode.INVALID, "The payload must be a JSON object.")
        try:
            size = len(orjson.dumps(payload))
        except (TypeError, orjson.JSONEncodeError):
            message = "The payload must be plain JSON (numbers within 64 bits)."
            raise Problem(ErrorCode.INVALID, message) from None
        limit = self.config["MAX_EVENT_BYTES"]
        if size > limit:
            raise Problem(ErrorCode.TOO_LARGE, f"The payload is over {limit} bytes.")
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            where, message = first_error(exc)
            code = ErrorCode.TOO_LARGE if is_too_long(exc) else ErrorCode.INVALID
            raise Problem(code, f"{where}: {message}") from None

    def _limit(self, sid: str, event: str) -> None:
        """The connection's own bucket for ``event``."""
        capacity, rate = self.config[f"{event.upper()}_RATE"]
        buckets = self.buckets.setdefault(sid, {})
        bucket = buckets.setdefault(event, Bucket(capacity, rate))
        wait = bucket.take()
        if wait:
            raise Problem(ErrorCode.RATE_LIMITED, TOO_MANY, retry_after=wait)

    def _joined(self, sid: str) -> Connection:
        connection = self.connections.get(sid)
        if connection is None:
            reason = self.connections.refusal(sid)
            if reason is not None:
                raise blocked_problem(reason)
            raise Problem(ErrorCode.NOT_JOINED, "Join a session first.")
        return connection

    def _unblocked(self, cid: str, member: str) -> None:
        block = self.store.blocked(cid, member)
        if block:
            raise blocked_problem(block["reason"])
