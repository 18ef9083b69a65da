"""Everything socialads keeps, in Redis, behind domain words.

This module alone knows the key layout and the Lua scripts; the rest of the code calls
`record_action`, `join_session`, `post_message` and friends. Keys of one campaign share
the hash tag ``{<campaign id>}`` so a Redis Cluster keeps them in one slot and the Lua
scripts (which touch several of them) stay legal there.

Key layout (``sa`` is ``KEY_PREFIX``)::

    sa:brand:{B}                hash    name, created_at
    sa:brand:{B}:campaigns      zset    campaign id -> created_at
    sa:brand:{B}:tokens         set     sha256 of each API token of brand B
    sa:brands                   zset    brand id -> created_at
    sa:brand:{B}:users          set     emails of brand B's users
    sa:user:{EMAIL}             hash    email, brand_id, role (owner|member|superuser),
                                        password_hash, created_at
    sa:login-fail:{EMAIL}       string  failed logins for an account in the current window
    sa:login-fail-ip:{IP}       string  failed logins from an address in the current window
    sa:ip:{IP}:conns            zset    Socket.IO connection id -> heartbeat expiry: the live
                                        connections from an address (socialads.realtime.limits)
    sa:ip:{IP}:connect          hash    token bucket {tokens, stamp} of an address's connects
    sa:brand:{B}:people         hash    person id -> JSON {id, name, role, photo_url, bio}: the
                                        named people who speak for brand B
    sa:token:SHA256             string  brand id (tokens are stored hashed, never in clear)
    sa:c:{C}                    string  campaign JSON (definition only, no counters)
    sa:c:{C}:n                  hash    counters: total, actions, impressions, sessions,
                                        invite_joins, messages, brand_replies, matched
                                        and for the analytics (socialads.domain.analytics): joins,
                                        invites_opened, invited_sessions, seed_sessions,
                                        friends_acted, cycle_seconds, cycle_joins
    sa:c:{C}:viewers            HLL     distinct viewer ids that joined
    sa:c:{C}:engaged            HLL     distinct viewer ids that acted or chatted
    sa:c:{C}:friends            hash    viewer -> 0, or 1 once they acted: the viewers who
                                        arrived through an invite
    sa:c:{C}:o:F                hash    publisher origin -> count of F (impressions, joins,
                                        actions)
    sa:c:{C}:t:M                hash    impressions, joins, actions in minute M (Unix time //
                                        60); expires after 8 days
    sa:c:{C}:done               set     "viewer NUL action id" of every counted action (dedupe)
    sa:c:{C}:pv                 hash    viewer -> actions counted (per-viewer caps)
    sa:c:{C}:state              hash    activity state counters (e.g. votes per option)
    sa:c:{C}:mine:V             hash    viewer V's one-time choices: once key -> choice
    sa:c:{C}:last               hash    viewer -> time of their last counted action (ms), for
                                        activities with a cooldown
    sa:c:{C}:board              zset    session token -> session total (the leaderboard)
    sa:c:{C}:ledger             list    the public match ledger, newest first: JSON {name,
                                        amount, people, at} of each group match unlocked
    sa:c:{C}:live               zset    connection id -> heartbeat expiry (live viewers)
    sa:c:{C}:rl:v:V:E           hash    token bucket {tokens, stamp} of viewer V's events E
                                        (act, say, join) in the campaign (socialads.realtime.limits)
    sa:c:{C}:rl:ip:IP:E         hash    the same per address IP
    sa:c:{C}:s:T                hash    session T: created_at, leader, name, total, msg_seq,
                                        waiting_since (see :replies), opens (of its invite),
                                        closed (JSON record, once the brand closed it),
                                        overflow (the group's next room when this one is full),
                                        people (who acted) and matched (group match unlocked)
    sa:c:{C}:s:T:a              set     viewers who acted in session T (group match only)
    sa:c:{C}:s:T:p              zset    connection id -> heartbeat expiry (presence)
    sa:c:{C}:s:T:m              hash    connection id -> member JSON {viewer, id, name, t}
    sa:c:{C}:s:T:v              set     viewers that ever joined session T
    sa:c:{C}:s:T:chat           list    the latest messages as JSON
    sa:c:{C}:s:T:sent           hash    "viewer NUL client message id" -> message JSON
    sa:c:{C}:s:T:hidden         hash    message id -> JSON of a hidden message without its
                                        text: {id, ts, author, hidden: {at, reason, by}}
    sa:c:{C}:talk               zset    session token -> ms of its latest message: the sessions
                                        with a conversation, latest first
    sa:c:{C}:replies            list    seconds a session waited for a brand reply, counted
                                        from its oldest unanswered viewer message (session
                                        field ``waiting_since``); newest first, last 1000
    sa:c:{C}:reply_median       string  median of that list, updated with each reply
    sa:c:{C}:blocked            hash    member id -> JSON {at, reason, by, name}: viewers blocked
                                        from the campaign
    sa:c:{C}:modlog             list    moderation log, newest first: JSON {at, action, reason,
                                        by, message?, user}; public, so never a hidden text
    sa:session:T                string  campaign id of session T (outlives the session so an
                                        expired invite can still offer its campaign)

Channel ``sa:events`` carries JSON between processes: ``{"k": "p", c, s, t, st}`` new
totals after an action, ``{"k": "c", c}`` a campaign definition changed, ``{"k": "b", c, m,
reason}`` a viewer (member id ``m``) was blocked from a campaign, ``{"k": "x", c, s,
reason}`` the brand closed session ``s``, ``{"k": "ping", n}`` a
liveness nonce (also sent on the Socket.IO channel; see ``socialads.realtime.liveness``).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from importlib.resources import files

import orjson
import redis
from redis._parsers import _RESP3Parser

from socialads.activities import Match
from socialads.domain.analytics import (
    DIRECT,
    ORIGIN_FIELDS,
    SERIES_FIELDS,
    SERIES_TTL,
    derived,
    minute_of,
)
from socialads.store.batching import BatchedScript

# Most page views start a session nobody else ever joins: those expire after a week. Once a
# friend joins, a session is kept for a month and its invite link remembers the campaign for
# a year.
SOLO_SESSION_TTL = 7 * 24 * 3600
SESSION_TTL = 30 * 24 * 3600
REPLIES_KEPT = 1000  # reply latencies kept per campaign for the median
MODERATION_SHOWN = 500  # moderation log entries returned at once (all are kept)
INVITE_LOOKUP_TTL = 365 * 24 * 3600
COUNTER_FIELDS = ("total", "actions", "impressions", "sessions", "invite_joins", "messages")
SESSION_PROGRESS = ("total", "people", "matched")
# How every Redis client of ours reads replies. With hiredis installed (a dependency), redis-py
# packs commands in C: an act's count script has ~30 keys and arguments, and packing them in
# Python was ~14% of a busy process. hiredis's reader, though, polls the socket before each
# command taken from a pool, which under gevent costs more than it saves: our clients keep
# redis-py's own reader.
READER = {"protocol": 3, "parser_class": _RESP3Parser}
POOL_SIZE = 200  # Redis connections per process  # what a session's viewers see of it
LEDGER_KEPT = 10_000  # public match ledger entries kept per campaign (record_action.lua)


def new_id(prefix: str) -> str:
    """A short, unguessable, URL-safe id such as ``c_k3j9x2m4q8``."""
    alphabet = "abcdefghijkmnopqrstuvwxyz23456789"
    return prefix + "_" + "".join(secrets.choice(alphabet) for _ in range(12))


def new_session_token() -> str:
    """128 random bits: an invite link must not be guessable."""
    return secrets.token_urlsafe(16)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionClosed(Exception):
    """The brand closed this session: nothing more is counted or said in it."""


class RoomFull(Exception):
    """A session holds as many people as its campaign allows; ``name`` is its group name."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


@dataclass(frozen=True)
class ActionResult:
    status: int  # 1 counted, 0 duplicate, -1 per-viewer cap, -2 already chosen, -3 cooling down,
    # -4 the session was closed
    total: int
    session_total: int
    wait: float = 0  # seconds left of a cooldown (status -3)
    matched: int = 0  # what this action's group unlocked from the brand's match pool


@dataclass(frozen=True)
class SessionSnapshot:
    total: int
    session_total: int
    state: dict[str, int]
    members: list[dict]
    messages: list[dict]
    session: dict[str, int]  # SESSION_PROGRESS of the session
    name: str  # the group's name


def _members(raws: list) -> list[dict]:
    """Member entries, one per viewer (a viewer may have several tabs), in joining order."""
    by_viewer: dict[str, dict] = {}
    for raw in raws:
        if raw:
            member = orjson.loads(raw)
            by_viewer.setdefault(member["viewer"], member)
    return sorted(by_viewer.values(), key=lambda m: m["t"])


class Store:
    """Domain operations over one Redis connection pool."""

    def __init__(self, url: str, prefix: str = "sa", chat_keep: int = 200):
        self.url = url
        self.prefix = prefix
        self.chat_keep = chat_keep
        # A blocking pool: a burst of more concurrent commands than connections waits a moment
        # for one (a plain pool would fail them at once, and the viewers would see
        # `unavailable` for nothing).
        self.redis = redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=5, decode_responses=True, socket_timeout=5,
            socket_connect_timeout=2, health_check_interval=30, **READER))
        self.events_channel = f"{prefix}:events"
        lua = files("socialads.store").joinpath("lua")
        buckets = lua.joinpath("buckets.lua").read_text()  # a library for the scripts below
        # Many actions per round trip under load (see batching.py), one alone when idle.
        self._record_action = BatchedScript(self.redis, self.redis.register_script(
            buckets + lua.joinpath("record_action.lua").read_text()
        ))
        self._post_message = self.redis.register_script(
            lua.joinpath("post_message.lua").read_text()
        )
        self._presence = self.redis.register_script(lua.joinpath("presence.lua").read_text())
        self._seat = self.redis.register_script(lua.joinpath("seat.lua").read_text())
        self._brand_reply = self.redis.register_script(
            lua.joinpath("brand_reply.lua").read_text()
        )
        self._invite_opened = self.redis.register_script(
            lua.joinpath("invite_opened.lua").read_text()
        )
        self._rate_limit = self.redis.register_script(
            buckets + lua.joinpath("rate_limit.lua").read_text())
        self._connections = self.redis.register_script(
            lua.joinpath("connections.lua").read_text()
        )

    def listener_connection(self) -> redis.Redis:
        """A connection for pub/sub: it must block forever, so no socket timeout. Messages stay
        bytes (JSON parses them as they are): a message that is not UTF-8 must not stop it."""
        return redis.Redis.from_url(
            self.url, decode_responses=False, socket_timeout=None, socket_connect_timeout=2,
            socket_keepalive=True, health_check_interval=0, **READER,
        )

    # -- keys -----------------------------------------------------------------------------

    def _brand(self, brand_id: str) -> str:
        return f"{self.prefix}:brand:{{{brand_id}}}"

    def _campaign(self, cid: str) -> str:
        return f"{self.prefix}:c:{{{cid}}}"

    def _session(self, cid: str, token: str) -> str:
        return f"{self._campaign(cid)}:s:{token}"

    def ping(self) -> bool:
        return bool(self.redis.ping())

    # -- brands, users, tokens ------------------------------------------------------------

    def create_brand(self, name: str) -> str:
        brand_id = new_id("b")
        now = time.time()
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self._brand(brand_id), mapping={"name": name, "created_at": now})
        pipe.zadd(f"{self.prefix}:brands", {brand_id: now})
        pipe.execute()
        return brand_id

    def list_brands(self) -> list[dict]:
        ids = self.redis.zrange(f"{self.prefix}:brands", 0, -1)
        pipe = self.redis.pipeline(transaction=False)
        for brand_id in ids:
            pipe.hgetall(self._brand(brand_id))
        return [{"id": brand_id, **data} for brand_id, data in zip(ids, pipe.execute(), strict=True)
                if data]

    def get_brand(self, brand_id: str) -> dict | None:
        data = self.redis.hgetall(self._brand(brand_id))
        return {"id": brand_id, **data} if data else None

    def create_user(self, email: str, brand_id: str, password_hash: str, role: str) -> bool:
        """Create a user unless the email is taken; returns whether it was created."""
        key = f"{self.prefix}:user:{{{email.lower()}}}"
        created = self.redis.hsetnx(key, "email", email.lower())
        if created:
            self.redis.hset(key, mapping={
                "brand_id": brand_id, "role": role, "password_hash": password_hash,
                "created_at": time.time(),
            })
            if brand_id:
                self.redis.sadd(f"{self._brand(brand_id)}:users", email.lower())
        return bool(created)

    def get_user(self, email: str) -> dict | None:
        return self.redis.hgetall(f"{self.prefix}:user:{{{email.lower()}}}") or None

    def update_password(self, email: str, password_hash: str) -> None:
        self.redis.hset(f"{self.prefix}:user:{{{email.lower()}}}", "password_hash", password_hash)

    def brand_users(self, brand_id: str) -> list[dict]:
        emails = sorted(self.redis.smembers(f"{self._brand(brand_id)}:users"))
        return [user for user in map(self.get_user, emails) if user]

    def login_failures(self, email: str, ip: str) -> int:
        """The larger of the account's and the address's failed logins in this window."""
        counts = self.redis.mget(f"{self.prefix}:login-fail:{{{email.lower()}}}",
                                 f"{self.prefix}:login-fail-ip:{{{ip}}}")
        return max(int(count or 0) for count in counts)

    def count_login_failure(self, email: str, ip: str, window: int) -> None:
        for key in (f"{self.prefix}:login-fail:{{{email.lower()}}}",
                    f"{self.prefix}:login-fail-ip:{{{ip}}}"):
            if self.redis.incr(key) == 1:  # the window starts at the first failure
                self.redis.expire(key, window)

    def clear_login_failures(self, email: str) -> None:
        self.redis.delete(f"{self.prefix}:login-fail:{{{email.lower()}}}")

    def create_api_token(self, brand_id: str) -> str:
        token = "sat_" + secrets.token_urlsafe(32)
        digest = hash_token(token)
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(f"{self.prefix}:token:{digest}", brand_id)
        pipe.sadd(f"{self._brand(brand_id)}:tokens", digest)
        pipe.execute()
        return token

    def brand_for_token(self, token: str) -> str | None:
        return self.redis.get(f"{self.prefix}:token:{hash_token(token)}")

    # -- brand people ---------------------------------------------------------------------

    def save_person(self, brand_id: str, person: dict) -> None:
        self.redis.hset(f"{self._brand(brand_id)}:people", person["id"], orjson.dumps(person))

    def brand_people(self, brand_id: str) -> list[dict]:
        people = [orjson.loads(raw) for raw in
                  self.redis.hvals(f"{self._brand(brand_id)}:people")]
        return sorted(people, key=lambda p: p["name"].lower())

    def get_person(self, brand_id: str, person_id: str) -> dict | None:
        raw = self.redis.hget(f"{self._brand(brand_id)}:people", person_id)
        return orjson.loads(raw) if raw else None

    def delete_person(self, brand_id: str, person_id: str) -> None:
        self.redis.hdel(f"{self._brand(brand_id)}:people", person_id)

    def people_by_ids(self, brand_id: str, person_ids: list[str]) -> list[dict]:
        """The brand's people with these ids, in that order; ids no longer on the roster are
        skipped."""
        if not person_ids:
            return []
        raws = self.redis.hmget(f"{self._brand(brand_id)}:people", person_ids)
        return [orjson.loads(raw) for raw in raws if raw]

    # -- campaigns ------------------------------------------------------------------------

    def save_campaign(self, campaign: dict, *, new: bool = False) -> None:
        cid, brand_id = campaign["id"], campaign["brand_id"]
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self._campaign(cid), orjson.dumps(campaign))
        if new:
            pipe.zadd(f"{self._brand(brand_id)}:campaigns", {cid: campaign["created_at"]})
        pipe.publish(self.events_channel, orjson.dumps({"k": "c", "c": cid}))
        pipe.execute()

    def get_campaign(self, cid: str) -> dict | None:
        raw = self.redis.get(self._campaign(cid))
        return orjson.loads(raw) if raw else None

    def brand_campaigns(self, brand_id: str) -> list[dict]:
        ids = self.redis.zrange(f"{self._brand(brand_id)}:campaigns", 0, -1)
        if not ids:
            return []
        raws = self.redis.mget([self._campaign(cid) for cid in ids])
        return [orjson.loads(raw) for raw in raws if raw]

    def delete_campaign(self, campaign: dict) -> None:
        """Remove the definition; counters stay as the campaign's record."""
        cid = campaign["id"]
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self._campaign(cid))
        pipe.zrem(f"{self._brand(campaign['brand_id'])}:campaigns", cid)
        pipe.publish(self.events_channel, orjson.dumps({"k": "c", "c": cid}))
        pipe.execute()

    def counters(self, cid: str) -> dict[str, int]:
        raw = self.redis.hgetall(f"{self._campaign(cid)}:n")
        return {field: int(raw.get(field, 0)) for field in COUNTER_FIELDS}

    def stats(self, cid: str) -> dict:
        """Every counter of a campaign and the ratios between them, read in one round trip
        (the analytics counters are kept up to date as things happen; see
        ``socialads.domain.analytics`` for what each means)."""
        key = self._campaign(cid)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(f"{key}:n")
        pipe.pfcount(f"{key}:viewers")
        pipe.zcount(f"{key}:live", time.time(), "+inf")
        pipe.pfcount(f"{key}:engaged")
        for field in ORIGIN_FIELDS:
            pipe.hgetall(f"{key}:o:{field}")
        raw, viewers, live, engaged, *per_origin = pipe.execute()
        stats = {field: int(raw.get(field, 0)) for field in COUNTER_FIELDS}
        stats.update(viewers=int(viewers), live_viewers=int(live))
        stats.update({field: int(raw.get(field, 0)) for field in (
            "joins", "invites_opened", "invited_sessions", "seed_sessions", "friends_acted",
            "matched")})
        stats.update(engaged_viewers=int(engaged), **derived(raw))
        stats.setdefault("brand_replies", int(raw["brand_replies"])
                         if "brand_replies" in raw else self._optional("brand_replies", cid))
        stats["median_reply_seconds"] = self._optional("median_reply_seconds", cid)
        origins = sorted(set().union(*per_origin))
        stats["by_origin"] = {origin: {field: int(counts.get(origin, 0)) for field, counts
                                       in zip(ORIGIN_FIELDS, per_origin, strict=True)}
                              for origin in origins}
        return stats

    def _optional(self, name: str, cid: str):
        """A figure another part of the store may provide (None until it does)."""
        method = getattr(self, name, None)
        return method(cid) if callable(method) else None

    def minutes(self, cid: str, first: int, count: int) -> list[dict[str, int]]:
        """Per-minute counts (impressions, joins, actions) of ``count`` minutes from minute
        ``first`` (Unix time // 60), oldest first; a quiet minute is zeros."""
        key = self._campaign(cid)
        pipe = self.redis.pipeline(transaction=False)
        for minute in range(first, first + count):
            pipe.hmget(f"{key}:t:{minute}", SERIES_FIELDS)
        return [{"minute": first + i, **{field: int(value or 0) for field, value
                                         in zip(SERIES_FIELDS, values, strict=True)}}
                for i, values in enumerate(pipe.execute())]

    def _count_minute(self, pipe, cid: str, field: str, now: float) -> None:
        key = f"{self._campaign(cid)}:t:{minute_of(now)}"
        pipe.hincrby(key, field, 1)
        pipe.expire(key, SERIES_TTL)

    def count_impression(self, cid: str, origin: str = DIRECT) -> None:
        """A widget load on a publisher ``origin``."""
        key = self._campaign(cid)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hincrby(f"{key}:n", "impressions", 1)
        pipe.hincrby(f"{key}:o:impressions", origin, 1)
        self._count_minute(pipe, cid, "impressions", time.time())
        pipe.execute()

    def count_invite_opened(self, cid: str, token: str) -> bool:
        """An invite landing page was loaded; False when the session no longer exists."""
        key = self._session(cid, token)
        return bool(self._invite_opened(keys=[key, f"{self._campaign(cid)}:n"]))

    # -- sessions and presence ------------------------------------------------------------

    def session_campaign(self, token: str) -> str | None:
        """The campaign an invite token belongs to, even after the session expired."""
        return self.redis.get(f"{self.prefix}:session:{token}")

    def session_name(self, cid: str, token: str) -> str:
        """A session's public group name ("Sam's group")."""
        return self.redis.hget(self._session(cid, token), "name") or ""

    def session_exists(self, cid: str, token: str) -> bool:
        """The session is kept (open, or closed by the brand: its conversation remains)."""
        return bool(self.redis.exists(self._session(cid, token)))

    def session_state(self, cid: str, token: str) -> str | None:
        """``"open"``, ``"closed"`` (by the brand) or None (expired or unknown)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.exists(self._session(cid, token))
        pipe.hexists(self._session(cid, token), "closed")
        kept, closed = pipe.execute()
        return None if not kept else "closed" if closed else "open"

    def overflow_room(self, cid: str, token: str) -> str | None:
        """The room friends go to when session ``token``'s room is full."""
        return self.redis.hget(self._session(cid, token), "overflow")

    def set_overflow_room(self, cid: str, token: str, room: str) -> None:
        self.redis.hset(self._session(cid, token), "overflow", room)

    def session_open(self, cid: str, token: str) -> bool:
        """Viewers can join the session: it is kept and the brand has not closed it."""
        return self.session_state(cid, token) == "open"

    def close_session(self, cid: str, token: str, record: dict) -> bool:
        """Close a session for good (``record``: {at, reason, by, user}) and log it in the
        public moderation log; every process hears it and takes its viewers out. False when
        it was closed already (or is gone)."""
        key = self._session(cid, token)
        if not self.redis.exists(key) or not self.redis.hsetnx(key, "closed",
                                                                 orjson.dumps(record)):
            return False
        self._log_decision(cid, {**record, "action": "close"},
                           {"k": "x", "c": cid, "s": token, "reason": record["reason"]})
        return True

    def create_session(self, cid: str, leader: str, name: str = "") -> str:
        """A new shared session led by ``leader``; ``name`` is the group's public name."""
        token = new_session_token()
        key = self._session(cid, token)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"created_at": time.time(), "leader": leader, "total": 0,
                                "msg_seq": 0, "name": name})
        pipe.expire(key, SOLO_SESSION_TTL)
        pipe.set(f"{self.prefix}:session:{token}", cid, ex=SOLO_SESSION_TTL)
        pipe.hincrby(f"{self._campaign(cid)}:n", "sessions", 1)
        pipe.hexists(f"{self._campaign(cid)}:friends", leader)
        *_, invited = pipe.execute()
        if not invited:  # a seed: started by someone no invite brought (the k-factor's base)
            self.redis.hincrby(f"{self._campaign(cid)}:n", "seed_sessions", 1)
        return token

    def join_session(self, cid: str, token: str, sid: str, member: dict, ttl: float,
                     origin: str = DIRECT, landing: bool = False, room_size: int = 0) -> bool:
        """Put a connection into a session's presence; returns True for an invited friend's
        first join (someone other than the leader joining this session for the first time).
        Raises `RoomFull` when the session already holds ``room_size`` other people.

        A viewer's first join of a session counts in ``joins`` (per minute, and per publisher
        ``origin``). An invited friend's first join also adds to the cycle time and counts as
        an invite opened, unless it comes from the invite ``landing`` page, whose load did."""
        key = self._session(cid, token)
        viewer = member["viewer"]
        now = time.time()
        expires = now + ttl
        if not self._seat(keys=[f"{key}:p", f"{key}:m", f"{key}:v"],
                          args=[now, sid, orjson.dumps(member), expires, viewer, room_size]):
            raise RoomFull(self.session_name(cid, token))
        pipe = self.redis.pipeline(transaction=True)
        pipe.sadd(f"{key}:v", viewer)
        pipe.hget(key, "leader")
        pipe.pfadd(f"{self._campaign(cid)}:viewers", viewer)
        pipe.zadd(f"{self._campaign(cid)}:live", {sid: expires})
        pipe.hget(key, "shared")
        pipe.hget(key, "created_at")
        first_time, leader, _, _, shared, created_at = pipe.execute()
        invited = bool(first_time) and leader != viewer
        pipe = self.redis.pipeline(transaction=True)
        if invited:
            pipe.hincrby(f"{self._campaign(cid)}:n", "invite_joins", 1)
            pipe.hset(key, "shared", 1)
            pipe.expire(f"{self.prefix}:session:{token}", INVITE_LOOKUP_TTL)
        if first_time:  # counted once: only the call whose SADD added the viewer gets here
            self._count_join(pipe, cid, token, viewer, now, origin, invited=invited,
                             created_at=created_at, landing=landing)
        ttl = SESSION_TTL if invited or shared else SOLO_SESSION_TTL
        for suffix in ("", ":p", ":m", ":v", ":a"):
            pipe.expire(key + suffix, ttl)
        pipe.execute()
        return invited

    def _count_join(self, pipe, cid: str, token: str, viewer: str, now: float, origin: str,
                    invited: bool, created_at: str | None, landing: bool) -> None:
        counters = f"{self._campaign(cid)}:n"
        pipe.hincrby(counters, "joins", 1)
        pipe.hincrby(f"{self._campaign(cid)}:o:joins", origin, 1)
        self._count_minute(pipe, cid, "joins", now)
        if invited:
            pipe.hsetnx(f"{self._campaign(cid)}:friends", viewer, 0)
            if created_at:
                pipe.hincrbyfloat(counters, "cycle_seconds", max(0.0, now - float(created_at)))
                pipe.hincrby(counters, "cycle_joins", 1)
            if not landing:
                self._invite_opened(keys=[self._session(cid, token), counters], client=pipe)

    def leave_session(self, cid: str, token: str, sid: str) -> None:
        key = self._session(cid, token)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(f"{key}:p", sid)
        pipe.hdel(f"{key}:m", sid)
        pipe.zrem(f"{self._campaign(cid)}:live", sid)
        pipe.execute()

    def refresh_presence(self, entries: list[tuple[str, str, str, dict]], ttl: float) -> None:
        """Heartbeat: push the expiry of (campaign, session, connection, member) entries
        forward, writing them again in full: a process that stalled past the TTL finds its
        still-connected members swept away by another process's read, and puts them back."""
        expires = time.time() + ttl
        scores: dict[str, dict] = defaultdict(dict)  # session key -> sid -> expiry
        members: dict[str, dict] = defaultdict(dict)  # session key -> sid -> member
        live: dict[str, dict] = defaultdict(dict)  # campaign -> sid -> expiry
        for cid, token, sid, member in entries:
            key = self._session(cid, token)
            scores[key][sid] = expires
            members[key][sid] = orjson.dumps(member)
            live[cid][sid] = expires
        # A few commands a session, not three a connection: packing the pipeline is CPU the
        # viewers' events wait for.
        pipe = self.redis.pipeline(transaction=False)
        for key, sids in scores.items():
            pipe.zadd(f"{key}:p", sids)
            pipe.hset(f"{key}:m", mapping=members[key])
        for cid, sids in live.items():
            pipe.zadd(f"{self._campaign(cid)}:live", sids)
            pipe.zremrangebyscore(f"{self._campaign(cid)}:live", "-inf", time.time())
        pipe.execute()

    def members(self, cid: str, token: str) -> list[dict]:
        """Live members of a session, dropping those whose heartbeat expired."""
        key = self._session(cid, token)
        return _members(self._presence(keys=[f"{key}:p", f"{key}:m"], args=[time.time()]))

    def members_of(self, places: list[tuple[str, str]]) -> list[list[dict]]:
        """`members` of many (campaign, session) places, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        now = time.time()
        for cid, token in places:
            key = self._session(cid, token)
            self._presence(keys=[f"{key}:p", f"{key}:m"], args=[now], client=pipe)
        return [_members(raws) for raws in pipe.execute()]

    def session_snapshot(self, cid: str, token: str, since: int | None, latest: int,
                         ) -> SessionSnapshot:
        """Everything a joining client needs, in one round trip: totals, state, members,
        and the latest ``latest`` messages or every kept message after id ``since``."""
        key, session = self._campaign(cid), self._session(cid, token)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(f"{key}:n", "total")
        pipe.hmget(session, SESSION_PROGRESS)
        pipe.hgetall(f"{key}:state")
        self._presence(keys=[f"{session}:p", f"{session}:m"], args=[time.time()], client=pipe)
        pipe.lrange(f"{session}:chat", 0, -1)
        pipe.hget(session, "name")
        total, progress, state, raw_members, raw_messages, name = pipe.execute()
        progress = dict(zip(SESSION_PROGRESS, (int(v or 0) for v in progress), strict=True))
        messages = [orjson.loads(raw) for raw in raw_messages]
        if since is not None:
            messages = [m for m in messages if m["id"] > since]
        else:
            messages = messages[-latest:]
        return SessionSnapshot(int(total or 0), progress["total"],
                               {k: int(v) for k, v in state.items()},
                               _members(raw_members), messages, progress, name or "")

    def campaign_progress(self, cid: str, tokens: list[str] = ()
                          ) -> tuple[int, dict[str, int], list[dict[str, int]]]:
        """The campaign total, activity state counters and, for each of ``tokens``, its
        session's ``total``, ``people`` (who acted) and ``matched``, in one round trip."""
        key = self._campaign(cid)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(f"{key}:n", "total")
        pipe.hgetall(f"{key}:state")
        for token in tokens:
            pipe.hmget(self._session(cid, token), SESSION_PROGRESS)
        total, state, *sessions = pipe.execute()
        return (int(total or 0), {k: int(v) for k, v in state.items()},
                [dict(zip(SESSION_PROGRESS, (int(v or 0) for v in values), strict=True))
                 for values in sessions])

    def match_summary(self, cid: str, latest: int) -> tuple[int, list[dict]]:
        """What the brand's match pool has given (the campaign's ``matched``) and the latest
        ``latest`` entries of its public ledger, newest first (``latest`` -1: all kept)."""
        key = self._campaign(cid)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(f"{key}:n", "matched")
        pipe.lrange(f"{key}:ledger", 0, latest - 1 if latest > 0 else -1)
        used, entries = pipe.execute()
        return int(used or 0), [orjson.loads(entry) for entry in entries]

    # -- actions and chat -----------------------------------------------------------------

    def record_action(self, cid: str, token: str, viewer: str, action_id: str, amount: int,
                      per_viewer_cap: int = 0, state: dict[str, int] | None = None,
                      origin: str = DIRECT, once: str = "", choice: str = "",
                      cooldown: float = 0, match: Match | None = None,
                      buckets: list[tuple[str, str, tuple]] = ()) -> ActionResult:
        """Count one action exactly once (see record_action.lua). ``once`` names a choice a
        viewer makes only once (a poll, a quiz question) and ``choice`` what they chose;
        ``cooldown`` is the seconds a viewer waits between two actions; ``match`` is the
        campaign's group match, if any (the result says what this action unlocked);
        ``buckets`` the shared rate limits it takes a token from, as in `take_tokens` (in
        the same script: no round trip of its own)."""
        key = self._campaign(cid)
        pairs: list = []
        for field, increment in (state or {}).items():
            pairs += [field, increment]
        session = self._session(cid, token)
        status, total, session_total, wait_ms, *unlocked = self._record_action(
            keys=[f"{key}:done", f"{key}:n", session, f"{key}:pv",
                  f"{key}:state", f"{key}:engaged", f"{key}:t:{minute_of(time.time())}",
                  f"{key}:o:actions", f"{key}:friends", f"{key}:mine:{viewer}",
                  f"{key}:last", f"{key}:board", f"{session}:a", f"{key}:ledger",
                  *self._bucket_keys(cid, "act", buckets)],
            args=[f"{viewer}\0{action_id}", amount, viewer, per_viewer_cap, self.events_channel,
                  cid, token, origin, SERIES_TTL, once, choice, int(cooldown * 1000),
                  *((match.every, match.amount, match.pool) if match else (0, 0, 0)),
                  len(buckets), *(n for *_, rate in buckets for n in rate), *pairs],
        )
        return ActionResult(int(status), int(total), int(session_total), int(wait_ms) / 1000,
                            int(unlocked[0]) if unlocked else 0)

    def choices(self, cid: str, viewer: str) -> dict[str, str]:
        """What a viewer chose, by ``once`` key (their vote, their answers)."""
        return self.redis.hgetall(f"{self._campaign(cid)}:mine:{viewer}")

    def leaderboard(self, cid: str, size: int) -> list[dict]:
        """The sessions with the largest totals: group names and totals, never tokens."""
        key = self._campaign(cid)
        top = self.redis.zrevrange(f"{key}:board", 0, size - 1, withscores=True)
        pipe = self.redis.pipeline(transaction=False)
        for token, _ in top:
            pipe.hget(self._session(cid, token), "name")
        names = pipe.execute()
        return [{"name": name or "A group", "total": int(score)}
                for (_, score), name in zip(top, names, strict=True)]

    def post_message(self, cid: str, token: str, client_key: str, message: dict,
                     viewer: str | None = None) -> tuple[bool, dict]:
        """Store a chat message; returns (posted, message) and the original on a repeat.
        A ``viewer``'s message makes them an engaged viewer."""
        key = self._session(cid, token)
        posted, raw = self._post_message(
            keys=[f"{key}:sent", key, f"{key}:chat", f"{self._campaign(cid)}:n"],
            args=[client_key, orjson.dumps(message), self.chat_keep, SESSION_TTL],
        )
        if posted == -1:
            raise SessionClosed(token)
        if posted:
            self._note_talk(cid, token, message)
        if posted and viewer is not None:
            self.redis.pfadd(f"{self._campaign(cid)}:engaged", viewer)
        return bool(posted), orjson.loads(raw)

    def publish_event(self, event: dict) -> None:
        self.redis.publish(self.events_channel, orjson.dumps(event))

    def publish_ping(self, channels: list[str], message: bytes) -> None:
        """A liveness nonce on each channel, in one round trip (``socialads.realtime.liveness``)."""
        pipe = self.redis.pipeline(transaction=False)
        for channel in channels:
            pipe.publish(channel, message)
        pipe.execute()

    # -- limits shared by every process (socialads.realtime.limits) -------------------------------

    def take_tokens(self, cid: str, event: str, buckets: list[tuple[str, str, tuple]]
                    ) -> float:
        """Take one token from each bucket of a campaign's ``event`` (``buckets``: (``"v"``
        or ``"ip"``, whose, (capacity, refill per second))), or from none: returns 0, or the
        seconds to wait until all of them can give one."""
        return self._take(self._bucket_keys(cid, event, buckets), [rate for *_, rate in buckets])

    def _bucket_keys(self, cid: str, event: str, buckets) -> list[str]:
        key = f"{self._campaign(cid)}:rl"
        return [f"{key}:{scope}:{whose}:{event}" for scope, whose, _ in buckets]

    def take_connect_token(self, ip: str, rate: tuple) -> float:
        """The address's connect bucket: 0, or the seconds to wait."""
        return self._take([f"{self.prefix}:ip:{{{ip}}}:connect"], [rate])

    def _take(self, keys: list[str], rates: list[tuple]) -> float:
        args = [number for capacity, refill in rates for number in (capacity, refill)]
        return int(self._rate_limit(keys=keys, args=args)) / 1000

    def admit_connection(self, ip: str, sid: str, ttl: float, cap: int) -> bool:
        """Count a connection from ``ip`` unless it already has ``cap`` live ones."""
        now = time.time()
        return bool(self._connections(keys=[f"{self.prefix}:ip:{{{ip}}}:conns"],
                                      args=[now, sid, now + ttl, cap]))

    def release_connection(self, ip: str, sid: str) -> None:
        self.redis.zrem(f"{self.prefix}:ip:{{{ip}}}:conns", sid)

    def refresh_connections(self, by_ip: dict[str, list[str]], ttl: float) -> None:
        """Heartbeat: push forward the expiry of this process's connections (writing them
        again, so counts lost with a Redis restart come back)."""
        expires = time.time() + ttl
        pipe = self.redis.pipeline(transaction=False)
        for ip, sids in by_ip.items():
            key = f"{self.prefix}:ip:{{{ip}}}:conns"
            pipe.zadd(key, dict.fromkeys(sids, expires))
            pipe.expireat(key, int(expires) + 1)
        pipe.execute()

    # -- conversation with the brand's people, and moderation in the open ----------------

    def _note_talk(self, cid: str, token: str, message: dict) -> None:
        """List the session among the campaign's conversations; a viewer's message starts the
        wait for a brand reply unless an earlier one is still unanswered."""
        talk = f"{self._campaign(cid)}:talk"
        at = message["ts"] if "ts" in message else int(time.time() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(talk, {token: at})
        pipe.zremrangebyscore(talk, "-inf", (time.time() - SESSION_TTL) * 1000)
        pipe.expire(talk, SESSION_TTL)
        if not message.get("author", {}).get("brand_person"):
            pipe.hsetnx(self._session(cid, token), "waiting_since", at)
        pipe.execute()

    def post_brand_reply(self, cid: str, token: str, reply_id: str, message: dict,
                         ) -> tuple[bool, dict]:
        """Post a reply a brand person typed (numbered like any message), and count it with
        how long the session waited; a repeated ``reply_id`` answers the original."""
        posted, message = self.post_message(cid, token, f"\0brand\0{reply_id}", message)
        if posted:
            key = self._campaign(cid)
            self._brand_reply(keys=[self._session(cid, token), f"{key}:n", f"{key}:replies",
                                    f"{key}:reply_median"],
                              args=[message["ts"], REPLIES_KEPT])
        return posted, message

    def brand_replies(self, cid: str) -> int:
        """How many replies the brand's people posted in the campaign."""
        return int(self.redis.hget(f"{self._campaign(cid)}:n", "brand_replies") or 0)

    def median_reply_seconds(self, cid: str) -> float | None:
        """The median wait for a brand reply over the last 1000 answered waits; None until
        the first."""
        value = self.redis.get(f"{self._campaign(cid)}:reply_median")
        return float(value) if value is not None else None

    def reply_seconds(self, cid: str) -> list[float]:
        """The last 1000 waits for a brand reply in seconds, newest first."""
        return [float(v) for v in self.redis.lrange(f"{self._campaign(cid)}:replies", 0, -1)]

    def talk_summary(self, cid: str, brand_id: str, person_ids: list[str],
                     ) -> tuple[list[dict], float | None]:
        """What a widget shows of the brand's people, in one round trip: the featured people
        (skipping ids no longer on the roster) and the median reply time."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(f"{self._campaign(cid)}:reply_median")
        if person_ids:
            pipe.hmget(f"{self._brand(brand_id)}:people", person_ids)
        median, *raws = pipe.execute()
        people = [orjson.loads(raw) for raw in (raws[0] if raws else []) if raw]
        return people, float(median) if median is not None else None

    def conversations(self, cid: str, before: int | None = None, limit: int = 20,
                      ) -> list[dict]:
        """Sessions with messages, latest activity first (``before``: ms, to page back):
        ``{session, last, waiting_since, closed, messages}``, hidden messages as their
        record; ``closed`` is the record of the brand closing the session, or None."""
        talk = f"{self._campaign(cid)}:talk"
        found = self.redis.zrevrangebyscore(
            talk, f"({before}" if before is not None else "+inf", "-inf", start=0, num=limit,
            withscores=True)
        pipe = self.redis.pipeline(transaction=False)
        for token, _ in found:
            session = self._session(cid, token)
            pipe.lrange(f"{session}:chat", 0, -1)
            pipe.hvals(f"{session}:hidden")
            pipe.hget(session, "waiting_since")
            pipe.hget(session, "closed")
        results = pipe.execute()
        talks, gone = [], []
        for index, (token, last) in enumerate(found):
            shown, hidden, waiting, closed = results[4 * index:4 * index + 4]
            messages = sorted((orjson.loads(raw) for raw in [*shown, *hidden]),
                              key=lambda message: message["id"])
            if not messages:
                gone.append(token)  # the session expired
                continue
            talks.append({"session": token, "last": int(last), "messages": messages,
                          "waiting_since": int(waiting) if waiting else None,
                          "closed": orjson.loads(closed) if closed else None})
        if gone:
            self.redis.zrem(talk, *gone)
        return talks

    def _shown_message(self, cid: str, token: str, message_id: int) -> str | None:
        prefix = f'{{"id":{int(message_id)},'  # as post_message.lua writes it
        chat = self.redis.lrange(f"{self._session(cid, token)}:chat", 0, -1)
        return next((raw for raw in chat if raw.startswith(prefix)), None)

    def session_message(self, cid: str, token: str, message_id: int) -> dict | None:
        """One message of a session, shown or hidden (a hidden one without its text)."""
        raw = self._shown_message(cid, token, message_id) or self.redis.hget(
            f"{self._session(cid, token)}:hidden", str(message_id))
        return orjson.loads(raw) if raw else None

    def hide_message(self, cid: str, token: str, message_id: int, record: dict,
                     ) -> dict | None:
        """Take a shown message out of its session (join snapshots and ``since`` no longer
        include it), keep who wrote it and why it was hidden but not its text, and log it.
        ``record``: {at, reason, by, user}. Returns the hidden message's record, or None when
        no such message is shown (or someone hid it at the same moment)."""
        session = self._session(cid, token)
        raw = self._shown_message(cid, token, message_id)
        if raw is None or not self.redis.lrem(f"{session}:chat", 1, raw):
            return None
        message = orjson.loads(raw)
        kept = {"id": message["id"], "ts": message["ts"], "author": message["author"],
                "hidden": record}
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(f"{session}:hidden", str(message["id"]), orjson.dumps(kept))
        pipe.expire(f"{session}:hidden", SESSION_TTL)
        pipe.lpush(f"{self._campaign(cid)}:modlog",
                   orjson.dumps({**record, "action": "hide", "message": message["id"]}))
        pipe.execute()
        return kept

    def blocked(self, cid: str, member: str) -> dict | None:
        """Why a viewer (by member id) is blocked from the campaign, or None."""
        raw = self.redis.hget(f"{self._campaign(cid)}:blocked", member)
        return orjson.loads(raw) if raw else None

    def blocked_viewers(self, cid: str) -> list[dict]:
        raws = self.redis.hgetall(f"{self._campaign(cid)}:blocked")
        viewers = [{"member": member, **orjson.loads(raw)} for member, raw in raws.items()]
        return sorted(viewers, key=lambda viewer: viewer["at"], reverse=True)

    def block_viewer(self, cid: str, member: str, record: dict) -> bool:
        """Block a viewer from the campaign and log it (``record``: {at, reason, by, user,
        name}; the log leaves the name out). Every process hears it and drops that viewer's
        connections. False when they were already blocked."""
        key = self._campaign(cid)
        if not self.redis.hsetnx(f"{key}:blocked", member, orjson.dumps(record)):
            return False
        entry = {k: v for k, v in record.items() if k != "name"}
        self._log_decision(cid, {**entry, "action": "block"},
                           {"k": "b", "c": cid, "m": member, "reason": record["reason"]})
        return True

    def unblock_viewer(self, cid: str, member: str, record: dict) -> bool:
        """Let a blocked viewer take part again, and log it. False when they were not
        blocked."""
        key = self._campaign(cid)
        if not self.redis.hdel(f"{key}:blocked", member):
            return False
        self._log_decision(cid, {**record, "action": "unblock"})
        return True

    def _log_decision(self, cid: str, entry: dict, event: dict | None = None) -> None:
        """Write a moderation decision into the campaign's public log and, when every process
        must act on it, tell them on the events channel."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.lpush(f"{self._campaign(cid)}:modlog", orjson.dumps(entry))
        if event is not None:
            pipe.publish(self.events_channel, orjson.dumps(event))
        pipe.execute()

    def moderation_log(self, cid: str, limit: int = MODERATION_SHOWN) -> list[dict]:
        """What the brand's people hid, blocked and unblocked, newest first."""
        raws = self.redis.lrange(f"{self._campaign(cid)}:modlog", 0, limit - 1)
        return [orjson.loads(raw) for raw in raws]

