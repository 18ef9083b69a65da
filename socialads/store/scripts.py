"""The Lua scripts, and the KEYS and ARGV of each one, by name.

Each script's KEYS and ARGV are built by two functions below that take every field by
keyword and return them flat, in the order of their parameters. The script reads them by
the same names: its text starts with one ``local`` per parameter (``local done =
KEYS[1]`` ...), generated from these signatures. So a script's layout lives here alone, and
mypy checks every call by name. A parameter whose default is ``()`` is a *tail*: a list of
any length spread at that place (tails come last); the script gets where the first tail
begins as ``<name>_at``, and a later tail begins where the one before it ends.

(Functions rather than NamedTuples: the count script is built for every act, and a
NamedTuple built by keyword, then flattened, costs twice as much. tests/unit/test_protocol.py
checks that each function returns its parameters in their order.)

Every script also starts with ``socialads.protocol.lua_constants()`` (the statuses and
event kinds) and the lifetimes of ``socialads.store.keys`` (``SESSION_TTL`` ...), so a
number means one thing in both languages; scripts that take tokens from shared buckets are
built with the ``buckets.lua`` library in front, and scripts that count per publisher
origin with ``origins.lua``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from importlib.resources import files
from typing import Any

import redis

from socialads.protocol import lua_constants
from socialads.store.batching import BatchedScript
from socialads.store.keys import (
    BOARD_KEPT,
    DEDUPE_TTL,
    INVITE_LOOKUP_TTL,
    LEDGER_KEPT,
    ORIGINS_KEPT,
    OTHER_ORIGIN,
    REPLIES_KEPT,
    SERIES_TTL,
    SESSION_TTL,
    SOLO_SESSION_TTL,
    VIEWER_TTL,
)

Flat = tuple[Any, ...]  # KEYS or ARGV as Redis takes them
Layout = Callable[..., Flat]
LIFETIMES: dict[str, int | str] = {
    "SOLO_SESSION_TTL": SOLO_SESSION_TTL,
    "SESSION_TTL": SESSION_TTL,
    "INVITE_LOOKUP_TTL": INVITE_LOOKUP_TTL,
    "SERIES_TTL": SERIES_TTL,
    "REPLIES_KEPT": REPLIES_KEPT,
    "LEDGER_KEPT": LEDGER_KEPT,
    "DEDUPE_TTL": DEDUPE_TTL,
    "VIEWER_TTL": VIEWER_TTL,
    "ORIGINS_KEPT": ORIGINS_KEPT,
    "BOARD_KEPT": BOARD_KEPT,
    "OTHER_ORIGIN": OTHER_ORIGIN,
}


def record_action_keys(
    *,
    done: str,  # this viewer's counted action ids (dedupe), kept DEDUPE_TTL after their last
    done_before: str,  # "viewer NUL action id" of actions counted before per-viewer dedupe
    counters: str,  # the campaign's counters
    session: str,  # the session hash
    me: str,  # this viewer's own state: n, last, f, o:<once key> (keys.py), VIEWER_TTL
    per_viewer: str,  # before `me`: viewer -> actions counted (moved to `me`)
    state: str,  # activity state counters
    engaged: str,  # engaged viewers (HLL)
    minute: str,  # this minute's counts
    origin_actions: str,  # actions per publisher origin
    friends: str,  # before `me`: invited friends, viewer -> 0, 1 once they acted (moved)
    choices: str,  # before `me`: this viewer's once-only choices (moved)
    last_action: str,  # before `me`: viewer -> their last counted action, ms (dropped)
    board: str,  # the sessions' leaderboard
    acted: str,  # viewers who acted in this session
    ledger: str,  # the public match ledger
    buckets: Sequence[str] = (),  # the shared rate-limit buckets of this viewer and address
) -> Flat:
    return (
        done,
        done_before,
        counters,
        session,
        me,
        per_viewer,
        state,
        engaged,
        minute,
        origin_actions,
        friends,
        choices,
        last_action,
        board,
        acted,
        ledger,
        *buckets,
    )


def record_action_args(
    *,
    member: str,  # the member of done_before: "viewer NUL action id"
    action: str,  # the client's action id
    amount: int,
    viewer: str,
    per_viewer_cap: int,  # 0: none
    channel: str,  # the campaign's channel
    publish: str,  # how to publish there: PUBLISH or SPUBLISH (socialads.store.base)
    campaign: str,
    part: int,  # which part of the campaign's counts (socialads.store.parts); -1: in one
    part_ttl: int,  # a part's copy of the session expires this long after its last action
    token: str,  # the session's
    origin: str,  # the publisher origin
    once: str,  # the once-only choice's key ('': none)
    choice: str,  # what is stored under it
    cooldown_ms: int,  # 0: none
    match_every: int,  # group match: people per unlock (0: no match)
    match_amount: int,  # added per unlock
    match_pool: int,  # the most all unlocks add
    rates: Sequence[float] = (),  # each bucket's (KEYS' tail) capacity and refill per second
    increments: Sequence[str | int] = (),  # (activity state field, increment) pairs
) -> Flat:
    return (
        member,
        action,
        amount,
        viewer,
        per_viewer_cap,
        channel,
        publish,
        campaign,
        part,
        part_ttl,
        token,
        origin,
        once,
        choice,
        cooldown_ms,
        match_every,
        match_amount,
        match_pool,
        *rates,
        *increments,
    )


def post_message_keys(*, sent: str, session: str, chat: str, counters: str) -> Flat:
    """``sent``: client key -> message JSON."""
    return (sent, session, chat, counters)


def post_message_args(*, client_key: str, message: bytes, keep: int) -> Flat:
    """``message``: a JSON object without "id"; ``keep``: messages the chat list keeps."""
    return (client_key, message, keep)


def presence_keys(*, presence: str, members: str) -> Flat:
    """``presence``: connection id -> expires at; ``members``: connection id -> JSON."""
    return (presence, members)


def presence_args(*, now: float) -> Flat:
    return (now,)


def seat_keys(*, presence: str, members: str, viewers: str, before: Sequence[str] = ()) -> Flat:
    """``viewers``: who ever joined the session; ``before``: where the three were kept before
    the room had a slot of its own (on one Redis; none on a cluster, which never had them)."""
    return (presence, members, viewers, *before)


def seat_args(
    *, now: float, connection: str, member: bytes, expires: float, viewer: str, room_size: int
) -> Flat:
    """``room_size`` 0: no limit."""
    return (now, connection, member, expires, viewer, room_size)


def count_join_keys(
    *,
    session: str,  # the session's hash
    blocked: str,  # the campaign's blocked viewers
    origin_joins: str,  # joins per publisher origin
    viewers: str,  # the campaign's distinct viewers (HLL)
    here: str,  # live viewers per process
    counters: str,
    minute: str,  # this minute's counts
    acted: str,  # who acted in the session (kept as long as it)
) -> Flat:
    return (session, blocked, origin_joins, viewers, here, counters, minute, acted)


def count_join_args(
    *,
    member: str,  # the joining member's id (the block list's key)
    viewer: str,
    first: int,  # 1: the viewer's first join of this session (the seat said so)
    here_ttl: float,  # this process's live count kept this long (0: not one more)
    here_kept: int,  # :here kept this many here_ttl after its latest write
    process: str,  # this process's count's field in `here`
    process_until: str,  # and its expiry's
    now: float,
    origin: str,
    channel: str,  # the campaign's
    publish: str,  # PUBLISH or SPUBLISH
    notice: bytes,  # the roster changed
) -> Flat:
    return (
        member,
        viewer,
        first,
        here_ttl,
        here_kept,
        process,
        process_until,
        now,
        origin,
        channel,
        publish,
        notice,
    )


def brand_reply_keys(*, session: str, counters: str, replies: str, reply_median: str) -> Flat:
    return (session, counters, replies, reply_median)


def brand_reply_args(*, at: int) -> Flat:
    """``at``: the reply's time (ms)."""
    return (at,)


def invite_opened_keys(*, session: str, counters: str) -> Flat:
    return (session, counters)


def no_args() -> Flat:
    return ()


def rate_limit_keys(*, buckets: Sequence[str] = ()) -> Flat:
    return (*buckets,)


def rate_limit_args(*, rates: Sequence[float] = ()) -> Flat:
    """Each bucket's capacity and refill per second."""
    return (*rates,)


def connections_keys(*, connections: str) -> Flat:
    """An address's live connections."""
    return (connections,)


def connections_args(*, now: float, connection: str, expires: float, cap: int) -> Flat:
    return (now, connection, expires, cap)


def count_impression_keys(*, counters: str, by_origin: str, minute: str) -> Flat:
    """``by_origin``: publisher origin -> impressions; ``minute``: this minute's counts."""
    return (counters, by_origin, minute)


def count_impression_args(*, origin: str) -> Flat:
    return (origin,)


def fields(layout: Layout) -> list[tuple[str, bool]]:
    """A layout's fields in order, each with whether it is a tail."""
    found = [
        (name, parameter.default == ())
        for name, parameter in inspect.signature(layout).parameters.items()
    ]
    tails = [is_tail for _, is_tail in found]
    if tails != sorted(tails):
        raise TypeError(f"{layout.__name__}: a tail must come last")
    return found


def _locals(layout: Layout, table: str) -> list[str]:
    """``local <field> = KEYS[i]`` for the fixed fields, ``<tail>_at`` for the first tail."""
    found = fields(layout)
    lines = [f"local {name} = {table}[{i}]" for i, (name, tail) in enumerate(found, 1) if not tail]
    tails = [name for name, tail in found if tail]
    if tails:
        lines.append(f"local {tails[0]}_at = {len(lines) + 1}")
    return lines


def _lua(value: int | str) -> str:
    """A constant as Lua writes it (a string quoted; ours hold no quote or backslash)."""
    return str(value) if isinstance(value, int) else f"'{value}'"


LIBRARIES = ("buckets", "origins")  # lua/ files that are functions for scripts, not scripts


def source(name: str, keys: Layout, args: Layout, *libraries: str) -> str:
    """The text registered for ``lua/<name>.lua``: constants, named KEYS and ARGV, the
    ``libraries`` (e.g. ``buckets``), then the script."""
    names = [field for field, _ in (*fields(keys), *fields(args))]
    if len(set(names)) != len(names):
        raise TypeError(f"{name}: a name is used for a key and an argument")
    lua = files("socialads.store").joinpath("lua")
    return "".join(
        [
            lua_constants(),
            "".join(f"local {constant} = {_lua(value)}\n" for constant, value in LIFETIMES.items()),
            "\n".join([*_locals(keys, "KEYS"), *_locals(args, "ARGV")]) + "\n",
            *(lua.joinpath(f"{library}.lua").read_text() for library in libraries),
            lua.joinpath(f"{name}.lua").read_text(),
        ]
    )


class Lua:
    """One script: call it with its KEYS and ARGV as its layout functions build them.
    ``run`` is what sends it (a redis-py `Script`, or the group commit for the count
    script); ``text`` is what was registered."""

    __slots__ = ("text", "run", "_pipelined")

    def __init__(self, text: str, run: Callable[..., Any], pipelined: bool = True):
        self.text = text
        self.run = run
        self._pipelined = pipelined

    def __call__(self, keys: Flat, args: Flat) -> Any:
        return self.run(keys, args)

    def queue(self, pipe: redis.client.Pipeline, keys: Flat, args: Flat) -> None:
        """Add the script to a pipeline; its answer comes with the pipeline's."""
        if not self._pipelined:
            raise TypeError("this script goes through its own sender")
        self.run(keys, args, client=pipe)


def _script(client: redis.Redis, name: str, keys: Layout, args: Layout, *libraries: str) -> Lua:
    text = source(name, keys, args, *libraries)
    return Lua(text, client.register_script(text))


class Scripts:
    """Every script, registered on one client (sent by SHA, loaded again if Redis forgot)."""

    LAYOUTS: dict[str, tuple[Layout, Layout]] = {
        "record_action": (record_action_keys, record_action_args),
        "post_message": (post_message_keys, post_message_args),
        "presence": (presence_keys, presence_args),
        "seat": (seat_keys, seat_args),
        "count_join": (count_join_keys, count_join_args),
        "brand_reply": (brand_reply_keys, brand_reply_args),
        "invite_opened": (invite_opened_keys, no_args),
        "rate_limit": (rate_limit_keys, rate_limit_args),
        "connections": (connections_keys, connections_args),
        "count_impression": (count_impression_keys, count_impression_args),
    }

    def __init__(self, client: redis.Redis, ack_replicas: int = 0, ack_wait_ms: int = 500):
        text = source("record_action", *self.LAYOUTS["record_action"], "buckets", "origins")
        # Many actions per round trip under load (see batching.py), one alone when idle;
        # acknowledged once ``ack_replicas`` replicas have them.
        counting = BatchedScript(
            client, client.register_script(text), replicas=ack_replicas, wait_ms=ack_wait_ms
        )
        self.record_action = Lua(text, counting, pipelined=False)
        self.post_message = _script(client, "post_message", *self.LAYOUTS["post_message"])
        self.presence = _script(client, "presence", *self.LAYOUTS["presence"])
        self.seat = _script(client, "seat", *self.LAYOUTS["seat"])
        self.count_join = _script(client, "count_join", *self.LAYOUTS["count_join"], "origins")
        self.brand_reply = _script(client, "brand_reply", *self.LAYOUTS["brand_reply"])
        self.invite_opened = _script(client, "invite_opened", *self.LAYOUTS["invite_opened"])
        self.rate_limit = _script(client, "rate_limit", *self.LAYOUTS["rate_limit"], "buckets")
        self.connections = _script(client, "connections", *self.LAYOUTS["connections"])
        self.count_impression = _script(
            client, "count_impression", *self.LAYOUTS["count_impression"], "origins"
        )
