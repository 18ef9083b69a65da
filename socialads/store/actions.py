"""Counting actions exactly once, and what they add up to: the campaign and session totals,
the activity's state, a viewer's once-only choices, the leaderboard and the group match.

One script (record_action.lua) dedupes, checks the limits, counts and publishes the new
totals; nothing counts with read-modify-write in Python. Under load the scripts of many
actions share a round trip (``socialads.store.batching``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, NamedTuple, TypedDict, cast

import orjson

from socialads.activities import Match
from socialads.protocol import ActionStatus
from socialads.store.analytics import DIRECT, minute_of
from socialads.store.base import Domain, JSONObject, publish_command
from socialads.store.keys import SESSION_TTL, CampaignKeys
from socialads.store.limits import SharedBucket, rates_of, shared_among
from socialads.store.parts import summed
from socialads.store.scripts import record_action_args, record_action_keys

SESSION_PROGRESS = ("total", "people", "matched")  # what a session's viewers see of it
ACTION_STATUSES = {status.value: status for status in ActionStatus}  # faster than the call


# A session's `SESSION_PROGRESS`: its total, the different people who acted in it (group
# match only) and what its group unlocked from the brand's match pool. (A plain dict: the
# layers above take it as one.)
SessionProgress = dict[str, int]


class BoardEntry(TypedDict):
    name: str  # the group's name, never its token
    total: int


def session_progress(values: Sequence[Any]) -> SessionProgress:
    """`SESSION_PROGRESS` as read by HMGET."""
    total, people, matched = values
    return {"total": int(total or 0), "people": int(people or 0), "matched": int(matched or 0)}


# One part's reading (``socialads.store.parts``): its total, activity state counters and
# the given sessions' progress.
PartProgress = tuple[int, dict[str, int], list[SessionProgress]]


class ActionResult(NamedTuple):
    status: ActionStatus
    total: int
    session_total: int
    wait: float = 0  # seconds left of a cooldown, or until the shared buckets allow one
    matched: int = 0  # what this action's group unlocked from the brand's match pool


class Actions(Domain):
    """Actions and the totals they make."""

    def record_action(
        self,
        cid: str,
        token: str,
        viewer: str,
        action_id: str,
        amount: int,
        per_viewer_cap: int = 0,
        state: dict[str, int] | None = None,
        origin: str = DIRECT,
        once: str = "",
        choice: str = "",
        cooldown: float = 0,
        match: Match | None = None,
        buckets: Sequence[SharedBucket] = (),
    ) -> ActionResult:
        """Count one action exactly once (see record_action.lua). ``once`` names a choice a
        viewer makes only once (a poll, a quiz question) and ``choice`` what they chose;
        ``cooldown`` is the seconds a viewer waits between two actions; ``match`` is the
        campaign's group match, if any (the result says what this action unlocked);
        ``buckets`` the shared rate limits it takes a token from, as in `take_tokens` (in
        the same script: no round trip of its own)."""
        parts = self.parts.of(cid)
        index = parts.index(viewer)
        key = parts.all[index]  # the campaign's own keys, unless it counts in parts
        if parts.count > 1:
            buckets = shared_among(buckets, parts.count)
        status, total, session_total, wait_ms, *unlocked = self.scripts.record_action(
            record_action_keys(
                done=key.done_by(viewer),
                done_before=key.done,
                counters=key.counters,
                session=key.session_hash(token),
                me=key.viewer_state(viewer),
                per_viewer=key.per_viewer,
                state=key.state,
                engaged=key.engaged,
                minute=key.minute(minute_of(time.time())),
                origin_actions=key.origin_actions,
                friends=key.friends,
                choices=key.choices(viewer),
                last_action=key.last_action,
                board=key.board,
                acted=key.session_acted(token),
                ledger=key.ledger,
                buckets=[key.bucket(scope, whose, "act") for scope, whose, _ in buckets],
            ),
            record_action_args(
                member=f"{viewer}\0{action_id}",
                action=action_id,
                amount=amount,
                viewer=viewer,
                per_viewer_cap=per_viewer_cap,
                channel=key.bus,
                publish=publish_command(self.cluster),
                campaign=cid,
                part=index if parts.count > 1 else -1,  # -1: the notice says no part
                part_ttl=SESSION_TTL if index else 0,
                token=token,
                origin=origin,
                once=once,
                choice=choice,
                cooldown_ms=int(cooldown * 1000),
                match_every=match.every if match else 0,
                match_amount=match.amount if match else 0,
                match_pool=match.pool if match else 0,
                rates=rates_of(buckets) if buckets else (),
                increments=[x for pair in state.items() for x in pair] if state else (),
            ),
        )
        return ActionResult(
            ACTION_STATUSES[status],
            int(total),
            int(session_total),
            int(wait_ms) / 1000,
            int(unlocked[0]) if unlocked else 0,
        )

    def choices(self, cid: str, viewer: str) -> dict[str, str]:
        """What a viewer chose, by ``once`` key (their vote, their answers): from their
        state, and from where it was kept before (until their next action moves it)."""
        key = self.parts.of(cid).of(viewer)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(key.viewer_state(viewer))
        pipe.hgetall(key.choices(viewer))
        state, before = cast("list[dict[str, str]]", pipe.execute())
        mine = {field[2:]: value for field, value in state.items() if field.startswith("o:")}
        return {**before, **mine}

    def campaign_progress(
        self, cid: str, tokens: Sequence[str] = ()
    ) -> tuple[int, dict[str, int], list[SessionProgress]]:
        """The campaign total, activity state counters and, for each of ``tokens``, its
        session's ``total``, ``people`` (who acted) and ``matched``, in one round trip (the
        parts of a campaign counted in parts added up)."""
        readings = self.progress_by_part(cid, tokens)
        if len(readings) == 1:
            return readings[0]
        return (
            sum(total for total, _, _ in readings),
            summed(state for _, state, _ in readings),
            [
                cast(SessionProgress, summed(each))
                for each in zip(*(sessions for _, _, sessions in readings), strict=True)
            ],
        )

    def progress_by_part(self, cid: str, tokens: Sequence[str] = ()) -> list[PartProgress]:
        """What `campaign_progress` reads, for each part of the campaign's counts apart
        (``socialads.store.parts``; one, for most campaigns), in one round trip."""
        parts = self.parts.of(cid).all
        pipe = self.redis.pipeline(transaction=False)
        for key in parts:
            pipe.hget(key.counters, "total")
            pipe.hgetall(key.state)
            for token in tokens:
                pipe.hmget(key.session_hash(token), SESSION_PROGRESS)
        replies = pipe.execute()
        step = 2 + len(tokens)
        readings: list[PartProgress] = []
        for at in range(0, len(replies), step):
            total, state, *sessions = replies[at : at + step]
            readings.append(
                (
                    int(total or 0),
                    {k: int(v) for k, v in state.items()},
                    [session_progress(values) for values in sessions],
                )
            )
        return readings

    def leaderboard(self, cid: str, size: int) -> list[BoardEntry]:
        """The sessions with the largest totals: group names and totals, never tokens. A
        campaign counted in parts keeps a board per part (a session's totals there), ranked
        by their sums (`_top_over_parts`)."""
        parts = self.parts.of(cid).all
        main = parts[0]
        if len(parts) == 1:
            top = cast(
                "list[tuple[str, float]]",
                self.redis.zrevrange(main.board, 0, size - 1, withscores=True),
            )
        else:
            top = self._top_over_parts(parts, size)
        pipe = self.redis.pipeline(transaction=False)
        for token, _ in top:
            pipe.hget(main.session_hash(token), "name")
        names = pipe.execute()
        return [
            {"name": name or "A group", "total": int(score)}
            for (_, score), name in zip(top, names, strict=True)
        ]

    def _top_over_parts(self, parts: Sequence[CampaignKeys], size: int) -> list[tuple[str, float]]:
        """The ``size`` sessions of largest sum over the parts' boards, exactly (Fagin's
        threshold algorithm): read each board from the top, deeper each round, and sum every
        session seen over all parts, until the last of the best is at least what a session
        not seen yet could have (the lowest score read in each board not read to its end)."""
        depth, count, sums = 2 * size, len(parts), dict[str, float]()
        while True:
            pipe = self.redis.pipeline(transaction=False)
            for key in parts:
                pipe.zrevrange(key.board, 0, depth - 1, withscores=True)
            tops = cast("list[list[tuple[str, float]]]", pipe.execute())
            new = sorted({token for each in tops for token, _ in each} - sums.keys())
            pipe = self.redis.pipeline(transaction=False)
            for token in new:
                for key in parts:
                    pipe.zscore(key.board, token)
            scores = pipe.execute()
            for i, token in enumerate(new):
                sums[token] = float(sum(s or 0 for s in scores[i * count : (i + 1) * count]))
            best = sorted(sums.items(), key=lambda entry: (-entry[1], entry[0]))[:size]
            unseen = sum(each[-1][1] for each in tops if len(each) == depth)
            if all(len(each) < depth for each in tops) or (
                len(best) == size and best[-1][1] >= unseen
            ):
                return best
            depth *= 4

    def match_summary(self, cid: str, latest: int) -> tuple[int, list[JSONObject]]:
        """What the brand's match pool has given (the campaign's ``matched``) and the latest
        ``latest`` entries of its public ledger, newest first (``latest`` -1: all kept)."""
        key = self.keys.campaign(cid)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(key.counters, "matched")
        pipe.lrange(key.ledger, 0, latest - 1 if latest > 0 else -1)
        used, entries = pipe.execute()
        return int(used or 0), [orjson.loads(entry) for entry in entries]
