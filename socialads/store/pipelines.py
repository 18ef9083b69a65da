"""Pipelines on a Redis Cluster that do what they do on one Redis.

redis-py's cluster pipeline refuses what the store pipelines most: a Lua script (EVALSHA) and
PUBLISH, and its transactions refuse keys of two slots. `NodePipeline` queues commands as
any pipeline does and sends them, at `execute`, as one plain redis-py pipeline per master
(each command to the master of its key's slot; a command with no key, PUBLISH, to the
first), the replies back in the order the commands were queued. A transaction stays one
MULTI/EXEC per node: atomic when every key shares one slot (a campaign's keys share its hash
tag), which is what the store asks a transaction for (``Domain.transaction``).

A master that fails, or a slot that moved in a failover, answers its own commands with a
`redis.ConnectionError` (the caller's viewers are told `unavailable` and re-send; the counts
are deduplicated), and the client learns the cluster's shape again.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.exceptions import (
    AskError,
    ClusterDownError,
    NoScriptError,
    RedisClusterException,
    SlotNotCoveredError,
    TryAgainError,
)

KEYLESS = frozenset({"publish", "ping"})


def unconfirmed(reply: Any, confirmed: Any) -> Any:
    """A reply whose write the replicas did not confirm (WAIT answered ``confirmed``, too few
    or an error): not an answer to give (the master may die with it); an error instead, so
    the caller answers `unavailable` and the client re-sends (deduplicated)."""
    if isinstance(reply, Exception):
        return reply
    return redis.ConnectionError(f"not confirmed by the replicas in time (WAIT: {confirmed})")


def key_of(name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    """The key a command is routed by (None: any node)."""
    if name == "execute_command" and args:  # ("MGET", key, ...) as redis-py's helpers send it
        name, args = str(args[0]).lower(), args[1:]
    if name in KEYLESS:
        return None
    if name in ("evalsha", "eval"):
        return args[2] if len(args) > 2 and int(args[1]) > 0 else None
    if args:
        first = args[0]
        return first[0] if isinstance(first, (list, tuple)) and first else first
    return kwargs.get("name") or kwargs.get("key")


# Replies saying the node is gone or no longer serves the slot (redis-py's parser makes
# MOVED, ASK, TRYAGAIN and CLUSTERDOWN these classes, the code cut from the message).
MOVED = (
    redis.ConnectionError,
    redis.TimeoutError,
    AskError,  # and MovedError
    TryAgainError,
    ClusterDownError,
    SlotNotCoveredError,
)


def moved(reply: Any) -> bool:
    return isinstance(reply, MOVED)


class NodePipeline:
    """Queue commands as on ``redis.Redis.pipeline()``; `execute` sends them per node."""

    def __init__(self, cluster: RedisCluster, transaction: bool, scripts: Mapping[str, Any]):
        self._cluster = cluster
        self._transaction = transaction
        self._scripts = scripts  # sha -> text, to load a script a (promoted) node lacks
        self._calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Callable[..., NodePipeline]:
        if name.startswith("_"):
            raise AttributeError(name)

        def queue(*args: Any, **kwargs: Any) -> NodePipeline:
            self._calls.append((name, args, kwargs))
            return self

        return queue

    def __len__(self) -> int:
        return len(self._calls)

    def __bool__(self) -> bool:  # as redis-py's: a pipeline is true even when empty
        return True

    def reset(self) -> None:
        self._calls.clear()

    def watch(self, *names: Any) -> None:
        raise NotImplementedError("WATCH on a cluster: use a script on one slot instead")

    multi = unwatch = watch

    def __enter__(self) -> NodePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self._calls.clear()

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        calls, self._calls = self._calls, []
        groups: dict[str, tuple[Any, list[int]]] = {}
        keyless: list[int] = []
        waits = [n for n, (name, _, _) in enumerate(calls) if name == "wait"]
        try:
            for n, (name, args, kwargs) in enumerate(calls):
                if name == "wait":
                    continue  # on every node, after its own commands (see _run)
                key = key_of(name, args, kwargs)
                if key is None:
                    keyless.append(n)
                    continue
                node = self._cluster.get_node_from_key(key)  # type: ignore[no-untyped-call]
                groups.setdefault(node.name, (node, []))[1].append(n)
            if keyless:
                if groups:
                    next(iter(groups.values()))[1].extend(keyless)
                else:
                    node = self._cluster.get_random_node()  # type: ignore[no-untyped-call]
                    groups[node.name] = (node, keyless)
        except RedisClusterException as exc:  # a slot with no master now: a failover
            raise redis.ConnectionError(f"the cluster has no master for a slot ({exc})") from exc
        replies: list[Any] = [None] * len(calls)
        failed: list[str] = []
        confirmed: list[Any] = []
        if waits and self._transaction:  # inside MULTI, WAIT answers at once: it proves nothing
            raise ValueError("WAIT in a transaction confirms nothing: use a plain pipeline")
        for (node, indices), answers in self._run_all(calls, list(groups.values()), waits[:1]):
            waited = answers.pop() if waits else None
            if any(moved(reply) for reply in answers) or moved(waited):
                failed.append(node.name)
            answers = [
                redis.ConnectionError(f"the cluster moved this slot ({reply})")
                if moved(reply)
                else reply
                for reply in answers
            ]
            if waits:  # one WAIT per node: its commands count once its replicas have them
                confirmed.append(waited)
                if not isinstance(waited, int) or waited < calls[waits[0]][1][0]:
                    answers = [unconfirmed(reply, waited) for reply in answers]
            for n, reply in zip(indices, answers, strict=True):
                replies[n] = reply
        for n in waits:  # the fewest replicas any node confirmed
            counts = [c for c in confirmed if isinstance(c, int)]
            replies[n] = min(counts) if len(counts) == len(confirmed) and counts else 0
        if failed:
            with contextlib.suppress(redis.RedisError, RedisClusterException):
                self._cluster.nodes_manager.initialize(last_failed_node_name=failed[0])
        if raise_on_error:
            for reply in replies:
                if isinstance(reply, Exception):
                    raise reply
        return replies

    def _run_all(
        self, calls: list[Any], groups: list[tuple[Any, list[int]]], wait: list[int]
    ) -> list[tuple[tuple[Any, list[int]], list[Any]]]:
        """Each node's pipeline, all at once (a node that hangs or times out delays no other
        node's commands): a thread (a greenlet under gevent) per node after the first."""
        for _, indices in groups:
            indices.sort()
        answers: list[list[Any]] = [[] for _ in groups]

        def run(n: int) -> None:
            node, indices = groups[n]
            try:
                answers[n] = self._run(node, calls, indices, wait)
            except Exception as exc:  # noqa: BLE001 - answered, never lost on a thread
                failure = redis.ConnectionError(f"the pipeline to {node.name} failed ({exc!r})")
                answers[n] = [failure] * (len(indices) + len(wait))

        others = [threading.Thread(target=run, args=(n,)) for n in range(1, len(groups))]
        for thread in others:
            thread.start()
        if groups:
            run(0)
        for thread in others:
            thread.join()
        return list(zip(groups, answers, strict=True))

    def _run(self, node: Any, calls: list[Any], indices: list[int], wait: list[int]) -> list[Any]:
        """The replies of ``indices`` on ``node``, then (with a ``wait``) the fewest
        replicas its WAITs confirmed."""
        client: redis.Redis = self._cluster.get_redis_connection(node)
        try:
            replies = self._send(client, calls, indices + wait)
            waited = [replies.pop()] if wait else []
            missing = [
                i
                for i, reply in zip(indices, replies, strict=True)
                if isinstance(reply, NoScriptError)
            ]
            if missing and not self._transaction:  # a node that never saw the script
                for sha in {calls[i][1][0] for i in missing}:
                    if sha in self._scripts:
                        client.script_load(self._scripts[sha])
                retried = self._send(client, calls, missing + wait)
                if wait:  # its own WAIT covers the writes sent again
                    waited.append(retried.pop())
                again = dict(zip(missing, retried, strict=True))
                replies = [again.get(i, reply) for i, reply in zip(indices, replies, strict=True)]
            if waited:  # the fewest confirmed, or the first failure to confirm
                counts = [w for w in waited if isinstance(w, int)]
                failures = [w for w in waited if not isinstance(w, int)]
                replies.append(failures[0] if failures else min(counts))
            return replies
        except redis.RedisError as exc:
            return [exc] * (len(indices) + len(wait))

    def _send(self, client: redis.Redis, calls: list[Any], indices: list[int]) -> list[Any]:
        pipe = client.pipeline(transaction=self._transaction)
        for i in indices:
            name, args, kwargs = calls[i]
            getattr(pipe, name)(*args, **kwargs)
        return pipe.execute(raise_on_error=False)


class Cluster(RedisCluster):
    """redis-py's cluster client, with the store's pipelines (`NodePipeline`) and a
    multi-key read across slots (MGET, split per slot as redis-py's ``mget_nonatomic``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.script_texts: dict[str, Any] = {}  # sha -> text of every registered script

    def register_script(self, script: Any) -> Any:
        registered = super().register_script(script)
        self.script_texts[registered.sha] = registered.script
        return registered

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> Any:
        return NodePipeline(self, bool(transaction), self.script_texts)

    def mget(self, keys: Any, *args: Any) -> Any:
        return self.mget_nonatomic(keys, *args)

    def pubsub(self, node: Any = None, host: Any = None, port: Any = None, **kwargs: Any) -> Any:
        """Classic pub/sub reaches every node of a cluster: listen on a node picked at random,
        again at each reconnect, so the processes do not all go deaf with one master."""
        if node is None and host is None:
            node = random.choice(self.get_nodes())  # type: ignore[no-untyped-call]  # noqa: S311 - a spread, not a secret
        return super().pubsub(node=node, host=host, port=port, **kwargs)  # type: ignore[no-untyped-call]

    def publish(self, channel: Any, message: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("target_nodes", self.get_random_node())  # type: ignore[no-untyped-call]
        return super().publish(channel, message, **kwargs)
