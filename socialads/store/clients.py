"""How a Redis URL becomes a client: one Redis (``redis://``, ``rediss://``, ``unix://``) or a
Redis Cluster (``redis+cluster://HOST:PORT[,HOST:PORT...]``, CONTRACT.md §5), so the rest of
the code asks for a client and never for a kind of Redis.

redis-py parses no URL listing several nodes, so the cluster form is ours: the nodes are
where the client starts (it learns the rest from the cluster), ``user:password@`` and the
query (``?ssl=true``) apply to every node. A ``redis+cluster://`` URL that reaches a Redis
without cluster mode is refused when the client is made, with a clear error, never at the
first command of a viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, quote, unquote, urlsplit

import redis
from redis._parsers import _RESP3Parser
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import NoPermissionError, RedisClusterException, ResponseError

from socialads.store.pipelines import Cluster

# How every Redis client of ours reads replies. With hiredis installed (a dependency), redis-py
# packs commands in C: an act's count script has ~30 keys and arguments, and packing them in
# Python was ~14% of a busy process. hiredis's reader, though, polls the socket before each
# command taken from a pool, which under gevent costs more than it saves: our clients keep
# redis-py's own reader.
READER: dict[str, Any] = {"protocol": 3, "parser_class": _RESP3Parser}

CLUSTER_SCHEME = "redis+cluster"
TLS_CLUSTER_SCHEME = "rediss+cluster"  # CONTRACT §5: the same, over TLS
# Connection options a cluster client does not take (it sets them itself, or has no use).
CLUSTER_REFUSES = frozenset({"health_check_interval", "parser_class", "db"})
TRUE = {"1", "true", "yes", "on"}
CLUSTER_OPTIONS = frozenset({"ssl"})  # what a cluster URL's query may set


class Resp3Connection(redis.Connection):
    """A connection reading replies as ``READER`` says (a cluster client takes a connection
    class, not a parser)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("protocol", READER["protocol"])
        kwargs.setdefault("parser_class", READER["parser_class"])
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]


class BadRedisURL(ValueError):
    """A Redis URL we cannot use: says what is wrong with it and how to write it."""


@dataclass(frozen=True)
class ClusterURL:
    """A parsed ``redis+cluster://`` URL."""

    nodes: list[tuple[str, int]]
    username: str | None = None
    password: str | None = None
    ssl: bool = False


def is_cluster(url: str) -> bool:
    return url.split("://", 1)[0].lower() in (CLUSTER_SCHEME, TLS_CLUSTER_SCHEME)


def parse_cluster_url(url: str) -> ClusterURL:
    parts = urlsplit(url)
    if not is_cluster(url):
        raise BadRedisURL(f"not a {CLUSTER_SCHEME}:// (or {TLS_CLUSTER_SCHEME}://) URL")
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":")
    nodes = []
    for node in hosts.split(","):
        host, _, port = node.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BadRedisURL(
                f"{CLUSTER_SCHEME}:// lists its nodes as HOST:PORT[,HOST:PORT...]; got {node!r}"
            )
        nodes.append((host.strip("[]"), int(port)))
    if parts.path not in ("", "/", "/0"):
        raise BadRedisURL("a Redis Cluster has only database 0: leave the path out")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = sorted(set(query) - CLUSTER_OPTIONS)
    if unknown:  # an option silently dropped is a setting the operator believes is on
        raise BadRedisURL(
            f"{CLUSTER_SCHEME}:// takes no option {', '.join(unknown)}: only"
            f" {', '.join(sorted(CLUSTER_OPTIONS))} (e.g. ?ssl=true)"
        )
    return ClusterURL(
        nodes,
        unquote(username) or None,
        unquote(password) or None,
        parts.scheme.lower() == TLS_CLUSTER_SCHEME or query.get("ssl", "").lower() in TRUE,
    )


def cluster_client(url: str, **options: Any) -> RedisCluster:
    """A cluster client for ``url``, after checking that it is one (``BadRedisURL`` if not).
    ``options`` are each node's connection pool's (timeouts, decoding, the pool and
    connection classes); TLS (``?ssl=true``) takes redis-py's TLS connection class."""
    parsed = parse_cluster_url(url)
    (host, port), *others = parsed.nodes
    _require_cluster_mode(host, port, parsed, url)
    # redis-py hands the pool and connection classes to the nodes only for a client made
    # from a URL: the first node's, the others as startup nodes.
    credentials = ""
    if parsed.username or parsed.password:
        user, secret = quote(parsed.username or "", safe=""), quote(parsed.password or "", safe="")
        credentials = f"{user}:{secret}@"
    if parsed.ssl:
        options.pop("connection_class", None)
    where = f"[{host}]" if ":" in host else host  # an IPv6 address
    first = f"{'rediss' if parsed.ssl else 'redis'}://{credentials}{where}:{port}/0"
    try:
        return Cluster(
            url=first,
            startup_nodes=[ClusterNode(h, p) for h, p in others],  # type: ignore[no-untyped-call]
            require_full_coverage=True,
            **options,
        )
    except RedisClusterException as exc:
        raise BadRedisURL(f"{_safe(url)}: the cluster cannot be used ({exc})") from exc


def _require_cluster_mode(host: str, port: int, parsed: ClusterURL, url: str) -> None:
    probe = redis.Redis(
        host=host,
        port=port,
        username=parsed.username,
        password=parsed.password,
        ssl=parsed.ssl,
        socket_connect_timeout=2,
        socket_timeout=2,
    )
    try:
        info = probe.info("cluster")
    except NoPermissionError:
        return  # INFO not allowed to this user: the cluster client finds out what it is
    except ResponseError as exc:
        raise BadRedisURL(f"{_safe(url)}: {exc}") from exc
    except redis.RedisError:
        return  # not reachable now: the cluster client says so, or finds the other nodes
    finally:
        probe.close()
    if not info.get("cluster_enabled"):
        raise BadRedisURL(
            f"{_safe(url)} reaches a Redis without cluster mode: use redis://{host}:{port}/0 "
            "for a single Redis, or point it at a Redis Cluster (cluster-enabled yes)"
        )


def _safe(url: str) -> str:
    """``url`` without its password, for a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def redis_client(url: str, **options: Any) -> redis.Redis:
    """A client for ``url`` with redis-py's connection ``options``, reading as ``READER``:
    for the connections of our own that are not the store's pool (the message queue's)."""
    if not is_cluster(url):
        return redis.Redis.from_url(url, **{**READER, **options})
    options = {k: v for k, v in options.items() if k not in CLUSTER_REFUSES}
    return cast(redis.Redis, cluster_client(url, connection_class=Resp3Connection, **options))


class AckReplicasError(ValueError):
    """``SOCIALADS_ACK_REPLICAS`` asks for what this Redis cannot give."""


def replicas_to_wait(client: redis.Redis, setting: int | str) -> int:
    """How many replicas an action waits for before it is acknowledged (``ACK_REPLICAS``):
    "auto" is 1 on a Redis Cluster whose every master has a replica, else 0; a number is
    checked against the replicas the Redis has now (refused at start-up if it has fewer)."""
    if isinstance(setting, str):
        if setting.strip().lower() != "auto":
            try:
                setting = int(setting)
            except ValueError:
                raise AckReplicasError(
                    f"SOCIALADS_ACK_REPLICAS is a number of replicas or 'auto', not {setting!r}"
                ) from None
        elif isinstance(client, RedisCluster):
            fewest = fewest_replicas(client)  # None (not known now): wait, as with replicas
            return min(1, 1 if fewest is None else fewest)
        else:
            return 0
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 0:
        raise AckReplicasError(f"SOCIALADS_ACK_REPLICAS must be 0 or more, not {setting!r}")
    have = fewest_replicas(client) if setting else None
    if have is not None and have < setting:
        raise AckReplicasError(
            f"SOCIALADS_ACK_REPLICAS={setting}, but a master of this Redis has {have} "
            "replica(s): every action would answer `unavailable`. Add replicas, or lower it "
            "(0: acknowledge without waiting for a replica)"
        )
    return setting


def fewest_replicas(client: redis.Redis) -> int | None:
    """The fewest replicas any master has (None: not known now). On a cluster each master
    serving slots is asked itself, and the larger of what it says counts: the replicas in
    its own view of the cluster (``CLUSTER NODES``, a failing one included: a replica down at
    start-up is still one to wait for) and the replicas connected to it now (which a fresh
    cluster's gossip may not show yet; CLUSTER SLOTS hides one that has had nothing to copy)."""
    try:
        if isinstance(client, RedisCluster):
            return min((_replicas_of(client, node) for node in client.get_primaries()), default=0)
        return int(client.info("replication").get("connected_slaves", 0))
    except (redis.RedisError, KeyError, TypeError):
        return None


def _replicas_of(client: RedisCluster, node: Any) -> int:
    connected = int(client.info("replication", target_nodes=node).get("connected_slaves", 0))
    view = client.execute_command("CLUSTER NODES", target_nodes=node)  # type: ignore[no-untyped-call]
    me = next(n["node_id"] for n in view.values() if "myself" in n["flags"])
    known = sum(1 for n in view.values() if "slave" in n["flags"] and n["master_id"] == me)
    return max(connected, known)
