"""Configuration defaults. Every value can be set from the environment as ``SOCIALADS_<NAME>``
(read with Flask's ``from_prefixed_env``, so numbers and booleans are parsed as JSON)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    # Signs member ids and (later) admin sessions. `serve` refuses to start without one.
    SECRET_KEY: str | None = None
    # Where all state lives. `demo` starts an embedded Redis when this is unset.
    REDIS_URL = "redis://127.0.0.1:6379/0"
    # The public origin of this service: invite links and the embed snippet use it.
    PUBLIC_URL = "http://127.0.0.1:5000"
    # Prefix of every Redis key and channel, so several deployments can share a Redis.
    KEY_PREFIX = "sa"
    # "threading" for tests and tools; `serve` and `demo` run with "gevent".
    ASYNC_MODE = "threading"
    # Use the Redis message queue so several processes form one service.
    MESSAGE_QUEUE = True
    # Request bodies above this size are refused with 413 `too_large`.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # A Socket.IO frame above this size is refused by the transport.
    MAX_SOCKET_FRAME = 64 * 1024
    # A Socket.IO event payload above this many bytes (as JSON) answers `too_large`.
    MAX_EVENT_BYTES = 8 * 1024
    # Presence: a member whose process stops refreshing disappears after this many seconds.
    PRESENCE_TTL = 30
    HEARTBEAT_INTERVAL = 10
    # Progress updates per client are coalesced to one per this many seconds (at most): eight
    # a second, so that updates a busy process delivers late still never make a viewer's
    # second hold more than ten (CONTRACT §4: "at most about 10 per second").
    PROGRESS_INTERVAL = 0.125
    PRESENCE_INTERVAL = 1.0  # a session's viewers get its roster at most once a second
    # An action is acknowledged only once this many replicas have its write (Redis WAIT in
    # the count's own round trip; `unavailable` when they do not confirm within ACK_WAIT_MS,
    # and the widget re-sends): a master that dies then loses nothing acknowledged. "auto":
    # 1 on a Redis Cluster whose masters all have a replica, else 0 (do not wait).
    ACK_REPLICAS: int | str = "auto"
    ACK_WAIT_MS = 500
    # A campaign created while this is K > 1 keeps its counts in K parts, each in a hash slot
    # of its own (socialads.store.parts): on a cluster, one campaign's actions then spread over
    # every shard instead of one core. Fixed per campaign at its creation; 1 for a campaign
    # with a group match (its count of people is one). On one Redis it buys nothing.
    COUNTER_PARTS = 1
    # Messages in a join snapshot; how many a session keeps for `since`.
    CHAT_SNAPSHOT = 50
    CHAT_KEEP = 200
    # Per-connection token buckets: (burst, refill per second).
    # CONTRACT §4: limits never bite below 20 in a burst and 5 a second per connection.
    ACT_RATE = (30, 10)
    SAY_RATE = (20, 5)
    JOIN_RATE = (20, 5)
    # The same events also take a token from buckets in Redis shared by every process (see
    # socialads/realtime/limits.py): per viewer over all their tabs in a campaign, and per client
    # address (generous: an office shares one address behind its NAT). `null` turns one off.
    VIEWER_ACT_RATE = (90, 30)
    VIEWER_SAY_RATE = (40, 10)
    VIEWER_JOIN_RATE = (40, 10)
    IP_ACT_RATE = (2000, 200)
    IP_SAY_RATE = (500, 50)
    IP_JOIN_RATE = (1000, 100)
    # Socket.IO connects per address (burst, per second), and live connections per address:
    # a connect beyond either is refused with `rate_limited`.
    IP_CONNECT_RATE = (1000, 100)
    CONNECTIONS_PER_IP = 2000
    # Reverse proxies in front of `serve` (nginx: 1). The client address (for the limits above
    # and failed logins) is then read from X-Forwarded-For with werkzeug's ProxyFix; with 0
    # it is the socket's peer, and X-Forwarded-For is ignored (anyone can send it).
    TRUSTED_PROXIES = 0
    # /healthz proves a round trip through the message queue and our events channel within
    # this many seconds; a watchdog does the same every QUEUE_CHECK_INTERVAL seconds and
    # reconnects a listener that did not hear it (a "deaf worker").
    HEALTH_TIMEOUT = 1.0
    QUEUE_CHECK_INTERVAL = 10
    # Each client socket's kernel send buffer in bytes (SO_SNDBUF); unset, the kernel's own.
    # A socket whose buffer is full holds its frames in the process (socialads.realtime.floor).
    SEND_BUFFER: int | None = None
    # GET /metrics (Prometheus) answers only `Authorization: Bearer <this>`; unset, it is 404.
    METRICS_TOKEN: str | None = None
    # Campaign definitions are cached per process for this long (changes also invalidate).
    CAMPAIGN_CACHE_SECONDS = 5
    # The admin's session cookie: never readable by scripts, not sent on cross-site requests,
    # Secure whenever PUBLIC_URL is https (set in create_app). Widgets set no cookies at all.
    SESSION_COOKIE_NAME = "socialads_admin"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    WTF_CSRF_TIME_LIMIT = 12 * 3600
    # The activity a new campaign starts with in the admin editor (any installed one).
    DEFAULT_ACTIVITY = "pledge"
    # Built front-end assets (``make build``).
    STATIC_DIR = str(ROOT / "static" / "dist")
    EXAMPLES_DIR = str(ROOT / "examples")
