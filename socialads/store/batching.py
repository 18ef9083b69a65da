"""Group commit for the count script: the actions that arrive while one round trip to Redis is
in flight go together in the next one.

Each action still runs its own script, atomically and deduplicated by its id, so what is
counted does not change; only how many round trips carry it. A process answering a burst
spent most of its CPU on one round trip per action (the socket calls, the connection pool's
checks, the waits): py-spy put ~35% of an ``act`` there. Batching costs an idle process
nothing: an action that finds nothing in flight goes at once, alone.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from typing import Any

import redis
from redis.commands.core import Script
from redis.exceptions import NoScriptError

from socialads.store.pipelines import NodePipeline, unconfirmed

MAX_BATCH = 256  # scripts per round trip: Redis runs them one after another, ~20 µs each
IDLE_EXIT = 60  # seconds without work before the sender ends (the next call starts another)


class _Pending:
    __slots__ = ("keys", "args", "done", "result", "error")

    def __init__(self, keys: Sequence[Any], args: Sequence[Any]):
        self.keys, self.args = keys, args
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class BatchedScript:
    """Call it as the `Script` it wraps: ``script(keys=[...], args=[...])``. A thread (a
    greenlet under gevent) sends whatever is queued as one pipeline of EVALSHAs."""

    def __init__(
        self,
        client: redis.Redis,
        script: Script,
        wait: float = 30,
        replicas: int = 0,
        wait_ms: int = 500,
    ):
        self.client = client
        self.replicas = replicas  # acknowledged once this many replicas have the writes
        self.wait_ms = wait_ms
        self.inner = script
        self.script = script.script  # its text, as on a Script
        self.wait = wait  # longer than the pool's and the socket's timeouts: they answer first
        self.queue: deque[_Pending] = deque()
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.worker: threading.Thread | None = None
        self.round_trips = 0  # pipelines sent, for tests and profiling

    def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        item = _Pending(keys, args)
        with self.lock:
            self.queue.append(item)
            if self.worker is None or not self.worker.is_alive():
                self.worker = threading.Thread(
                    target=self._forever, daemon=True, name="socialads-count"
                )
                self.worker.start()
        self.ready.set()
        if not item.done.wait(self.wait):
            with self.lock:
                if item in self.queue:  # not sent: it never will be, the caller has gone
                    self.queue.remove(item)
            raise redis.TimeoutError("the count script did not answer in time")
        if item.error is not None:
            raise item.error
        return item.result

    def _forever(self) -> None:
        while True:
            woken = self.ready.wait(IDLE_EXIT)
            with self.lock:
                if not woken and not self.queue:
                    self.worker = None  # a Store dropped (tests make many) leaves no thread
                    return
                batch = [self.queue.popleft() for _ in range(min(MAX_BATCH, len(self.queue)))]
                if not self.queue:
                    self.ready.clear()
            if batch:
                self._send(batch)

    def _send(self, batch: list[_Pending]) -> None:
        try:
            self._answer(batch, self._pipeline(batch))
            missing = [item for item in batch if isinstance(item.error, NoScriptError)]
            if missing:  # Redis restarted or was flushed: load the script, run those again
                for item in missing:
                    item.error = None
                self.client.script_load(self.script)
                self._answer(missing, self._pipeline(missing))
        except Exception as exc:  # noqa: BLE001 - its callers get it, the sender goes on
            for item in batch:  # those already answered keep their answer
                if item.result is None and item.error is None:
                    item.error = exc
        finally:
            for item in batch:
                if item.result is None and item.error is None:  # the sender itself was stopped
                    item.error = redis.ConnectionError("the count script's sender stopped")
                item.done.set()

    @staticmethod
    def _answer(batch: list[_Pending], results: list[Any]) -> None:
        for item, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                item.error = result
            else:
                item.result = result

    def _pipeline(self, batch: list[_Pending]) -> list[Any]:
        self.round_trips += 1
        pipe = self.client.pipeline(transaction=False)
        for item in batch:
            pipe.evalsha(self.inner.sha, len(item.keys), *item.keys, *item.args)
        if not self.replicas:
            return pipe.execute(raise_on_error=False)
        # WAIT in the same round trip: the answers count only once the replicas have the
        # writes (on a cluster, `NodePipeline` waits on each master for its own commands).
        pipe.wait(self.replicas, self.wait_ms)
        *replies, confirmed = pipe.execute(raise_on_error=False)
        if isinstance(pipe, NodePipeline) or (
            isinstance(confirmed, int) and confirmed >= self.replicas
        ):
            return replies
        return [unconfirmed(reply, confirmed) for reply in replies]
