"""What socialads means, apart from how it is reached: campaigns and their rules, the
payload schemas, the analytics' arithmetic, the words a unit speaks, viewers' public
names, the conversation with the brand's people, and the error every door answers with.

May import: ``socialads.store``, ``socialads.protocol``, ``socialads.activities`` and
``socialads.config``. Never a door (``web``, ``admin``), ``realtime`` or ``runtime``.
"""
