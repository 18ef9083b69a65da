"""The live side: the Socket.IO viewer namespace (CONTRACT §4) and what one process keeps
of the viewers connected to it — connections, their guards, presence, the progress
coalescer, the events-channel listener, the liveness round trip and the wire codec.

May import: ``socialads.domain``, ``socialads.store``, ``socialads.protocol``,
``socialads.activities``, ``socialads.config``. Never a door (``web``, ``admin``) or
``runtime``.
"""
