"""Running socialads: the command line, the gevent server, the demo, the embedded Redis and
the helpers that start and stop real processes (for the demo, the tests and the bench).

May import anything of the package; nothing else in the package imports it.
"""
