"""Limits shared by every process: token buckets per viewer and per address (taken inside
Redis, with Redis's clock: buckets.lua), and the cap on an address's live connections.

The per-connection buckets and the decision of which buckets an event draws on are the
realtime layer's (``socialads.realtime.limits``); this module only keeps the counts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from socialads.store.base import Domain
from socialads.store.scripts import (
    connections_args,
    connections_keys,
    rate_limit_args,
    rate_limit_keys,
)

Rate = Sequence[float]  # (capacity: the burst, refill per second)
SharedBucket = tuple[str, str, Rate]  # ("v" viewer or "ip" address, whose, rate)


def rates_of(buckets: Sequence[SharedBucket]) -> list[float]:
    """The scripts' (capacity, refill) pairs of ``buckets``, flat."""
    return [number for _, _, rate in buckets for number in rate]


def shared_among(buckets: Sequence[SharedBucket], count: int) -> list[SharedBucket]:
    """An address's buckets as each of ``count`` parts keeps them: its viewers count in every
    part, so each part allows its share of the rate (a viewer's own bucket is in their part,
    whole)."""
    return [
        (scope, whose, (max(1.0, rate[0] / count), rate[1] / count) if scope == "ip" else rate)
        for scope, whose, rate in buckets
    ]


class Limits(Domain):
    """Token buckets and connection caps."""

    def take_tokens(self, cid: str, event: str, buckets: Sequence[SharedBucket]) -> float:
        """Take one token from each bucket of a campaign's ``event`` (``buckets``: (``"v"``
        or ``"ip"``, whose, (capacity, refill per second))), or from none: returns 0, or the
        seconds to wait until all of them can give one."""
        key = self.keys.campaign(cid)
        return self._take(
            [key.bucket(scope, whose, event) for scope, whose, _ in buckets], rates_of(buckets)
        )

    def take_connect_token(self, ip: str, rate: Rate) -> float:
        """The address's connect bucket: 0, or the seconds to wait."""
        return self._take([self.keys.connect_bucket(ip)], list(rate))

    def _take(self, buckets: list[str], rates: list[float]) -> float:
        wait = self.scripts.rate_limit(
            rate_limit_keys(buckets=buckets), rate_limit_args(rates=rates)
        )
        return int(wait) / 1000

    def admit_connection(self, ip: str, sid: str, ttl: float, cap: int) -> bool:
        """Count a connection from ``ip`` unless it already has ``cap`` live ones."""
        now = time.time()
        return bool(
            self.scripts.connections(
                connections_keys(connections=self.keys.connections(ip)),
                connections_args(now=now, connection=sid, expires=now + ttl, cap=cap),
            )
        )

    def release_connection(self, ip: str, sid: str) -> None:
        self.redis.zrem(self.keys.connections(ip), sid)

    def refresh_connections(self, by_ip: dict[str, list[str]], ttl: float) -> None:
        """Heartbeat: push forward the expiry of this process's connections (writing them
        again, so counts lost with a Redis restart come back)."""
        expires = time.time() + ttl
        pipe = self.redis.pipeline(transaction=False)
        for ip, sids in by_ip.items():
            key = self.keys.connections(ip)
            pipe.zadd(key, dict.fromkeys(sids, expires))
            pipe.expireat(key, int(expires) + 1)
        pipe.execute()
