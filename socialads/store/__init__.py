"""Everything socialads keeps, in Redis, behind domain words.

`Store` is the facade: it holds one small object per domain (``store.chat``,
``store.actions`` ...) and names each of their operations, so the rest of the code calls
`record_action`, `join_session`, `post_message` and friends and never sees a key or a
script. The modules:

- ``keys``: the key layout (documented at its top) and the lifetimes of what is kept;
- ``scripts``: the Lua scripts (``lua/``) and the KEYS and ARGV of each, by name;
  ``batching``: the group commit of the count script;
- ``base``: the Redis clients and what every domain shares;
- ``records``: what is kept as typed records (`Campaign`, with its `Cause` and `Look`), the
  shape a campaign has wherever it crosses a module's boundary;
- one module per domain: ``accounts`` (brands, users, API tokens, brand people),
  ``campaigns`` (definitions), ``analytics`` (counters and stats), ``sessions``, ``joins``
  (seats, and the joins they count),
  ``presence``, ``actions`` (counting, choices, leaderboard, match), ``chat``,
  ``moderation``, ``limits`` (shared token buckets, connection caps), ``events`` (the
  channel between processes);
- ``parts``: a hot campaign's counts kept in K parts over the shards of a cluster.

May import: ``socialads.protocol``, ``socialads.activities`` (the widget contract), the
standard library and third-party libraries; never a door, the realtime side or the domain
layer.
"""

from __future__ import annotations

import redis

from socialads.store.accounts import Accounts, People, new_id
from socialads.store.actions import ActionResult, Actions
from socialads.store.analytics import Analytics
from socialads.store.base import Backend, listener_connection
from socialads.store.campaigns import Campaigns
from socialads.store.chat import Chat, SessionClosed
from socialads.store.clients import READER
from socialads.store.events import Events
from socialads.store.joins import JoinRefused, Joins, RoomFull
from socialads.store.limits import Limits
from socialads.store.moderation import Moderation
from socialads.store.presence import Presence
from socialads.store.records import Campaign
from socialads.store.sessions import Sessions, SessionSnapshot

__all__ = [
    "READER",
    "ActionResult",
    "Campaign",
    "JoinRefused",
    "RoomFull",
    "SessionClosed",
    "SessionSnapshot",
    "Store",
    "new_id",
]


class Store:
    """Domain operations over one Redis connection pool.

    Each operation is a method of one domain object; the facade's attributes of the same
    name are those very methods (no wrapper: the hot path pays nothing for the facade)."""

    def __init__(
        self,
        url: str,
        prefix: str = "sa",
        chat_keep: int = 200,
        ack_replicas: int | str = 0,
        ack_wait_ms: int = 500,
        counter_parts: int = 1,
    ):
        self.url = url
        self.prefix = prefix
        self.chat_keep = chat_keep
        backend = Backend(url, prefix, ack_replicas, ack_wait_ms, counter_parts)
        self.ack_replicas = backend.ack_replicas
        self.redis = backend.redis
        self.keys = backend.keys
        self.scripts = backend.scripts
        self.events_channel = backend.keys.events
        self.round_trips = backend.round_trips  # is Redis answering? (socialads_redis_up)
        self.process = backend.process  # this process's name in Redis
        self.counter_parts = backend.parts.of  # a campaign's parts (socialads.store.parts)

        self.accounts = Accounts(backend)
        self.create_brand = self.accounts.create_brand
        self.list_brands = self.accounts.list_brands
        self.get_brand = self.accounts.get_brand
        self.create_user = self.accounts.create_user
        self.get_user = self.accounts.get_user
        self.update_password = self.accounts.update_password
        self.brand_users = self.accounts.brand_users
        self.login_failures = self.accounts.login_failures
        self.count_login_failure = self.accounts.count_login_failure
        self.clear_login_failures = self.accounts.clear_login_failures
        self.create_api_token = self.accounts.create_api_token
        self.brand_for_token = self.accounts.brand_for_token

        self.people = People(backend)
        self.save_person = self.people.save_person
        self.brand_people = self.people.brand_people
        self.get_person = self.people.get_person
        self.delete_person = self.people.delete_person

        self.campaigns = Campaigns(backend)
        self.save_campaign = self.campaigns.save_campaign
        self.get_campaign = self.campaigns.get_campaign
        self.brand_campaigns = self.campaigns.brand_campaigns
        self.delete_campaign = self.campaigns.delete_campaign

        self.analytics = Analytics(backend)
        self.stats = self.analytics.stats
        self.minutes = self.analytics.minutes
        self.count_impression = self.analytics.count_impression
        self.count_invite_opened = self.analytics.count_invite_opened

        self.presence = Presence(backend)
        self.leave_session = self.presence.leave_session
        self.refresh_presence = self.presence.refresh_presence
        self.count_live = self.presence.count_live
        self.members = self.presence.members
        self.members_of = self.presence.members_of

        self.sessions = Sessions(backend, self.presence)
        self.session_campaign = self.sessions.session_campaign
        self.session_name = self.sessions.session_name
        self.session_exists = self.sessions.session_exists
        self.session_state = self.sessions.session_state
        self.session_open = self.sessions.session_open
        self.overflow_room = self.sessions.overflow_room
        self.set_overflow_room = self.sessions.set_overflow_room
        self.create_session = self.sessions.create_session
        self.joins = Joins(backend, self.presence, self.sessions)
        self.join_session = self.joins.join_session
        self.session_snapshot = self.sessions.session_snapshot

        self.actions = Actions(backend)
        self.record_action = self.actions.record_action
        self.choices = self.actions.choices
        self.campaign_progress = self.actions.campaign_progress
        self.progress_by_part = self.actions.progress_by_part
        self.leaderboard = self.actions.leaderboard
        self.match_summary = self.actions.match_summary

        self.chat = Chat(backend, chat_keep)
        self.post_message = self.chat.post_message
        self.post_brand_reply = self.chat.post_brand_reply
        self.brand_replies = self.chat.brand_replies
        self.median_reply_seconds = self.chat.median_reply_seconds
        self.reply_seconds = self.chat.reply_seconds
        self.talk_summary = self.chat.talk_summary
        self.conversations = self.chat.conversations

        self.moderation = Moderation(backend)
        self.session_message = self.moderation.session_message
        self.hide_message = self.moderation.hide_message
        self.blocked = self.moderation.blocked
        self.blocked_viewers = self.moderation.blocked_viewers
        self.block_viewer = self.moderation.block_viewer
        self.unblock_viewer = self.moderation.unblock_viewer
        self.close_session = self.moderation.close_session
        self.moderation_log = self.moderation.moderation_log

        self.limits = Limits(backend)
        self.take_tokens = self.limits.take_tokens
        self.take_connect_token = self.limits.take_connect_token
        self.admit_connection = self.limits.admit_connection
        self.release_connection = self.limits.release_connection
        self.refresh_connections = self.limits.refresh_connections

        self.events = Events(backend)
        self.publish_ping = self.events.publish_ping

    def listener_connection(self) -> redis.Redis:
        """A connection for pub/sub (``socialads.store.base.listener_connection``)."""
        return listener_connection(self.url)

    def ping(self) -> bool:
        return bool(self.redis.ping())
