"""One meaning in both languages: the Lua scripts speak the statuses and event kinds of
socialads.protocol (generated into them), and read their KEYS and ARGV by the names of
socialads.store.scripts, never by position."""

from __future__ import annotations

import re
import time
from importlib.resources import files

import pytest
import redis

from socialads.activities import Match
from socialads.protocol import ActionStatus, EventKind, PostStatus, lua_constants
from socialads.store import SessionClosed
from socialads.store.events import (
    campaign_changed,
    channel_event,
    session_closed,
    viewer_blocked,
)
from socialads.store.scripts import LIBRARIES, Scripts, fields, source

LUA = files("socialads.store").joinpath("lua")
SCRIPTS = sorted(path.name for path in LUA.iterdir() if path.name.endswith(".lua"))


def _code(name: str) -> str:
    """A script's text without its comments."""
    return re.sub(r"--[^\n]*", "", LUA.joinpath(name).read_text())


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_script_returns_a_status_number_of_its_own(name):
    code = _code(name)
    # A status is the first value a script returns ({status, ...}), or what refuse() is given.
    assert not re.search(r"return\s*\{\s*-?\d", code), name
    assert not re.search(r"refuse\(\s*-?\d", code), name


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_script_reads_a_key_or_an_argument_by_position(name):
    assert not re.search(r"(KEYS|ARGV)\[\s*\d", _code(name)), name


@pytest.mark.parametrize(
    "layout",
    [layout for pair in Scripts.LAYOUTS.values() for layout in pair],
    ids=lambda layout: layout.__name__,
)
def test_a_layout_gives_its_fields_in_their_order(layout):
    # The Lua names come from the signature: what the function returns must follow it.
    found = fields(layout)
    given = {name: [name] if tail else name for name, tail in found}
    assert layout(**given) == tuple(name for name, _ in found)


@pytest.mark.parametrize("name", Scripts.LAYOUTS)
def test_every_script_has_its_layout_and_uses_each_of_its_names(name):
    keys, args = Scripts.LAYOUTS[name]
    code = _code(f"{name}.lua")
    # The names the script is given: each fixed field, and where the first tail begins.
    given = re.findall(
        r"^local (\w+) = (?:KEYS|ARGV)\[|^local (\w+_at) = ", source(name, keys, args), re.M
    )
    unused = [
        found for pair in given for found in pair if found and not re.search(rf"\b{found}\b", code)
    ]
    if name == "rate_limit":  # it hands all of KEYS and ARGV to take_tokens
        assert "take_tokens(KEYS, ARGV)" in code
    else:
        assert unused == [], unused
    scripts = [path[:-4] for path in SCRIPTS if path[:-4] not in LIBRARIES]
    assert sorted(Scripts.LAYOUTS) == sorted(scripts)


@pytest.mark.parametrize(
    ("name", "prefix", "statuses"),
    [("record_action.lua", "ACTION", ActionStatus), ("post_message.lua", "POST", PostStatus)],
)
def test_every_status_is_answered_by_its_script(name, prefix, statuses):
    code = _code(name)
    assert [s.name for s in statuses if f"{prefix}_{s.name}" not in code] == []


def test_the_generated_constants_are_the_enums(redis_server):
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    names = [f"ACTION_{s.name}" for s in ActionStatus] + [f"POST_{s.name}" for s in PostStatus]
    numbers = client.eval(lua_constants() + f"return {{{', '.join(names)}}}", 0)
    assert numbers == [*(s.value for s in ActionStatus), *(s.value for s in PostStatus)]
    kinds = client.eval(
        lua_constants() + "return {" + ", ".join(f"EVENT_{kind.name}" for kind in EventKind) + "}",
        0,
    )
    assert kinds == [kind.value for kind in EventKind]


def test_every_action_status_comes_back_as_its_enum(store, make_campaign):
    cid = make_campaign()["id"]
    token = store.create_session(cid, "ana")
    once = {"once": "vote", "choice": "park"}
    answers = {
        ActionStatus.COUNTED: store.record_action(cid, token, "ana", "a1", 1, **once),
        ActionStatus.DUPLICATE: store.record_action(cid, token, "ana", "a1", 1, **once),
        ActionStatus.ALREADY_CHOSEN: store.record_action(cid, token, "ana", "a2", 1, **once),
        ActionStatus.CAPPED: store.record_action(cid, token, "ana", "a3", 1, per_viewer_cap=1),
    }
    store.record_action(cid, token, "ben", "b1", 1, cooldown=60)
    answers[ActionStatus.COOLING_DOWN] = store.record_action(
        cid, token, "ben", "b2", 1, cooldown=60
    )
    bucket = [("v", "cam", (1, 0.01))]
    store.record_action(cid, token, "cam", "c1", 1, buckets=bucket)
    answers[ActionStatus.RATE_LIMITED] = store.record_action(
        cid, token, "cam", "c2", 1, buckets=bucket
    )
    store.close_session(cid, token, {"at": 0, "reason": "Spam", "by": "Sam", "user": "t"})
    answers[ActionStatus.SESSION_CLOSED] = store.record_action(cid, token, "dan", "d1", 1)
    assert set(answers) == set(ActionStatus)
    for status, answer in answers.items():
        assert type(answer.status) is ActionStatus and answer.status is status, answer


def test_the_chat_script_speaks_the_post_statuses(store, make_campaign):
    cid = make_campaign()["id"]
    token = store.create_session(cid, "ana")
    message = {"ts": int(time.time() * 1000), "text": "Hi", "author": {"id": "m1"}}
    posted, first = store.post_message(cid, token, "ana\0m1", message)
    repeated, again = store.post_message(cid, token, "ana\0m1", {**message, "text": "Other"})
    assert (posted, repeated) == (True, False) and again == first and first["id"] == 1
    store.close_session(cid, token, {"at": 0, "reason": "Spam", "by": "Sam", "user": "t"})
    with pytest.raises(SessionClosed):
        store.post_message(cid, token, "ana\0m2", message)


def test_the_count_script_publishes_a_progress_event(store, make_campaign):
    cid = make_campaign()["id"]
    token = store.create_session(cid, "ana")
    pubsub = store.listener_connection().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(store.keys.bus(cid))  # the campaign's channel (one Redis: classic)
    try:
        pubsub.get_message(timeout=1)  # the subscription's own confirmation
        store.record_action(cid, token, "ana", "a1", 3, match=Match(every=1, amount=10, pool=100))
        deadline, event = time.monotonic() + 5, None
        while event is None and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1)
            if message and message["type"] == "message":
                found = channel_event(message["data"])
                if found and found.get("c") == cid:
                    event = found
    finally:
        pubsub.close()
    # Every number a viewer's progress shows, so no process reads them back
    # (socialads.realtime.progress): the totals, the session's people and matched, and the
    # new value of each state counter the action moved (a pledge moves none).
    assert event == {
        "k": EventKind.PROGRESS,
        "c": cid,
        "s": token,
        "t": 13,
        "st": 3,
        "sp": 1,
        "sm": 10,
        "f": {},
    }


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[1]",
        b'{"k": "p"}',
        b'{"k": "zz", "c": "x"}',
        b'{"k": 1, "c": "x"}',
        b'{"k": "b", "c": "x", "m": "y"}',
        b"\xff\xfe",
    ],
)
def test_a_message_that_is_not_ours_is_ignored(data):
    assert channel_event(data) is None


def test_the_store_s_own_events_are_ours():
    assert channel_event(campaign_changed("c1")) == {"k": "c", "c": "c1"}
    assert channel_event(viewer_blocked("c1", "m1", "Spam"))["k"] == EventKind.BLOCKED
    assert channel_event(session_closed("c1", "s1", "Spam"))["k"] == EventKind.CLOSED
