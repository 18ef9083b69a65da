"""Abuse limits shared by every process, in Redis.

Each connection has its own in-process token buckets (``socialads.realtime.guards``, which
asks this module for the shared ones in its order of checks); a flood can also come
from one person over many tabs, or from one address over many made-up viewer ids, spread over
several processes. So ``act``, ``say`` and ``join`` also take a token from the viewer's and
the address's bucket of the campaign (one Lua script, clocked by Redis ``TIME``), a connect
takes one from the address's connect bucket, and an address may hold at most
``CONNECTIONS_PER_IP`` live Socket.IO connections. Those are counted in a sorted set with
expiries that the heartbeat of the owning process pushes forward, so a process that died
stops counting within ``PRESENCE_TTL + HEARTBEAT_INTERVAL``.

The address is ``request.remote_addr`` (behind ``TRUSTED_PROXIES`` reverse proxies,
werkzeug's ``ProxyFix`` takes it from ``X-Forwarded-For``). Per-address numbers are generous:
a whole office shares one address behind its NAT. A limit set to ``null`` is off.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from redis.exceptions import RedisError

from socialads.domain.errors import Problem
from socialads.protocol import ErrorCode
from socialads.store import Store

log = logging.getLogger(__name__)


def address_key(ip: str | None) -> str:
    """Whose bucket an address fills: an IPv4 address itself (also when written as IPv6,
    ``::ffff:a.b.c.d``), and for IPv6 its /64, which one subscriber gets whole (otherwise one
    home could take 2^64 fresh addresses)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return ip or "unknown"
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


# One shared bucket an event draws on: whose ("v" a viewer, "ip" an address), who, and its
# (capacity, refill per second).
SharedBucket = tuple[str, str, tuple[float, float]]

TOO_MANY = "Too many requests; try again shortly."


def rate_limited(wait: float, message: str = TOO_MANY) -> Problem:
    """``rate_limited``, to retry after ``wait`` seconds (at least 0.01)."""
    return Problem(ErrorCode.RATE_LIMITED, message, 429, retry_after=round(max(wait, 0.01), 2))


class SharedLimits:
    """The buckets and caps every process shares, for this process's connections."""

    def __init__(self, store: Store, config: Mapping[str, Any]):
        self.store = store
        self.config = config
        self.lock = threading.Lock()
        self.peers: dict[str, str] = {}  # sid -> address, of this process's connections

    def take(self, event: str, cid: str, viewer: str, sid: str) -> None:
        """One ``event`` (say, join) of ``viewer`` in campaign ``cid``; raises
        ``rate_limited`` when the viewer's or the address's bucket is empty. (``act`` takes
        its tokens inside the counting script: see `buckets`.)"""
        buckets = self.buckets(event, viewer, sid)
        if buckets:
            wait = self.store.take_tokens(cid, event, buckets)
            if wait:
                raise rate_limited(wait)

    def buckets(self, event: str, viewer: str, sid: str) -> list[SharedBucket]:
        """The shared buckets one ``event`` of ``viewer`` on connection ``sid`` draws on."""
        buckets: list[SharedBucket] = []
        viewer_rate = self.config.get(f"VIEWER_{event.upper()}_RATE")
        if viewer_rate:
            buckets.append(("v", viewer, viewer_rate))
        ip = self.peers.get(sid)
        ip_rate = self.config.get(f"IP_{event.upper()}_RATE")
        if ip_rate and ip:
            buckets.append(("ip", ip, ip_rate))
        return buckets

    def connect(self, sid: str, ip: str | None) -> None:
        """Admit a new connection from ``ip``, or raise ``rate_limited`` (too many connects
        lately, or too many live connections). While Redis is down a connect is let in: it
        cannot be counted, and every event it sends answers ``unavailable`` anyway."""
        ip = address_key(ip)
        try:
            rate = self.config.get("IP_CONNECT_RATE")
            wait = self.store.take_connect_token(ip, rate) if rate else 0
            if wait:
                raise rate_limited(wait, "Too many connections lately from your address.")
            cap = self.config.get("CONNECTIONS_PER_IP")
            if cap and not self.store.admit_connection(ip, sid, self.config["PRESENCE_TTL"], cap):
                wait = self.config["HEARTBEAT_INTERVAL"]
                raise rate_limited(wait, "Too many open connections from your address.")
        except RedisError:
            log.warning("Redis unavailable: a connection from %s is let in uncounted", ip)
        with self.lock:
            self.peers[sid] = ip

    def release(self, sid: str) -> None:
        with self.lock:
            ip = self.peers.pop(sid, None)
        if ip is not None and self.config.get("CONNECTIONS_PER_IP"):
            self.store.release_connection(ip, sid)

    def refresh(self) -> None:
        """Heartbeat: keep this process's connections counted."""
        if not self.config.get("CONNECTIONS_PER_IP"):
            return
        by_ip: dict[str, list[str]] = defaultdict(list)
        with self.lock:
            for sid, ip in self.peers.items():
                by_ip[ip].append(sid)
        if by_ip:
            self.store.refresh_connections(by_ip, self.config["PRESENCE_TTL"])
