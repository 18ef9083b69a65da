"""The HTTP doors for publishers, viewers, brands' systems and operators: the embed loader,
the widget and landing pages, the JSON API and its OpenAPI document, ``/healthz``, the built
front-end assets, and the example publisher site the demo and tests serve.

May import: ``socialads.realtime``, ``socialads.domain``, ``socialads.store`` and the
modules at the package's top. Never ``runtime``; ``admin`` may borrow the unit's rendering
from ``web.embed`` (its preview), never the other way round.
"""
