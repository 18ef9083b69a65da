"""The live side: the Socket.IO viewer namespace (CONTRACT §4) and what one process keeps
of the viewers connected to it.

- `namespace`: the viewer namespace's handlers, each answering through its ack;
- `service`: the parts below wired together once per app, and the background loops;
- `connections`: who is connected to this process, by connection and by session;
- `guards`: may this go? Every check an event passes, in one order, and every refusal;
- `limits`: the buckets and connection caps every process shares, in Redis;
- `viewers`: what the events do (join and the overflow walk, act, say, leave, moderation);
- `presence`: who is in each session, and the heartbeat that keeps it true;
- `progress`: the coalescer that sends ``progress`` to this process's viewers;
- `listener`: the events channel between processes, heard and dispatched;
- `liveness`: the ``/healthz`` round trip through both pub/sub channels;
- `rooms`: the ``socketio`` singleton and the rooms it emits to;
- `wire`: the JSON codec and the adapter to python-socketio's internals.

May import: ``socialads.domain``, ``socialads.store``, ``socialads.protocol``,
``socialads.activities``, ``socialads.config``. Never a door (``web``, ``admin``) or
``runtime``.
"""
