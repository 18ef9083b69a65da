"""What a viewer's events do once admitted (``socialads.realtime.guards``): join a shared
session (or, when its room is full, the group's next room), act, say, leave; and what the
brand's moderation does to the viewers connected here (a block, a closed session).

Every event answers with its acknowledgement, built here; a refusal is a `Problem` raised
for the namespace to answer (``socialads.realtime.namespace``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from socialads.domain.analytics import DIRECT, origin_of
from socialads.domain.campaigns import Campaigns
from socialads.domain.identity import friendly_name
from socialads.domain.texts import Texts
from socialads.protocol import ActionStatus
from socialads.realtime.connections import Connection, Connections
from socialads.realtime.guards import Guard, act_refusal, blocked_problem, closed_problem
from socialads.realtime.presence import Presence, public_members
from socialads.realtime.progress import Progress
from socialads.realtime.rooms import admin_room, session_room, socketio
from socialads.store import JoinRefused, RoomFull, SessionClosed, Store

OVERFLOW_HOPS = 20  # full rooms of one group a join walks through before starting afresh


class Viewers:
    """The viewer namespace's events, for this process's connections."""

    def __init__(
        self,
        config: Mapping[str, Any],
        store: Store,
        campaigns: Campaigns,
        connections: Connections,
        guard: Guard,
        presence: Presence,
        progress: Progress,
    ):
        self.config = config
        self.store = store
        self.campaigns = campaigns
        self.connections = connections
        self.guard = guard
        self.presence = presence
        self.progress = progress

    # -- events ---------------------------------------------------------------------------

    def join(self, sid: str, payload: Any) -> dict[str, Any]:
        data, entry, member, previous = self.guard.join(sid, payload)
        cid = data.campaign
        room_full = None
        if data.session:
            session = data.session
        else:
            name = data.name or friendly_name(member)
            group = Texts(entry.campaign.language).plain("group.name", name=name)
            session = self.store.create_session(cid, data.viewer, group)
        self.store.counter_parts(cid)  # known before the room is (the bus hears each part)
        same_place = previous and (previous.campaign, previous.session) == (cid, session)
        if previous and not same_place:
            self._leave(sid)
        connection = Connection(
            cid,
            session,
            data.viewer,
            member,
            data.name or friendly_name(member),
            previous.joined_at if previous and same_place else time.time(),
            data.origin or DIRECT,
        )
        # A widget on our own origin is the invite landing page, whose load counted the open.
        seat = {
            "sid": sid,
            "member": connection.presence_entry(),
            "ttl": self.config["PRESENCE_TTL"],
            "origin": connection.origin,
            "room_size": entry.room_size,
            "landing": connection.origin == origin_of(self.config["PUBLIC_URL"]),
            "here": not same_place,  # a join again of a connection in the session: counted
        }
        try:
            try:
                self.store.join_session(cid, session, **seat)
            except RoomFull as full:
                # Not an error: the friend gets a new room of the same group, and is told so.
                room_full = {"group": full.name, "size": entry.room_size}
                session = self._overflow(cid, session, data.viewer, full.name, seat)
                connection.session = session
        except JoinRefused as refused:  # blocked, or closed, since the guard looked
            if same_place:
                self._leave(sid)
            blocked = refused.blocked
            raise (blocked_problem(blocked["reason"]) if blocked else closed_problem()) from None
        with self.connections.lock:  # one step for the coalescer: who is here, what it knows
            if self.connections.add(sid, connection):
                self.progress.forget_session_counts(session)
        socketio.server.enter_room(sid, session_room(cid, session), namespace="/")
        # The roster with this viewer, to the session's viewers here (the joiner included):
        # the notice of this join may have come before the viewer was ours to count.
        self.presence.due(cid, session)
        snapshot = self.store.session_snapshot(
            cid, session, data.since, self.config["CHAT_SNAPSHOT"], member
        )
        # Blocked, or the session closed, after the guard looked and before this process
        # heard the campaign's channel (the notice went by): refused as the guard would have.
        if snapshot.blocked is not None:
            if self.connections.refuse(sid, snapshot.blocked["reason"]):
                self._leave(sid)
            raise blocked_problem(snapshot.blocked["reason"])
        if snapshot.closed:
            self._leave(sid)
            raise closed_problem()
        members = public_members(snapshot.members)  # the others hear of it from the notice
        ack = {
            "ok": True,
            "session": session,
            "invite_url": f"{self.config['PUBLIC_URL']}/s/{session}",
            "members": [{**m, "self": True} if m["id"] == member else m for m in members],
            "total": snapshot.total,
            "session_total": snapshot.session_total,
            "goal": entry.campaign.goal,
            "status": entry.status,
            "state": entry.public_state(self.store, snapshot.state),
            "messages": snapshot.messages,
            "mine": self.store.choices(cid, data.viewer),
        }
        ack["group_name"] = snapshot.name
        group_match = entry.group(snapshot.session)
        if group_match is not None:
            ack["group"] = group_match
        if room_full:
            ack["room_full"] = room_full
        return ack

    def _overflow(
        self, cid: str, session: str, viewer: str, name: str, seat: dict[str, Any]
    ) -> str:
        """The room a friend gets when ``session``'s is full: the group's next room, the same
        one for every friend who follows (and for the same friend reloading), created when
        there is none or it closed; a full one passes them on to its own next room."""
        for _ in range(OVERFLOW_HOPS):
            room = self.store.overflow_room(cid, session)
            if room is None or self.store.session_state(cid, room) != "open":
                room = self.store.create_session(cid, viewer, name)
                self.store.set_overflow_room(cid, session, room)
            try:
                self.store.join_session(cid, room, **seat)
                return room
            except RoomFull:
                session = room
        room = self.store.create_session(cid, viewer, name)  # a very long chain: start afresh
        self.store.join_session(cid, room, **seat)
        return room

    def act(self, sid: str, payload: Any) -> dict[str, Any]:
        data, connection, entry, effect = self.guard.act(sid, payload)
        result = self.store.record_action(
            connection.campaign,
            connection.session,
            connection.viewer,
            data.id,
            effect.amount,
            effect.per_viewer_cap,
            effect.state,
            origin=connection.origin,
            once=effect.once,
            choice=effect.choice,
            cooldown=effect.cooldown,
            match=entry.match,
            buckets=self.guard.act_buckets(connection, sid),
        )
        refusal = act_refusal(result, effect)
        if refusal is not None:
            raise refusal
        # Progress is due when the count script's notice comes back (socialads.realtime.listener):
        # it carries the numbers, so nothing is read again to tell the viewers.
        total, session_total = result.total, result.session_total
        parts = self.store.counter_parts(connection.campaign)
        if parts.count > 1:  # the numbers of the viewer's part: the ack carries the whole
            total, session_total = self.progress.in_whole(
                connection.campaign,
                connection.session,
                parts.index(connection.viewer),
                (total, session_total),
            )
        ack: dict[str, Any] = {"ok": True, "total": total, "session_total": session_total}
        if result.status == ActionStatus.DUPLICATE:
            ack["duplicate"] = True
        if result.matched:
            ack["matched"] = result.matched
        return ack

    def say(self, sid: str, payload: Any) -> dict[str, Any]:
        data, connection = self.guard.say(sid, payload)
        message: dict[str, Any] = {
            "text": data.text,
            "ts": int(time.time() * 1000),
            "author": {"id": connection.member, "name": connection.name, "brand_person": False},
        }
        try:
            posted, message = self.store.post_message(
                connection.campaign,
                connection.session,
                f"{connection.viewer}\0{data.id}",
                message,
                viewer=connection.viewer,
            )
        except SessionClosed:
            raise closed_problem() from None
        if posted:
            socketio.emit(
                "message", message, to=session_room(connection.campaign, connection.session)
            )
            socketio.emit(
                "message",
                {"session": connection.session, "message": message},
                to=admin_room(connection.campaign),
                namespace="/admin",
            )
        return {"ok": True, "message": message}

    def leave(self, sid: str, payload: Any) -> dict[str, Any]:
        self.guard.leave(payload)
        self._leave(sid)
        return {"ok": True}

    def disconnect(self, sid: str) -> None:
        self.guard.forget(sid)
        try:
            self._leave(sid)
        finally:
            self.guard.release(sid)

    def _leave(self, sid: str) -> None:
        connection = self.connections.remove(sid)
        if connection is None:
            return
        cid, session = connection.campaign, connection.session
        socketio.server.leave_room(sid, session_room(cid, session), namespace="/")
        try:
            self.store.leave_session(cid, session, sid)  # announced: see realtime.presence
        finally:  # Redis down: the member expires there, but here it is gone now
            with self.connections.lock:
                if not self.connections.has_session(cid, session):
                    self.presence.forget(session)
                    self.progress.forget_session(cid, session)

    # -- moderation -----------------------------------------------------------------------

    def drop_blocked(self, cid: str, member: str, reason: str) -> None:
        """A viewer was blocked from a campaign: take their connections to this process out of
        their sessions and tell their widgets; what they send next is refused."""
        for sid in self.connections.sids_of(cid, member):
            if not self.connections.refuse(sid, reason):
                continue  # gone meanwhile: nothing to refuse
            self._leave(sid)
            socketio.emit(
                "blocked",
                {"message": blocked_problem(reason).message, "reason": reason},
                to=sid,
                ignore_queue=True,
            )

    def drop_session(self, cid: str, session: str, reason: str) -> None:
        """The brand closed a session: take this process's connections out of it and tell
        their widgets (which start a new group)."""
        for sid in self.connections.sids_in(cid, session):
            self._leave(sid)
            socketio.emit(
                "closed",
                {"message": closed_problem(reason).message, "reason": reason},
                to=sid,
                ignore_queue=True,
            )
