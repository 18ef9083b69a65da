"""Helpers the tests share: plain modules, imported by ``tests/conftest.py`` and by test
modules alike. A test module never imports another test module; what two of them need lives
here, and the fixtures built on it live in ``tests/conftest.py``.

- ``seeds``: the test secret, the default campaign, and brands and campaigns in any Redis.
- ``viewers``: a person in a widget over a real Socket.IO client; a raw WebSocket handshake.
- ``admin``: a brand user in the admin (test client or HTTP), a full editor form, the brand's
  people and conversations seeded in the store.
- ``servers``: `socialads serve` processes tuned for tests, small WSGI servers, /healthz.
- ``browser``: Chromium's settings, the ad unit in a page, waits on its text, axe-core.
- ``pages``: what a rendered widget page must hold (its hooks, no English left).
- ``widgets``: what a built-in widget's rules and browser tests share (the quiz's questions).
- ``faults``: a TCP proxy in front of Redis that can silently cut pub/sub connections.
- ``nginx``: the shipped nginx.conf rendered for a test, and visitors reaching it over TLS.
- ``waiting``: poll until a condition holds, failing only as a timeout of the wait.
"""
