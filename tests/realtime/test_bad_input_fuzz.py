"""Bad input never crashes a process, fuzzed: at least 1,000 random payloads per event (on one
Redis; a quarter of that again on the cluster), sent to a real `serve` process, each answered
with a contract error ack or a success; and raw packets Socket.IO cannot decode drop only the
client that sent them."""

from __future__ import annotations

import pytest
import requests
import websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialads.activities import load_activities
from socialads.runtime.processes import ServeProcess
from tests.support.acks import assert_error
from tests.support.seeds import SECRET

# -- the fuzz: at least 1,000 random payloads per event against a real `serve` ---------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    ["campaign", "session", "viewer", "name", "since", "origin", "id", "kind", "data", "text"]
)
PAYLOADS = JSON | st.dictionaries(FIELDS, JSON, max_size=5)
# Well-formed ids (printable, 1..64); PAYLOADS has the malformed ones.
IDS = st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=64)
INDEXES = st.integers(-2, 12) | JSON
# Close to what widgets send, so half the fuzz gets past the first check into each rule.
ACTIONS = st.fixed_dictionaries(
    {"id": IDS},
    optional={
        "kind": st.sampled_from(["pledge", "vote", "answer", "push"]) | st.text(max_size=40) | JSON,
        "data": st.fixed_dictionaries({}, optional={"option": INDEXES, "question": INDEXES})
        | st.dictionaries(
            st.sampled_from(["option", "question"]) | st.text(max_size=12), JSON, max_size=3
        )
        | JSON,
    },
)
MESSAGES = st.fixed_dictionaries({"id": IDS, "text": st.text(min_size=1, max_size=600) | JSON})


def half(near):
    """Half near-valid payloads, half anything at all (``a | b`` would weigh every leaf
    strategy alike, and there are many more leaves of nonsense)."""
    return st.sampled_from([near, PAYLOADS]).flatmap(lambda strategy: strategy)


ORIGINS = st.sampled_from(
    [
        "https://news.example",
        "http://[::1]:8080",
        "null",
        "https://x/y",
        "http://bücher.example",
        "javascript:alert(1)",
    ]
) | st.text(max_size=80)
KNOWN = {"join", "act", "say", "leave", "connect", "disconnect"}
UNKNOWN_EVENTS = st.text(min_size=1, max_size=50).filter(lambda name: name not in KNOWN)
FUZZ = settings(
    max_examples=1000,  # on one Redis; the cluster's run takes ON_CLUSTER of as many
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Validation is the same code on either Redis: the cluster's run is for what the well-formed
# payloads do there, and a quarter of the examples shows it (the suite stays under its time).
ON_CLUSTER = 0.25
# The fuzz server's limits are out of the way, so well-formed payloads reach the activity's
# rules and the store instead of stopping at `rate_limited` (the limits have their own tests).
NO_LIMIT = "[1000000000, 1000000000]"
LIMITS = [
    "ACT_RATE",
    "SAY_RATE",
    "JOIN_RATE",
    "VIEWER_ACT_RATE",
    "VIEWER_SAY_RATE",
    "VIEWER_JOIN_RATE",
    "IP_ACT_RATE",
    "IP_SAY_RATE",
    "IP_JOIN_RATE",
    "IP_CONNECT_RATE",
]
OK_FIELDS = {
    "join": {
        "session",
        "invite_url",
        "members",
        "total",
        "session_total",
        "goal",
        "state",
        "messages",
    },
    "act": {"total", "session_total"},
    "say": {"message"},
    "leave": set(),
}


@pytest.fixture(scope="module")
def fuzz_server(redis_server, tmp_path_factory):
    """A `serve` process of its own for the fuzz, on the suite's Redis. Like `servers`, it
    must stay up through everything thrown at it and log no traceback."""
    server = ServeProcess(
        redis_server.url,
        tmp_path_factory.mktemp("fuzz"),
        SECRET,
        **{f"SOCIALADS_{name}": NO_LIMIT for name in LIMITS},
    ).start()
    yield server
    alive = server.alive()
    server.stop()
    assert alive, "the fuzzed serve process died: " + server.log_text()[-3000:]
    assert "Traceback" not in server.log_text(), server.log_text()[-3000:]


@pytest.fixture
def fuzzed(redis_kind):
    """`FUZZ`, with the cluster's share of the examples there."""
    if redis_kind != "cluster":
        return FUZZ
    return settings(FUZZ, max_examples=int(FUZZ.max_examples * ON_CLUSTER))


@pytest.fixture
def live(make_campaign):
    """A live campaign of every installed activity: activity name -> campaign id."""
    return {name: make_campaign(activity=name)["id"] for name in sorted(load_activities())}


@pytest.fixture
def fuzz_viewers(fuzz_server, viewers, live):
    """One viewer joined to each live campaign, and a stranger who never joined."""
    joined = {}
    for name, cid in live.items():
        joined[name] = viewers(fuzz_server.url)
        assert joined[name].join(cid)["ok"], name
    return joined, viewers(fuzz_server.url)


def answered(event: str, ack) -> None:
    """Every payload gets an ack: a success with its fields, or a contract error that is not
    `unavailable` (Redis is up, so that would be an exception on our side)."""
    assert isinstance(ack, dict), ack
    if ack.get("ok") is True:
        assert OK_FIELDS.get(event, {"-"}) <= set(ack), ack
    else:
        assert_error(ack)
        assert ack["error"]["code"] != "unavailable", ack


def still_serves(server, viewers, cid: str) -> None:
    viewer = viewers(server.url)
    assert viewer.join(cid)["ok"]
    assert viewer.act()["ok"]
    assert "Traceback" not in server.log_text(), server.log_text()[-3000:]
    assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}


@pytest.mark.slow
def test_random_joins_get_an_answer(fuzz_server, viewers, live, fuzzed):
    """From a fresh connection: mostly nonsense, often a real campaign or session, so
    successful joins move the connection from session to session."""
    host = viewers(fuzz_server.url)
    session = host.join(live["pledge"])["session"]
    near = st.fixed_dictionaries(
        {"campaign": st.sampled_from(sorted(live.values())) | IDS, "viewer": IDS},
        optional={
            "session": st.just(session) | st.text(max_size=70) | JSON,
            "name": st.text(max_size=50) | JSON,
            "since": st.integers() | JSON,
            "origin": ORIGINS | JSON,
        },
    )
    viewer = viewers(fuzz_server.url)

    @fuzzed
    @given(payload=half(near))
    def fuzz(payload):
        answered("join", viewer.call("join", payload))

    fuzz()
    still_serves(fuzz_server, viewers, live["pledge"])


@pytest.mark.slow
@pytest.mark.parametrize("event", ["act", "say"])
def test_random_actions_and_messages_get_an_answer(
    fuzz_server, viewers, live, fuzz_viewers, fuzzed, event
):
    """Sent by viewers joined to a campaign of each activity (so each activity's rules and
    the store's scripts are fuzzed) and by one who never joined (`not_joined`)."""
    joined, stranger = fuzz_viewers
    near = ACTIONS if event == "act" else MESSAGES

    @fuzzed
    @given(who=st.sampled_from([*joined, None]), payload=half(near))
    def fuzz(who, payload):
        answered(event, (joined[who] if who else stranger).call(event, payload))

    fuzz()
    still_serves(fuzz_server, viewers, live["pledge"])


@pytest.mark.slow
def test_random_leaves_get_an_answer(fuzz_server, viewers, live, fuzz_viewers, fuzzed):
    """A valid leave ({} or nothing) ends the viewer's session: it joins again at once."""
    joined, stranger = fuzz_viewers

    @fuzzed
    @given(who=st.sampled_from([*joined, None]), payload=st.none() | st.just({}) | PAYLOADS)
    def fuzz(who, payload):
        viewer = joined[who] if who else stranger
        ack = viewer.call("leave", payload)
        answered("leave", ack)
        if ack["ok"] and who:
            assert viewer.join(live[who])["ok"]

    fuzz()
    still_serves(fuzz_server, viewers, live["pledge"])


@pytest.mark.slow
def test_random_unknown_events_get_an_answer(fuzz_server, viewers, live, fuzz_viewers, fuzzed):
    joined, stranger = fuzz_viewers

    @fuzzed
    @given(who=st.sampled_from([*joined, None]), event=UNKNOWN_EVENTS, payload=st.none() | PAYLOADS)
    def fuzz(who, event, payload):
        ack = (joined[who] if who else stranger).call(event, payload)
        answered(event, ack)
        assert ack["error"]["code"] == "invalid", ack

    fuzz()
    still_serves(fuzz_server, viewers, live["pledge"])


@pytest.mark.parametrize(
    "frame",
    [
        "421[]",
        '421[{"a":1},{}]',
        '421["join",{]',
        '421["join",' + "[" * 20000 + "]" * 20000 + "]",
        '421["act",{"id":"a","data":{"x":' + "9" * 4000 + "}}]",
    ],
)
def test_malformed_packets_drop_only_that_client(server, joined, frame):
    """The packet cannot be decoded, so there is no event to answer: the client is dropped
    (the servers' logs are checked for tracebacks when the session ends)."""
    url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    raw = websocket.create_connection(url, timeout=10)
    raw.recv()  # Engine.IO open
    raw.send("40")
    raw.recv()
    raw.send(frame)
    raw.settimeout(3)
    with pytest.raises(
        (
            websocket.WebSocketConnectionClosedException,
            websocket.WebSocketTimeoutException,
            ConnectionError,
        )
    ):
        while True:  # anything but an answer, until the server closes the connection
            assert not raw.recv().startswith("43"), "a malformed packet got an answer"
    raw.close()
    assert joined.act()["ok"]
    assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}
