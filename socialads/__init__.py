"""socialads: ads as small live rooms where people act together for a cause."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask

from socialads.config import Defaults


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``SOCIALADS_*`` variables, then ``config`` (tests win)."""
    app = Flask(__name__, static_folder=None)
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("SOCIALADS")
    app.config.update(config or {})
    if not app.config["SECRET_KEY"]:
        # Tools (`brand create`) need no stable secret; `serve` refuses to start without one.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config["PUBLIC_URL"] = app.config["PUBLIC_URL"].rstrip("/")
    if app.config["PUBLIC_URL"].startswith("https:"):
        app.config["SESSION_COOKIE_SECURE"] = True

    from socialads.domain.campaigns import Campaigns
    from socialads.metrics import Metrics
    from socialads.realtime.bus import Bus
    from socialads.realtime.floor import install as install_floor
    from socialads.realtime.liveness import Liveness
    from socialads.realtime.namespace import bind, serve_events
    from socialads.realtime.rooms import socketio
    from socialads.realtime.service import Realtime
    from socialads.realtime.wire import (
        LocalManager,
        OrjsonWire,
        QueueManager,
        refuse_malformed_packets,
    )
    from socialads.store import Store

    store = Store(
        app.config["REDIS_URL"],
        app.config["KEY_PREFIX"],
        app.config["CHAT_KEEP"],
        ack_replicas=app.config["ACK_REPLICAS"],
        ack_wait_ms=app.config["ACK_WAIT_MS"],
        counter_parts=app.config["COUNTER_PARTS"],
    )
    campaigns = Campaigns(store, app.config["CAMPAIGN_CACHE_SECONDS"])
    metrics = Metrics()
    # This process's ears (socialads.realtime.bus); its name is in its listeners' own channels.
    bus = Bus(store, metrics, store.process)
    liveness = Liveness(
        store, bus.probes, app.config["HEALTH_TIMEOUT"], app.config["QUEUE_CHECK_INTERVAL"]
    )
    app.extensions["socialads.store"] = store
    app.extensions["socialads.campaigns"] = campaigns
    app.extensions["socialads.liveness"] = liveness
    app.extensions["socialads.metrics"] = metrics
    realtime = Realtime(app, store, campaigns, bus, liveness, metrics)
    bind(app, realtime)

    from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

    from socialads.activities import load_activities

    # Each activity's template.html is reachable as "<activity>/template.html".
    own = app.jinja_loader
    if own is None:  # never: the app has a template folder; said for the type checker
        raise RuntimeError("socialads/templates is missing")
    app.jinja_loader = ChoiceLoader(
        [
            own,
            PrefixLoader(
                {
                    name: FileSystemLoader(activity.folder)
                    for name, activity in load_activities().items()
                }
            ),
        ]
    )

    from socialads.admin import bp as admin_bp
    from socialads.admin.auth import login_manager
    from socialads.extensions import SessionInterface, csrf
    from socialads.web import api, embed, health
    from socialads.web import metrics as metrics_page

    app.register_blueprint(embed.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics_page.bp)
    app.register_blueprint(admin_bp)
    app.session_interface = SessionInterface()
    login_manager.init_app(app)
    csrf.init_app(app)
    csrf.exempt(api.bp)  # bearer tokens, not cookies: no cross-site request to forge

    # python-socketio's pub/sub manager on our bus: an emit to a campaign's room reaches the
    # processes serving the campaign (socialads.realtime.wire).
    manager = QueueManager(bus) if app.config["MESSAGE_QUEUE"] else LocalManager(bus)
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        client_manager=manager,
        max_http_buffer_size=app.config["MAX_SOCKET_FRAME"],
        # One client's events run in order, in its own greenlet: a `disconnect` can never
        # overtake the `join` before it (which would leave a ghost in presence), and an `act`
        # sent right after `join` finds the viewer joined.
        async_handlers=False,
        # Same-origin only: the widget is served by us, so its socket comes from our origin;
        # any other page's socket is refused (no cross-site WebSocket hijacking).
        cors_allowed_origins=None,
        manage_session=False,
        ping_interval=20,
        ping_timeout=20,
        json=OrjsonWire,
    )
    refuse_malformed_packets(socketio.server)
    serve_events(socketio.server, realtime)  # the viewers' events, outside Flask's context
    # One frame per payload, written from the sender (socialads.realtime.floor), counted.
    server = socketio.server
    install_floor(server, metrics)
    metrics.watch(
        connections=lambda: len(server.eio.sockets),
        viewers=realtime.connections.count,
    )
    metrics.redis_up.set_function(lambda: 1 if store.round_trips.up else 0)
    if app.config["TRUSTED_PROXIES"]:
        # Outside the Socket.IO middleware, so sockets see the client's address too.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way
            app.wsgi_app, x_for=hops, x_proto=hops
        )
    return app
