"""The Redis key layout: every key and channel socialads uses is named here, and only here.

Keys of one campaign share the hash tag ``{<campaign id>}`` so a Redis Cluster keeps them in
one slot and the Lua scripts (which touch several of them) stay legal there. Brands, users
and addresses are tagged by their own id the same way. A session's room (who is in it now,
who ever joined) is tagged by campaign and session, ``{C/T}``: seats and heartbeats are most
of what a popular campaign asks of Redis, and this way its sessions spread over every shard
of a cluster instead of weighing on its own.

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
                                        connections from an address (socialads.store.limits)
    sa:ip:{IP}:connect          hash    token bucket {tokens, stamp} of an address's connects
    sa:brand:{B}:people         hash    person id -> JSON {id, name, role, photo_url, bio}: the
                                        named people who speak for brand B
    sa:token:SHA256             string  brand id (tokens are stored hashed, never in clear)
    sa:c:{C}                    string  campaign JSON (definition only, no counters)
    sa:c:{C}:n                  hash    counters: total, actions, impressions, sessions,
                                        invite_joins, messages, brand_replies, matched
                                        and for the analytics (socialads.store.analytics): joins,
                                        invites_opened, invited_sessions, seed_sessions,
                                        friends_acted, cycle_seconds, cycle_joins
    sa:c:{C}:parts              string  K, the parts the campaign's counts are kept in (fixed at
                                        its creation; missing: 1). Part k > 0 is the same keys
                                        under the tag {C~k}, for what the count script writes
                                        (socialads.store.parts): n (total, actions,
                                        friends_acted), state, engaged, t:M (actions), o:actions,
                                        done:V, v:V, rl:*:act, board, bus, and s:T (total, closed)
                                        expiring SESSION_TTL after its latest action
    sa:c:{C}:viewers            HLL     distinct viewer ids that joined
    sa:c:{C}:engaged            HLL     distinct viewer ids that acted or chatted
    sa:c:{C}:v:V                hash    viewer V's own state: n (actions counted, for
                                        per-viewer caps), last (ms of their last counted
                                        action, for cooldowns), f (0 once they arrived through
                                        an invite, 1 once they acted too), o:K (their once-only
                                        choice for key K: a vote, an answer); expires
                                        VIEWER_TTL (30 days) after V's latest action or invited
                                        join
    sa:c:{C}:friends            hash    before v:V: viewer -> 0/1 (invited, acted); read, and
                                        moved to v:V at the viewer's next action
    sa:c:{C}:o:F                hash    publisher origin -> count of F (impressions, joins,
                                        actions): the first ORIGINS_KEPT (1,000) origins, the
                                        rest counted under "other"
    sa:c:{C}:t:M                hash    impressions, joins, actions in minute M (Unix time //
                                        60); expires after SERIES_TTL (8 days)
    sa:c:{C}:done:V             set     viewer V's counted action ids (dedupe); expires
                                        DEDUPE_TTL (7 days) after V's latest counted action
    sa:c:{C}:done               set     "viewer NUL action id" of actions counted before
                                        dedupe was per viewer: only read (no new entries)
    sa:c:{C}:pv                 hash    before v:V: viewer -> actions counted; moved likewise
    sa:c:{C}:state              hash    activity state counters (e.g. votes per option)
    sa:c:{C}:mine:V             hash    before v:V: V's one-time choices; moved likewise
    sa:c:{C}:last               hash    before v:V: viewer -> last action (ms); dropped at
                                        the viewer's next action
    sa:c:{C}:board              zset    session token -> session total (the leaderboard): the
                                        top BOARD_KEPT (1,000) sessions
    sa:c:{C}:ledger             list    the public match ledger, newest first: JSON {name,
                                        amount, people, at} of each group match unlocked;
                                        the latest LEDGER_KEPT are kept
    sa:c:{C}:here               hash    process id -> its connections joined to C, and
                                        "process id:until" -> when that count expires (its
                                        heartbeat pushes it forward): the live viewers are
                                        the sum of the counts not expired
    sa:c:{C}:live               zset    before :here: connection id -> heartbeat expiry;
                                        deleted by the next read of the campaign's stats
    sa:c:{C}:rl:v:V:E           hash    token bucket {tokens, stamp} of viewer V's events E
                                        (act, say, join) in the campaign (socialads.store.limits)
    sa:c:{C}:rl:ip:IP:E         hash    the same per address IP
    sa:c:{C}:s:T                hash    session T: created_at, leader, name, total, msg_seq,
                                        waiting_since (see :replies), opens (of its invite),
                                        closed (JSON record, once the brand closed it),
                                        overflow (the group's next room when this one is full),
                                        people (who acted) and matched (group match unlocked)
    sa:c:{C}:s:T:a              set     viewers who acted in session T (group match only)
    sa:s:{C/T}:p                zset    connection id -> heartbeat expiry (presence)
    sa:s:{C/T}:m                hash    connection id -> member JSON {viewer, id, name, t}
    sa:s:{C/T}:v                set     viewers that ever joined session T (these three were
                                        sa:c:{C}:s:T:p, :m and :v before; on one Redis, at the
                                        session's next join, :v is merged here and the old
                                        three deleted: the old presence, of processes from
                                        before, goes with them)
    sa:c:{C}:s:T:chat           list    the latest messages as JSON
    sa:c:{C}:s:T:sent           hash    "viewer NUL client message id" -> message JSON
    sa:c:{C}:s:T:hidden         hash    message id -> JSON of a hidden message without its
                                        text: {id, ts, author, hidden: {at, reason, by}}
    sa:c:{C}:talk               zset    session token -> ms of its latest message: the sessions
                                        with a conversation, latest first
    sa:c:{C}:replies            list    seconds a session waited for a brand reply, counted
                                        from its oldest unanswered viewer message (session
                                        field ``waiting_since``); newest first, the last
                                        REPLIES_KEPT
    sa:c:{C}:reply_median       string  median of that list, updated with each reply
    sa:c:{C}:blocked            hash    member id -> JSON {at, reason, by, name}: viewers blocked
                                        from the campaign
    sa:c:{C}:modlog             list    moderation log, newest first: JSON {at, action, reason,
                                        by, message?, user}; public, so never a hidden text
    sa:session:T                string  campaign id of session T (outlives the session so an
                                        expired invite can still offer its campaign)

Channels carry JSON between processes (``socialads.store.events``, ``socialads.realtime.bus``):

    sa:c:{C}:bus                what concerns campaign C (totals, rosters, blocks, chat for its
                                rooms), heard by the processes serving its viewers; sharded
                                pub/sub (SPUBLISH, in C's slot) on a cluster
    sa:c:{C~k}:bus              the totals of part k of C's counts, heard by the same processes
    sa:events                   what concerns every process (a campaign changed)
    sa:hear:{H.N}               a liveness nonce to one of process H's listeners

The lifetimes below are part of the layout; ``socialads.store.scripts`` hands them to the
Lua scripts as constants, so Python and Lua keep one number each.
"""

from __future__ import annotations

# Most page views start a session nobody else ever joins: those expire after a week. Once a
# friend joins, a session is kept for a month and its invite link remembers the campaign for
# a year.
SOLO_SESSION_TTL = 7 * 24 * 3600
SESSION_TTL = 30 * 24 * 3600
INVITE_LOOKUP_TTL = 365 * 24 * 3600
SERIES_TTL = 8 * 24 * 3600  # per-minute buckets outlive the week a brand looks back on
# A viewer's counted action ids are kept this long after their latest action: a widget
# re-sends what was not acknowledged within seconds of a reconnect, and gives up with the tab;
# a week is far longer than any reconnect, and the dedupe no longer grows with the campaign.
DEDUPE_TTL = 7 * 24 * 3600
# A viewer's own state (actions counted, cooldown, once-only choices, invited) is kept this long
# after their latest action: a vote stays once-only for a month after the voter was last seen,
# and the campaign's memory no longer grows with every viewer it ever had.
VIEWER_TTL = 30 * 24 * 3600
# Bounded lists: the distinct publisher origins a campaign counts by name (the rest under
# "other": origins are what clients say, so a flood of made-up ones must not grow a hash), and
# the sessions its leaderboard keeps (it shows the first few).
ORIGINS_KEPT = 1000
OTHER_ORIGIN = "other"
BOARD_KEPT = 1000
REPLIES_KEPT = 1000  # reply latencies kept per campaign for the median
LEDGER_KEPT = 10_000  # public match ledger entries kept per campaign
CAMPAIGN_KEYS_CACHED = 1024  # campaigns whose keys one process keeps built (see Keys.campaign)


class SessionKeys:
    """The keys of one session: its hash ``sa:c:{C}:s:T`` and what the count script touches
    beside it in the campaign's slot, and its room ``sa:s:{C/T}:…`` in a slot of its own."""

    __slots__ = ("hash", "room")

    def __init__(self, session_hash: str, room: str):
        self.hash = session_hash  # created_at, leader, name, total, msg_seq, ...
        self.room = room  # sa:s:{C/T}

    @property
    def acted(self) -> str:
        return self.hash + ":a"

    @property
    def presence(self) -> str:
        return self.room + ":p"

    @property
    def members(self) -> str:
        return self.room + ":m"

    @property
    def viewers(self) -> str:
        return self.room + ":v"

    def before(self, part: str) -> str:
        """Where room key ``part`` (``p``, ``m``, ``v``) was kept before it had a slot of its
        own, beside the session's hash."""
        return f"{self.hash}:{part}"

    @property
    def chat(self) -> str:
        return self.hash + ":chat"

    @property
    def sent(self) -> str:
        return self.hash + ":sent"

    @property
    def hidden(self) -> str:
        return self.hash + ":hidden"


class CampaignKeys:
    """The keys of one campaign, built once: the count script of every act needs a dozen."""

    __slots__ = (
        "definition",
        "counters",
        "viewers",
        "engaged",
        "friends",
        "done",
        "per_viewer",
        "state",
        "last_action",
        "board",
        "ledger",
        "live",
        "here",
        "talk",
        "replies",
        "reply_median",
        "blocked",
        "modlog",
        "origin_actions",
        "bus",
        "parts",
        "_tag",
        "_rooms",
    )

    def __init__(self, prefix: str, cid: str, part: int = 0):
        # Part k > 0 of a campaign's counts (socialads.store.parts) has the same keys under
        # a tag of its own, {C~k}; only those the count script writes are ever used there.
        definition = f"{prefix}:c:{{{cid}~{part}}}" if part else f"{prefix}:c:{{{cid}}}"
        self.definition = definition  # sa:c:{C}, the campaign JSON
        self.counters = definition + ":n"
        self.viewers = definition + ":viewers"
        self.engaged = definition + ":engaged"
        self.friends = definition + ":friends"
        self.done = definition + ":done"  # before per-viewer dedupe: read, never written
        self.per_viewer = definition + ":pv"
        self.state = definition + ":state"
        self.last_action = definition + ":last"
        self.board = definition + ":board"
        self.ledger = definition + ":ledger"
        self.live = definition + ":live"  # before `here`: deleted as the stats are read
        self.here = definition + ":here"
        self.talk = definition + ":talk"
        self.replies = definition + ":replies"
        self.reply_median = definition + ":reply_median"
        self.blocked = definition + ":blocked"
        self.modlog = definition + ":modlog"
        self.bus = definition + ":bus"  # the campaign's channel (in its slot on a cluster)
        self.parts = definition + ":parts"  # how many parts its counts are kept in
        self._tag = definition + ":"
        self._rooms = f"{prefix}:s:{{{cid}/"
        self.origin_actions = self.by_origin("actions")  # the count script's, built once

    def by_origin(self, field: str) -> str:
        """Publisher origin -> count of ``field`` (impressions, joins, actions)."""
        return f"{self._tag}o:{field}"

    def minute(self, minute: int) -> str:
        """Impressions, joins, actions in ``minute`` (Unix time // 60)."""
        return f"{self._tag}t:{minute}"

    def done_by(self, viewer: str) -> str:
        """Viewer ``viewer``'s counted action ids (the dedupe)."""
        return f"{self._tag}done:{viewer}"

    def choices(self, viewer: str) -> str:
        """A viewer's once-only choices as kept before `viewer_state` (read, then moved)."""
        return f"{self._tag}mine:{viewer}"

    def viewer_state(self, viewer: str) -> str:
        """Viewer ``viewer``'s own state in the campaign (see the layout above)."""
        return f"{self._tag}v:{viewer}"

    def bucket(self, scope: str, whose: str, event: str) -> str:
        """A shared token bucket: ``scope`` ``"v"`` (viewer) or ``"ip"``, for ``event``."""
        return f"{self._tag}rl:{scope}:{whose}:{event}"

    def session_hash(self, token: str) -> str:
        return f"{self._tag}s:{token}"

    def session_acted(self, token: str) -> str:
        """Viewers who acted in session ``token`` (the count script's; see `SessionKeys`)."""
        return f"{self._tag}s:{token}:a"

    def session(self, token: str) -> SessionKeys:
        return SessionKeys(f"{self._tag}s:{token}", f"{self._rooms}{token}}}")


class Keys:
    """Every key under one prefix (``KEY_PREFIX``)."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.events = f"{prefix}:events"  # the global channel between processes
        self.brands = f"{prefix}:brands"
        self._campaigns: dict[str, CampaignKeys] = {}

    def campaign(self, cid: str) -> CampaignKeys:
        """The keys of campaign ``cid``, kept for the next call (a bounded cache: ids come
        from viewers, so a flood of made-up ones only empties it)."""
        found = self._campaigns.get(cid)
        if found is None:
            if len(self._campaigns) >= CAMPAIGN_KEYS_CACHED:
                self._campaigns.clear()
            found = self._campaigns[cid] = CampaignKeys(self.prefix, cid)
        return found

    def bus(self, cid: str) -> str:
        """Campaign ``cid``'s channel between processes."""
        return self.campaign(cid).bus

    def probe(self, host: str, n: int) -> str:
        """A channel only process ``host`` listens on (a liveness nonce): ``n`` picks its
        slot on a cluster, where each listener of a process needs one on its own node."""
        return f"{self.prefix}:hear:{{{host}.{n}}}"

    def session_campaign(self, token: str) -> str:
        """The campaign id of session ``token`` (outlives the session)."""
        return f"{self.prefix}:session:{token}"

    def brand(self, brand_id: str) -> str:
        return f"{self.prefix}:brand:{{{brand_id}}}"

    def brand_campaigns(self, brand_id: str) -> str:
        return f"{self.prefix}:brand:{{{brand_id}}}:campaigns"

    def brand_tokens(self, brand_id: str) -> str:
        return f"{self.prefix}:brand:{{{brand_id}}}:tokens"

    def brand_users(self, brand_id: str) -> str:
        return f"{self.prefix}:brand:{{{brand_id}}}:users"

    def brand_people(self, brand_id: str) -> str:
        return f"{self.prefix}:brand:{{{brand_id}}}:people"

    def api_token(self, digest: str) -> str:
        return f"{self.prefix}:token:{digest}"

    def user(self, email: str) -> str:
        return f"{self.prefix}:user:{{{email.lower()}}}"

    def login_failures(self, email: str) -> str:
        return f"{self.prefix}:login-fail:{{{email.lower()}}}"

    def login_failures_from(self, ip: str) -> str:
        return f"{self.prefix}:login-fail-ip:{{{ip}}}"

    def connections(self, ip: str) -> str:
        """An address's live Socket.IO connections."""
        return f"{self.prefix}:ip:{{{ip}}}:conns"

    def connect_bucket(self, ip: str) -> str:
        """An address's token bucket of connects."""
        return f"{self.prefix}:ip:{{{ip}}}:connect"
