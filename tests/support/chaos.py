"""The widget of the chaos tests (tests/faults): a viewer who joins its group, pledges with
client action ids and re-sends whatever was not acknowledged, with the same id, after any error
or reconnect (as static/src/live/actions.js does), and the helpers to run a scenario."""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections import Counter

import socketio

GROUP = 5  # friends per session
ACK_TIMEOUT = 5


class Person:
    """One viewer's widget: connects (to the next URL after a failure), joins its group,
    keeps unacknowledged pledges and re-sends them with their ids until they are acked."""

    def __init__(self, index: int, urls: list[str], campaign: str, groups: dict):
        self.index = index
        self.urls = urls
        self.campaign = campaign
        self.group = index // GROUP
        self.groups = groups  # group -> asyncio.Future of its session token
        self.viewer = f"chaos-{index}-{uuid.uuid4().hex[:8]}"
        self.name = f"P{index}"
        self.session: str | None = None
        self.pending: dict[str, float] = {}  # action id -> when pledged, until acked
        self.acked: set[str] = set()
        self.seen_total = 0  # what the widget shows: the largest total it was told
        self.last_progress: int | None = None
        self.presence: set[str] | None = None
        self.connected_to: str | None = None
        self.acting = True
        self.leaving = False  # once disconnected, closes the tab instead of reconnecting
        self.stopped = False  # the test is over
        self.wake = asyncio.Event()
        self.codes: Counter = Counter()
        self.reconnects = 0

    # -- what the server tells us ---------------------------------------------------------

    def _progress(self, data) -> None:
        self.last_progress = data["total"]
        self.seen_total = max(self.seen_total, data["total"])

    def _presence(self, data) -> None:
        self.presence = {m["name"] for m in data["members"]}

    # -- the widget -----------------------------------------------------------------------

    async def call(self, sio, gone: asyncio.Event, event: str, payload: dict):
        """The ack, or None when it timed out or the connection dropped first (as the
        widget, which reconnects at once rather than wait for acks that cannot come)."""
        answer = asyncio.ensure_future(sio.call(event, payload, timeout=ACK_TIMEOUT))
        dropped = asyncio.ensure_future(gone.wait())
        await asyncio.wait({answer, dropped}, return_when=asyncio.FIRST_COMPLETED)
        dropped.cancel()
        if not answer.done():
            answer.cancel()
        elif answer.exception() is None:
            return answer.result()
        self.codes["no ack"] += 1
        return None  # whatever it was stays pending

    async def live(self) -> None:
        attempt = 0
        while not self.stopped:
            url = self.urls[attempt % len(self.urls)]
            sio = socketio.AsyncClient(reconnection=False)
            gone = asyncio.Event()
            sio.on("progress", self._progress)
            sio.on("presence", self._presence)
            sio.on("disconnect", lambda *_, gone=gone: gone.set())
            try:
                await sio.connect(url, transports=["websocket"], wait_timeout=5)
            except socketio.exceptions.ConnectionError:
                attempt += 1  # this process is gone: the next URL
                await asyncio.sleep(random.uniform(0.1, 0.4))
                continue
            self.connected_to = url
            try:
                await self.session_on(sio, gone)
            finally:
                self.connected_to = None
                if sio.connected:
                    await sio.disconnect()
            if self.leaving:
                return
            if not self.stopped:
                self.reconnects += 1
                attempt += 1
                await asyncio.sleep(
                    random.uniform(0.1, 0.5)
                )  # jittered, as static/src/live/retry.js

    async def join(self, sio, gone: asyncio.Event) -> bool:
        while not gone.is_set() and not self.stopped:
            payload = {"campaign": self.campaign, "viewer": self.viewer, "name": self.name}
            if self.session is None and self.index % GROUP:
                self.session = await self.groups[self.group]  # the leader's invite
            if self.session:
                payload["session"] = self.session
            ack = await self.call(sio, gone, "join", payload)
            if ack and ack["ok"]:
                if self.session is None:
                    self.groups[self.group].set_result(ack["session"])
                self.session = ack["session"]
                self.seen_total = max(self.seen_total, ack["total"])
                self.presence = {m["name"] for m in ack["members"]}
                return True
            if ack:
                self.codes[ack["error"]["code"]] += 1
            await asyncio.sleep(random.uniform(0.3, 0.6))
        return False

    async def session_on(self, sio, gone: asyncio.Event) -> None:
        if not await self.join(sio, gone):
            return
        while not gone.is_set() and not self.stopped:
            for action_id in list(self.pending):
                ack = await self.call(sio, gone, "act", {"id": action_id})
                if ack is None:
                    break
                if ack["ok"]:
                    if ack.get("duplicate"):
                        self.codes["duplicate"] += 1  # counted before, its ack was lost
                    self.pending.pop(action_id, None)
                    self.acked.add(action_id)
                    self.seen_total = max(self.seen_total, ack["total"])
                    continue
                code = ack["error"]["code"]
                self.codes[code] += 1
                if code == "not_joined" and not await self.join(sio, gone):
                    return
                await asyncio.sleep(ack.get("retry_after") or random.uniform(0.3, 0.6))
                break
            self.wake.clear()
            if not self.pending:
                try:
                    await asyncio.wait_for(self.wake.wait(), 0.25)
                except TimeoutError:
                    pass
            else:
                await asyncio.sleep(0.05)

    async def pledge(self, until: float) -> None:
        while self.acting and time.monotonic() < until:
            await asyncio.sleep(random.uniform(1.0, 2.0))
            if self.acting and time.monotonic() < until:
                self.pending[uuid.uuid4().hex[:16]] = time.monotonic()
                self.wake.set()


async def wait_for(predicate, timeout: float, step: float = 0.1) -> float | None:
    """Seconds until ``predicate()`` held, or None after ``timeout``."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            return None
        await asyncio.sleep(step)
    return time.monotonic() - started


def run_apart(coroutine):
    """``asyncio.run`` on a thread of its own: the session's Playwright (sync API) keeps an
    event loop running on the main thread once a browser test has run."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised on the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="chaos")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def tally(store, campaign: str, people: list[Person]) -> tuple[int, set[str], set[str]]:
    """The campaign's total, what the dedupe holds for ``people`` and what they saw
    acknowledged, both as ``viewer NUL action id`` (each viewer's dedupe is its set of
    counted action ids, ``sa:c:{C}:done:V``)."""
    total = int(store.hget(f"sa:c:{{{campaign}}}:n", "total"))
    counted = {
        f"{p.viewer}\0{action}"
        for p in people
        for action in store.smembers(f"sa:c:{{{campaign}}}:done:{p.viewer}")
    }
    acked = {f"{p.viewer}\0{action}" for p in people for action in p.acked}
    return total, counted, acked


def crowd(servers, campaign: str, size: int) -> tuple[list[Person], dict]:
    """``size`` people in groups of ``GROUP`` on two processes (the even ones try the first
    process first, the odd ones the second), and each group's future session token."""
    a, b = servers
    loop = asyncio.get_running_loop()
    groups = {g: loop.create_future() for g in range(size // GROUP)}
    people = [
        Person(i, [a.url, b.url] if i % 2 == 0 else [b.url, a.url], campaign, groups)
        for i in range(size)
    ]
    return people, groups
