"""Shared sessions in real time: the Socket.IO events of CONTRACT §4.

Room membership is per process, so everything that must be global (presence, totals, chat)
lives in Redis; each process keeps only who is connected *to it*. Totals travel between
processes on our own Redis channel (the action script publishes them) and every process
pushes ``progress`` to its local clients through a coalescer: one update per campaign at
most every ``PROGRESS_INTERVAL`` (counted from when the last went out), sent at once when
idle plus one trailing update, so a burst of actions costs each viewer under ten messages a
second and still ends on the latest totals. An update reads only the sessions that changed,
and sessions with the same update share one packet. Presence and chat go through
Flask-SocketIO's Redis message queue.

Every handler answers through its acknowledgement, errors included: a handler that raised
would leave the client waiting for an ack that never comes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import orjson
from engineio import json as engineio_json
from flask import current_app, request
from flask_socketio import ConnectionRefusedError as Refused
from flask_socketio import SocketIO, join_room, leave_room
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError

from socialads.activities import ActionRejected
from socialads.domain.analytics import DIRECT, origin_of
from socialads.domain.campaigns import Campaigns
from socialads.domain.errors import Problem
from socialads.domain.identity import friendly_name, member_id
from socialads.domain.schemas import ActIn, JoinIn, LeaveIn, SayIn, first_error, is_too_long
from socialads.domain.texts import Texts
from socialads.protocol import ActionStatus, ErrorCode
from socialads.realtime.limits import SharedLimits
from socialads.realtime.liveness import EVENTS
from socialads.store import RoomFull, SessionClosed, Store

log = logging.getLogger(__name__)
socketio = SocketIO()


HEARTBEAT_CHUNK = 500  # connections (or sessions) a heartbeat handles per Redis round trip
OVERFLOW_HOPS = 20  # full rooms of one group a join walks through before starting afresh


def session_room(token: str) -> str:
    return "s:" + token


def admin_room(cid: str) -> str:
    """The brand's team watching a campaign's conversation (namespace ``/admin``)."""
    return "admin:" + cid


def closed_problem(reason: str = "") -> Problem:
    return Problem(ErrorCode.NOT_FOUND, "The people of this campaign closed this group.", 404,
                   closed=True, reason=reason)


def blocked_problem(reason: str) -> Problem:
    return Problem(ErrorCode.INACTIVE, f"The people of this campaign blocked you from taking part. "
                               f"Their reason: {reason}", 403, blocked=True, reason=reason)


# The fields each kind of message on our events channel carries (see Store.events_channel).
EVENT_FIELDS = {"ping": ("n",), "p": ("c",), "c": ("c",), "b": ("c", "m", "reason"),
                "x": ("c", "s", "reason")}


def channel_event(data) -> dict | None:
    """A message of our events channel, or None when it is not one of ours: the channel
    carries JSON objects only, and whatever else reaches it (a pickle, a typo in redis-cli)
    must not stop a process from listening."""
    try:
        event = orjson.loads(data)
    except orjson.JSONDecodeError:
        event = None
    fields = EVENT_FIELDS.get(event.get("k")) if isinstance(event, dict) and isinstance(
        event.get("k"), str) else None
    if fields is None or not all(isinstance(event.get(key), str) for key in fields):
        log.warning("ignored a message on the events channel that is not ours")
        return None
    return event


@dataclass
class Connection:
    campaign: str
    session: str
    viewer: str
    member: str
    name: str
    joined_at: float
    origin: str = DIRECT  # the publisher page the widget is on, as the widget says (analytics)


@dataclass
class Bucket:
    """A token bucket: ``capacity`` actions at once, refilled at ``rate`` per second."""

    capacity: float
    rate: float
    tokens: float = -1
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> float:
        """Take one token; returns 0 when allowed, else seconds until one is available."""
        now = time.monotonic()
        if self.tokens < 0:
            self.tokens = self.capacity
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return round((1 - self.tokens) / self.rate, 2)


class Hub:
    """This process's side of the real-time service."""

    def __init__(self, app, store: Store, campaigns: Campaigns):
        self.app = app
        self.store = store
        self.campaigns = campaigns
        self.config = app.config
        self.lock = threading.RLock()
        self.connections: dict[str, Connection] = {}
        self.buckets: dict[str, dict[str, Bucket]] = {}
        self.local: dict[str, dict[str, set[str]]] = {}  # campaign -> session -> sids
        self.last_presence: dict[str, list] = {}
        self.last_progress: dict[str, dict] = {}  # session -> the progress its viewers have
        # session -> its counters as last read from Redis, and, per campaign, the sessions
        # an action changed since: a progress update reads only those (one session, not all
        # of this process's hundreds), and the campaign's total.
        self.session_counts: dict[str, dict[str, int]] = {}
        self.changed: dict[str, set[str]] = {}
        self.pending: set[str] = set()
        self.last_sent: dict[str, float] = {}
        self.last_status: dict[str, str] = {}  # campaign -> status last sent to our viewers
        self.wake = threading.Event()
        self.started = False
        self.refused: dict[str, str] = {}  # sid -> why its viewer was blocked
        self.limits = SharedLimits(store, app.config)  # per viewer and address, in Redis
        self.liveness = app.extensions["socialads.liveness"]

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        with self.lock:
            if self.started:
                return
            self.started = True
        server = socketio.server
        if server is not None and not server.manager_initialized:
            # The message-queue listener, which python-socketio starts on the first connect:
            # from the start, so /healthz can prove it hears.
            server.manager_initialized = True
            server.manager.initialize()
        self.liveness.listening = True
        for loop in (self._listen, self._coalesce, self._heartbeat, self.liveness.watch):
            socketio.start_background_task(self._forever, loop)

    def _forever(self, loop) -> None:
        """Run a background loop for the life of the process, restarting it after errors."""
        while True:
            try:
                with self.app.app_context():
                    loop()
            except RedisError as exc:  # expected while Redis restarts: no traceback
                log.warning("%s: Redis unavailable (%s); retrying", loop.__name__, exc)
            except Exception:
                log.exception("background loop %s failed; restarting", loop.__name__)
            time.sleep(1)

    # -- guards ---------------------------------------------------------------------------

    def parse(self, model: type[BaseModel], payload):
        if payload is None and model is LeaveIn:
            payload = {}
        if not isinstance(payload, dict):
            raise Problem(ErrorCode.INVALID, "The payload must be a JSON object.")
        try:
            size = len(orjson.dumps(payload))
        except (TypeError, orjson.JSONEncodeError):
            message = "The payload must be plain JSON (numbers within 64 bits)."
            raise Problem(ErrorCode.INVALID, message) from None
        limit = self.config["MAX_EVENT_BYTES"]
        if size > limit:
            raise Problem(ErrorCode.TOO_LARGE, f"The payload is over {limit} bytes.")
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            where, message = first_error(exc)
            code = ErrorCode.TOO_LARGE if is_too_long(exc) else ErrorCode.INVALID
            raise Problem(code, f"{where}: {message}") from None

    def limit(self, sid: str, event: str) -> None:
        capacity, rate = self.config[f"{event.upper()}_RATE"]
        buckets = self.buckets.setdefault(sid, {})
        bucket = buckets.setdefault(event, Bucket(capacity, rate))
        wait = bucket.take()
        if wait:
            raise Problem(ErrorCode.RATE_LIMITED, "Too many requests; try again shortly.",
                          retry_after=wait)

    def joined(self, sid: str) -> Connection:
        connection = self.connections.get(sid)
        if connection is None:
            if sid in self.refused:
                raise blocked_problem(self.refused[sid])
            raise Problem(ErrorCode.NOT_JOINED, "Join a session first.")
        return connection

    # -- events ---------------------------------------------------------------------------

    def join(self, sid: str, payload) -> dict:
        data: JoinIn = self.parse(JoinIn, payload)
        self.limit(sid, "join")
        entry = self.campaigns.live(data.campaign)
        self.limits.take("join", data.campaign, data.viewer, sid)
        cid = data.campaign
        member = member_id(self.config["SECRET_KEY"], cid, data.viewer)
        block = self.store.blocked(cid, member)
        if block:
            raise blocked_problem(block["reason"])
        previous = self.connections.get(sid)
        if previous and previous.viewer != data.viewer:
            # One connection is one person: otherwise one socket could pose as a crowd
            # (seats in a room, people unlocking a group match, per-viewer limits).
            raise Problem(ErrorCode.INVALID, "viewer: one connection is one viewer.")
        room_full = None
        if data.session:
            state = (self.store.session_state(cid, data.session)
                     if self.store.session_campaign(data.session) == cid else None)
            if state is None:
                raise Problem(ErrorCode.NOT_FOUND, "This invite link has expired or is unknown.")
            if state == "closed":
                raise closed_problem()
            token = data.session
        else:
            name = data.name or friendly_name(member)
            group = Texts(entry.campaign.get("language")).plain("group.name", name=name)
            token = self.store.create_session(cid, data.viewer, group)
        same_place = previous and (previous.campaign, previous.session) == (cid, token)
        if previous and not same_place:
            self._leave(sid)
        connection = Connection(cid, token, data.viewer, member,
                                data.name or friendly_name(member),
                                previous.joined_at if same_place else time.time(),
                                data.origin or DIRECT)
        # A widget on our own origin is the invite landing page, whose load counted the open.
        seat = {"sid": sid, "member": self.member(connection), "ttl": self.config["PRESENCE_TTL"],
                "origin": connection.origin, "room_size": entry.room_size,
                "landing": connection.origin == origin_of(self.config["PUBLIC_URL"])}
        try:
            self.store.join_session(cid, token, **seat)
        except RoomFull as full:
            # Not an error: the friend gets a new room of the same group, and is told so.
            room_full = {"group": full.name, "size": entry.room_size}
            token = self._overflow(cid, token, data.viewer, full.name, seat)
            connection.session = token
        with self.lock:
            self.refused.pop(sid, None)
            self.connections[sid] = connection
            sessions = self.local.setdefault(cid, {})
            if token not in sessions:  # new here: what we knew of it may be old
                self.session_counts.pop(token, None)
            sessions.setdefault(token, set()).add(sid)
        join_room(session_room(token))
        snapshot = self.store.session_snapshot(cid, token, data.since,
                                               self.config["CHAT_SNAPSHOT"])
        members = self.broadcast_presence(cid, token, snapshot.members)
        ack = {
            "ok": True, "session": token,
            "invite_url": f"{self.config['PUBLIC_URL']}/s/{token}",
            "members": [{**m, "self": True} if m["id"] == member else m for m in members],
            "total": snapshot.total, "session_total": snapshot.session_total,
            "goal": entry.campaign["goal"], "status": entry.status,
            "state": entry.public_state(self.store, snapshot.state),
            "messages": snapshot.messages, "mine": self.store.choices(cid, data.viewer),
        }
        ack["group_name"] = snapshot.name
        group = entry.group(snapshot.session)
        if group is not None:
            ack["group"] = group
        if room_full:
            ack["room_full"] = room_full
        return ack

    def _overflow(self, cid: str, token: str, viewer: str, name: str, seat: dict) -> str:
        """The room a friend gets when ``token``'s is full: the group's next room, the same
        one for every friend who follows (and for the same friend reloading), created when
        there is none or it closed; a full one passes them on to its own next room."""
        for _ in range(OVERFLOW_HOPS):
            room = self.store.overflow_room(cid, token)
            if room is None or self.store.session_state(cid, room) != "open":
                room = self.store.create_session(cid, viewer, name)
                self.store.set_overflow_room(cid, token, room)
            try:
                self.store.join_session(cid, room, **seat)
                return room
            except RoomFull:
                token = room
        room = self.store.create_session(cid, viewer, name)  # a very long chain: start afresh
        self.store.join_session(cid, room, **seat)
        return room

    def act(self, sid: str, payload) -> dict:
        data: ActIn = self.parse(ActIn, payload)
        self.limit(sid, "act")
        connection = self.joined(sid)
        entry = self.campaigns.live(connection.campaign)
        try:
            effect = entry.activity.effect(entry.settings, data.kind, data.data)
        except ActionRejected as exc:
            raise Problem(exc.code, exc.message) from None  # a widget names a CONTRACT code
        result = self.store.record_action(
            connection.campaign, connection.session, connection.viewer, data.id,
            effect.amount, effect.per_viewer_cap, effect.state, origin=connection.origin,
            once=effect.once, choice=effect.choice, cooldown=effect.cooldown, match=entry.match,
            buckets=self.limits.buckets("act", connection.viewer, sid))
        if result.status == ActionStatus.CAPPED:
            raise Problem(ErrorCode.INVALID, "You have already taken part as many times as this "
                                     "campaign allows.", capped=True)
        if result.status == ActionStatus.ALREADY_CHOSEN:
            raise Problem(ErrorCode.INVALID, effect.already, already=effect.once)
        if result.status == ActionStatus.SESSION_CLOSED:
            raise closed_problem()
        if result.status == ActionStatus.RATE_LIMITED:
            raise Problem(ErrorCode.RATE_LIMITED, "Too many requests; try again shortly.", 429,
                          retry_after=round(max(result.wait, 0.01), 2))
        if result.status == ActionStatus.COOLING_DOWN:
            raise Problem(ErrorCode.RATE_LIMITED, "Wait a moment before you act again.",
                          retry_after=round(max(result.wait, 0.01), 2))
        self.mark(connection.campaign, connection.session)
        ack = {"ok": True, "total": result.total, "session_total": result.session_total}
        if result.status == ActionStatus.DUPLICATE:
            ack["duplicate"] = True
        if result.matched:
            ack["matched"] = result.matched
        return ack

    def say(self, sid: str, payload) -> dict:
        data: SayIn = self.parse(SayIn, payload)
        if not data.text:
            raise Problem(ErrorCode.INVALID, "text: the message is empty.")
        self.limit(sid, "say")
        connection = self.joined(sid)
        self.limits.take("say", connection.campaign, connection.viewer, sid)
        self.campaigns.live(connection.campaign)
        # Also asked here, not only told by the block event: a process that missed the event
        # must still never post for a blocked viewer.
        block = self.store.blocked(connection.campaign, connection.member)
        if block:
            raise blocked_problem(block["reason"])
        message = {"text": data.text, "ts": int(time.time() * 1000), "author": {
            "id": connection.member, "name": connection.name, "brand_person": False}}
        try:
            posted, message = self.store.post_message(
                connection.campaign, connection.session, f"{connection.viewer}\0{data.id}",
                message, viewer=connection.viewer)
        except SessionClosed:
            raise closed_problem() from None
        if posted:
            socketio.emit("message", message, to=session_room(connection.session))
            socketio.emit("message", {"session": connection.session, "message": message},
                          to=admin_room(connection.campaign), namespace="/admin")
        return {"ok": True, "message": message}

    def leave(self, sid: str, payload) -> dict:
        self.parse(LeaveIn, payload)
        self._leave(sid)
        return {"ok": True}

    @staticmethod
    def member(connection: Connection) -> dict:
        """The presence entry of a connection, as stored in Redis."""
        return {"viewer": connection.viewer, "id": connection.member, "name": connection.name,
                "t": connection.joined_at}

    def connect(self, sid: str, ip: str | None) -> None:
        """A new connection: refused (``rate_limited``) beyond the address's limits."""
        try:
            self.limits.connect(sid, ip)
        except Problem as problem:
            raise Refused(problem.code, problem.ack()) from None

    def disconnect(self, sid: str) -> None:
        self.buckets.pop(sid, None)
        self.refused.pop(sid, None)
        try:
            self._leave(sid)
        finally:
            self.limits.release(sid)

    def _leave(self, sid: str) -> None:
        with self.lock:
            connection = self.connections.pop(sid, None)
            if connection is None:
                return
            sessions = self.local.get(connection.campaign, {})
            sids = sessions.get(connection.session, set())
            sids.discard(sid)
            if not sids:
                sessions.pop(connection.session, None)
            if not sessions:
                self.local.pop(connection.campaign, None)
        leave_room(session_room(connection.session), sid=sid, namespace="/")
        self.store.leave_session(connection.campaign, connection.session, sid)
        self.broadcast_presence(connection.campaign, connection.session)
        with self.lock:
            if connection.session not in self.local.get(connection.campaign, {}):
                self.last_presence.pop(connection.session, None)
                self.last_progress.pop(connection.session, None)
                self.session_counts.pop(connection.session, None)

    def drop_blocked(self, cid: str, member: str, reason: str) -> None:
        """A viewer was blocked from a campaign: take their connections to this process out of
        their sessions and tell their widgets; what they send next is refused."""
        with self.lock:
            sids = [sid for sid, c in self.connections.items()
                    if c.campaign == cid and c.member == member]
        for sid in sids:
            with self.lock:
                if sid not in self.connections:
                    continue  # gone meanwhile: nothing to refuse
                self.refused[sid] = reason
            self._leave(sid)
            socketio.emit("blocked", {"message": blocked_problem(reason).message,
                                      "reason": reason}, to=sid, ignore_queue=True)

    def drop_session(self, cid: str, token: str, reason: str) -> None:
        """The brand closed a session: take this process's connections out of it and tell
        their widgets (which start a new group)."""
        with self.lock:
            sids = list(self.local.get(cid, {}).get(token, ()))
        for sid in sids:
            self._leave(sid)
            socketio.emit("closed", {"message": closed_problem(reason).message, "reason": reason},
                          to=sid, ignore_queue=True)

    # -- presence -------------------------------------------------------------------------

    def broadcast_presence(self, cid: str, token: str, members: list[dict] | None = None,
                           local_only: bool = False) -> list[dict]:
        if members is None:
            members = self.store.members(cid, token)
        public = [{"id": m["id"], "name": m["name"]} for m in members]
        self.last_presence[token] = public
        socketio.emit("presence", {"members": public, "count": len(public)},
                      to=session_room(token), ignore_queue=local_only)
        return public

    def _heartbeat(self) -> None:
        """Keep our members alive in Redis and tell our clients about members that vanished
        (a process that died stops refreshing its members, which then expire)."""
        interval, beat = self.config["HEARTBEAT_INTERVAL"], time.monotonic()
        while True:
            # One beat per interval, however long a beat takes: the presence bound
            # (PRESENCE_TTL + HEARTBEAT_INTERVAL) counts on it.
            time.sleep(max(0.0, beat + interval - time.monotonic()))
            beat = time.monotonic()
            with self.lock:
                entries = [(c.campaign, c.session, sid, self.member(c))
                           for sid, c in self.connections.items()]
                places = {(c, s) for c, sessions in self.local.items() for s in sessions}
            try:
                for chunk in range(0, len(entries), HEARTBEAT_CHUNK):
                    self.store.refresh_presence(entries[chunk:chunk + HEARTBEAT_CHUNK],
                                                self.config["PRESENCE_TTL"])
                    time.sleep(0)  # let the viewers' events in between chunks
                self.limits.refresh()
                places = sorted(places)
                for chunk in range(0, len(places), HEARTBEAT_CHUNK):
                    part = places[chunk:chunk + HEARTBEAT_CHUNK]
                    for (cid, token), members in zip(part, self.store.members_of(part),
                                                     strict=True):
                        public = [{"id": m["id"], "name": m["name"]} for m in members]
                        if public != self.last_presence.get(token):
                            self.broadcast_presence(cid, token, members, local_only=True)
                    time.sleep(0)
                self.forget_counts()
                # A schedule can end (or start) a campaign with nobody touching it.
                for cid in {cid for cid, _ in places}:
                    entry = self.campaigns.get(cid)
                    if (entry.status if entry else "ended") != self.last_status.get(cid):
                        self.mark(cid)
            except RedisError:
                log.warning("heartbeat: Redis unavailable")

    # -- progress -------------------------------------------------------------------------

    def mark(self, cid: str, token: str | None = None) -> None:
        """Progress is due for campaign ``cid``; ``token``, when given, is the session whose
        counters changed."""
        with self.lock:
            if cid not in self.local:
                return
            self.pending.add(cid)
            if token is not None:
                self.changed.setdefault(cid, set()).add(token)
        self.wake.set()

    def forget_counts(self) -> None:
        """Read every session's counters afresh at its next update: after a gap in what we
        heard (a new subscription), and once a heartbeat, so nothing can drift for long."""
        with self.lock:
            self.session_counts.clear()

    def _listen(self) -> None:
        """Hear totals and campaign changes from every process (including this one)."""
        pubsub = self.store.listener_connection().pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.store.events_channel)
            # We may have missed notices while not subscribed: push fresh state to everyone.
            self.forget_counts()
            with self.lock:
                self.pending.update(self.local)
            self.wake.set()
            ear = self.liveness.ears[EVENTS]
            for message in ear.messages(pubsub):  # until /healthz finds it deaf
                event = channel_event(message["data"])
                if event is None:
                    continue  # not one of ours: ignored, never a reason to stop listening
                if event["k"] == "ping":
                    ear.heard(event["n"])
                elif event["k"] == "p":
                    token = event.get("s")
                    self.mark(event["c"], token if isinstance(token, str) else None)
                elif event["k"] == "c":
                    self.campaigns.forget(event["c"])
                    self.mark(event["c"])
                elif event["k"] == "b":
                    self.drop_blocked(event["c"], event["m"], event["reason"])
                elif event["k"] == "x":
                    self.drop_session(event["c"], event["s"], event["reason"])
        finally:
            pubsub.close()

    def _coalesce(self) -> None:
        interval = self.config["PROGRESS_INTERVAL"]
        quiet = False  # the outage was already logged
        while True:
            self.wake.wait()
            self.wake.clear()
            while self.pending:
                now = time.monotonic()
                with self.lock:
                    due = [c for c in self.pending if now - self.last_sent.get(c, 0) >= interval]
                    self.pending.difference_update(due)
                for cid in due:
                    try:
                        self._send_progress(cid)
                        quiet = False
                    except RedisError:
                        if not quiet:  # once per outage, not ten times a second
                            log.warning("progress not sent: Redis unavailable; retrying")
                            quiet = True
                        with self.lock:
                            self.pending.add(cid)
                    # The interval counts from when the update has gone out: a process busy
                    # enough that sending takes a while sends a little less often, so its
                    # viewers still get no more than ten in a second however late they read.
                    self.last_sent[cid] = time.monotonic()
                if self.pending:
                    soonest = min(self.last_sent.get(c, 0) for c in self.pending) + interval
                    time.sleep(max(0.005, soonest - time.monotonic()))

    def _send_progress(self, cid: str) -> None:
        entry = self.campaigns.get(cid)
        with self.lock:
            tokens = list(self.local.get(cid, ()))
            changed = self.changed.pop(cid, set())
            known = {t: self.session_counts[t] for t in tokens
                     if t not in changed and t in self.session_counts}
            stale = [t for t in tokens if t not in known]
        if not tokens:
            return
        # Totals fresh from Redis, not from the notices: the campaign's, and those of the
        # sessions that changed or that we have not read since a gap (forget_counts).
        try:
            total, state, fresh = self.store.campaign_progress(cid, stale)
            public_state = entry.public_state(self.store, state) if entry else {}
        except BaseException:
            with self.lock:  # not read: still to be read next time
                self.changed.setdefault(cid, set()).update(changed)
            raise
        read = dict(zip(stale, fresh, strict=True))
        with self.lock:
            # Only sessions still here: one that left meanwhile is read afresh if it returns.
            here = self.local.get(cid, {})
            self.session_counts.update((t, c) for t, c in read.items() if t in here)
        counts = {**known, **read}
        sessions = [counts[t] for t in tokens]
        base = {"total": total,
                "goal": entry.campaign["goal"] if entry else 0,
                "state": public_state,
                "status": entry.status if entry else "ended"}
        self.last_status[cid] = base["status"]
        alike: dict[bytes, tuple[dict, list[str]]] = {}
        for token, session in zip(tokens, sessions, strict=True):
            payload = {**base, "session_total": session["total"]}
            group = entry.group(session) if entry else None
            if group is not None:
                payload["group"] = group
            # An action is heard twice here (our own mark, then its notice on the events
            # channel): the second finds nothing new, and the viewers get nothing twice.
            if self.last_progress.get(token) == payload:
                continue
            self.last_progress[token] = payload
            key = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
            alike.setdefault(key, (payload, []))[1].append(session_room(token))
        # One packet for all the sessions whose update is the same (most sessions of a
        # campaign have the same few totals of their own): encoded once, not once a session.
        for payload, rooms in alike.values():  # never an empty list (that would be everyone)
            socketio.emit("progress", payload, to=rooms, ignore_queue=True)


class OrjsonWire:
    """The JSON of Socket.IO packets, by orjson: several times faster than the standard
    library at both ends of every event. What orjson will not take (integers beyond 64 bits)
    goes to Engine.IO's own codec, so the protocol's behaviour is exactly the library's: such
    a payload still reaches the handler and is answered `invalid`."""

    @staticmethod
    def dumps(obj, **options) -> str:
        try:
            return orjson.dumps(obj).decode()
        except TypeError:
            return engineio_json.dumps(obj, **options)

    @staticmethod
    def loads(text, **options):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return engineio_json.loads(text, **options)


def refuse_malformed_packets(server) -> None:
    """A packet python-socketio cannot decode (bad JSON, absurd nesting, no event name) raises
    inside its message handler, which logs a traceback and answers nothing, so any client
    could flood the log. Such a client is not one of our widgets: disconnect it, with one
    warning line."""
    handle = server._handle_eio_message

    def guarded(eio_sid, data):
        try:
            return handle(eio_sid, data)
        except (ValueError, TypeError, IndexError, KeyError, RecursionError) as exc:
            log.warning("malformed Socket.IO packet (%s); disconnecting the client",
                        type(exc).__name__)
            server.eio.disconnect(eio_sid)

    server.eio.on("message", guarded)


def hub() -> Hub:
    return current_app.extensions["socialads.hub"]


def _answer(handler, payload) -> dict:
    try:
        return handler(request.sid, payload)
    except Problem as problem:
        return problem.ack()
    except RedisError:
        log.warning("Redis unavailable during %s", handler.__name__)
        return Problem(ErrorCode.UNAVAILABLE, "The service is briefly unavailable; retry.").ack()
    except Exception:
        log.exception("%s failed", handler.__name__)
        return Problem(ErrorCode.UNAVAILABLE, "Something went wrong on our side; retry.").ack()


@socketio.on("connect")
def on_connect(auth=None):
    hub().start()
    hub().connect(request.sid, request.remote_addr)


@socketio.on("disconnect")
def on_disconnect(*_reason):
    try:
        hub().disconnect(request.sid)
    except RedisError:
        log.warning("Redis unavailable while %s disconnected", request.sid)


@socketio.on("join")
def on_join(payload=None, *_extra):
    return _answer(hub().join, payload)


@socketio.on("act")
def on_act(payload=None, *_extra):
    return _answer(hub().act, payload)


@socketio.on("say")
def on_say(payload=None, *_extra):
    return _answer(hub().say, payload)


@socketio.on("leave")
def on_leave(payload=None, *_extra):
    return _answer(hub().leave, payload)


@socketio.on("*")
def on_unknown(event, *_args):
    return Problem(ErrorCode.INVALID, f"Unknown event {str(event)[:40]!r}.").ack()


@socketio.on_error_default
def on_error(exc):
    log.exception("unhandled Socket.IO error")
    return Problem(ErrorCode.UNAVAILABLE, "Something went wrong on our side; retry.").ack()
