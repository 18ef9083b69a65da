"""``socialads demo``: a whole working product on one machine, in one command."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
from pathlib import Path

from gevent import pywsgi

from socialads import create_app
from socialads.config import ROOT
from socialads.domain import campaigns
from socialads.domain.accounts import make_brand
from socialads.runtime.embedded_redis import EmbeddedRedis
from socialads.runtime.server import run
from socialads.web.publisher import publisher_app

DEMO_EMAIL = "demo@socialads.test"
DEMO_CAMPAIGN = {
    "name": "Plant 10,000 trees",
    "activity": "pledge",
    "cause": {
        "title": "Plant 10,000 trees along the Ashdown river",
        "description": "Floods took the old river woods. Pledge to plant a tree with your "
        "friends: at 10,000 pledges, Acme Outdoor funds the planting with the "
        "Ashdown Rivers Trust, and its people report back here.",
    },
    "goal": 10000,
    "promise": "At 10,000 pledges, Acme Outdoor funds 10,000 native trees.",
    # With friends: every 3 people of a group who pledge unlock one more tree from the brand.
    "settings": {
        "unit": "tree",
        "unit_plural": "trees",
        "button_label": "Pledge a tree",
        "match_every": 3,
        "match_amount": 1,
        "match_pool": 500,
    },
    "status": "live",
    "look": {"accent": "#0b6e4f", "theme": "light"},
}

DEMO_PERSON = {
    "id": "p_demoplanting",
    "name": "Jo Rivera",
    "role": "Planting lead",
    "photo_url": "",
    "bio": "Runs Acme Outdoor's planting days with the Ashdown Rivers Trust.",
}


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, from its first byte (no window at the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(0o600)  # an older file keeps its mode through O_CREAT


def _seed(app, state_file: Path, publisher_origin: str) -> dict:
    """Create the demo brand, user, token and live campaign once; reuse them afterwards."""
    store = app.extensions["socialads.store"]
    if state_file.exists():
        state = json.loads(state_file.read_text())
        campaign = store.get_campaign(state["campaign_id"])
        if campaign and store.get_user(state["email"]):
            # A demo started on another port has its publisher page on another origin.
            if publisher_origin not in campaign.allowed_origins:
                campaigns.update(
                    store,
                    campaign,
                    {"allowed_origins": [*campaign.allowed_origins, publisher_origin][-20:]},
                )
            return state
    password = secrets.token_urlsafe(9)
    brand = (
        make_brand(store, "Acme Outdoor", DEMO_EMAIL, password)
        if not store.get_user(DEMO_EMAIL)
        else None
    )
    if brand is None:  # the user exists in an external Redis but our state file is gone
        brand_id = store.get_user(DEMO_EMAIL)["brand_id"]
        brand = {"brand_id": brand_id, "api_token": store.create_api_token(brand_id)}
        # Not a password: the note printed where the password would be.
        password = "(unchanged: the demo user already existed in this Redis)"  # noqa: S105
    # Someone from the brand to answer viewers as, featured in the campaign.
    people = store.brand_people(brand["brand_id"])
    if not people:
        store.save_person(brand["brand_id"], DEMO_PERSON)
        people = [DEMO_PERSON]
    campaign = campaigns.create(
        store,
        brand["brand_id"],
        {**DEMO_CAMPAIGN, "allowed_origins": [publisher_origin], "people": [people[0]["id"]]},
    )
    state = {
        "brand_id": brand["brand_id"],
        "api_token": brand["api_token"],
        "email": DEMO_EMAIL,
        "password": password,
        "campaign_id": campaign.id,
    }
    _write_private(state_file, json.dumps(state, indent=2))
    return state


def run_demo(host: str, port: int) -> None:
    instance = Path(os.environ.get("SOCIALADS_INSTANCE_DIR", "instance")).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    secret_file = instance / "secret_key"
    if not secret_file.exists():
        _write_private(secret_file, secrets.token_hex(32))
    # However the demo is stopped, its Redis stops too: SIGTERM becomes SystemExit, and Ctrl-C
    # raises KeyboardInterrupt even where the shell started us with SIGINT ignored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)

    embedded = None
    redis_url = os.environ.get("SOCIALADS_REDIS_URL")
    if not redis_url:
        embedded = EmbeddedRedis(instance / "redis").start()
        redis_url = embedded.url
    try:
        public_url = os.environ.get("SOCIALADS_PUBLIC_URL", f"http://{host}:{port}")
        app = create_app(
            {
                "REDIS_URL": redis_url,
                "PUBLIC_URL": public_url,
                "ASYNC_MODE": "gevent",
                "SECRET_KEY": os.environ.get("SOCIALADS_SECRET_KEY") or secret_file.read_text(),
            }
        )
        publisher_origin = f"http://localhost:{port + 1}"
        state = _seed(app, instance / "demo.json", publisher_origin)
        where = f" (embedded, AOF in {instance / 'redis'})" if embedded else ""
        publisher = pywsgi.WSGIServer(
            (host, port + 1),
            publisher_app(ROOT / "examples" / "publisher", public_url, state["campaign_id"]),
            log=None,
        )
        banner = f"""
socialads demo is running.

  Publisher page (another origin)  {publisher_origin}/
  Two units on one page            {publisher_origin}/two-units.html
  The widget alone                 {public_url}/w/{state["campaign_id"]}
  Health                           {public_url}/healthz
  API token (brand Acme Outdoor)   {state["api_token"]}
      try: curl -H 'Authorization: Bearer {state["api_token"]}' {public_url}/api/v1/campaigns
  Admin login (for the brand admin) {state["email"]} / {state["password"]}
  Redis                            {redis_url}{where}

Press Ctrl-C to stop.
"""
        run(app, host, port, extra_servers=(publisher,), on_ready=lambda: print(banner, flush=True))
    except KeyboardInterrupt:
        pass
    finally:
        if embedded:
            embedded.stop()
        print("socialads demo stopped.", flush=True)
