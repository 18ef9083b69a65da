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
from collections.abc import Callable, Mapping
from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.exceptions import NoScriptError, RedisClusterException

KEYLESS = frozenset({"publish", "ping"})


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


def moved(reply: Any) -> bool:
    """A reply saying the node is gone or no longer serves the slot."""
    if isinstance(reply, (redis.ConnectionError, redis.TimeoutError)):
        return True
    return isinstance(reply, redis.ResponseError) and str(reply).startswith(
        ("MOVED", "ASK", "CLUSTERDOWN", "TRYAGAIN")
    )


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

    def __enter__(self) -> NodePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self._calls.clear()

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        calls, self._calls = self._calls, []
        groups: dict[str, tuple[Any, list[int]]] = {}
        keyless: list[int] = []
        for n, (name, args, kwargs) in enumerate(calls):
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
        replies: list[Any] = [None] * len(calls)
        lost = False
        for node, indices in groups.values():
            indices.sort()
            for n, reply in zip(indices, self._run(node, calls, indices), strict=True):
                if moved(reply):
                    lost = True
                    reply = redis.ConnectionError(f"the cluster moved this slot ({reply})")
                replies[n] = reply
        if lost:
            with contextlib.suppress(redis.RedisError, RedisClusterException):
                self._cluster.nodes_manager.initialize()
        if raise_on_error:
            for reply in replies:
                if isinstance(reply, Exception):
                    raise reply
        return replies

    def _run(self, node: Any, calls: list[Any], indices: list[int]) -> list[Any]:
        client: redis.Redis = node.redis_connection
        try:
            replies = self._send(client, calls, indices)
            missing = [
                i
                for i, reply in zip(indices, replies, strict=True)
                if isinstance(reply, NoScriptError)
            ]
            if missing and not self._transaction:  # a node that never saw the script
                for sha in {calls[i][1][0] for i in missing}:
                    if sha in self._scripts:
                        client.script_load(self._scripts[sha])
                again = dict(zip(missing, self._send(client, calls, missing), strict=True))
                replies = [again.get(i, reply) for i, reply in zip(indices, replies, strict=True)]
            return replies
        except redis.RedisError as exc:
            return [exc] * len(indices)

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
