"""A brand's side of things. ``AdminSession`` logs in through the real login form (its CSRF
token included) on a Flask test client, ``WebAdmin`` does the same over HTTP to a real `serve`
process (and opens its ``/admin`` socket); ``FORM`` is the editor's form of a complete
campaign, as a browser posts it; and the brand's people and their conversations, seeded
straight in the store."""

from __future__ import annotations

import html
import random
import re
import time
import uuid

import requests
import socketio

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

FORM = {
    "name": "Plant a forest",
    "activity": "pledge",
    "status": "live",
    "cause.title": "Plant a forest",
    "cause.description": "One tree per pledge.\r\nTogether.",
    "cause.image_url": "https://cdn.example/forest.jpg",
    "goal": "5,000",
    "promise": "At 5,000 pledges we plant 5,000 trees.",
    "settings.pledge.unit": "tree",
    "settings.pledge.unit_plural": "trees",
    "settings.pledge.button_label": "Plant",
    "settings.pledge.amount": "1",
    "settings.pledge.max_per_viewer": "3",
    "look.accent": "#aa3300",
    "look.theme": "dark",
    "allowed_origins": "https://news.example\r\n\r\nhttp://localhost:8001/\r\n",
    "starts_at": "2030-06-01T09:00",
    "ends_at": "2030-07-01T18:30",
}


class AdminSession:
    """A brand user in the admin, through the real login form (CSRF token included)."""

    def __init__(self, client, email: str, password: str):
        self.client = client
        self.email = email
        self.password = password
        # Failed logins are limited per address too: give each person their own, so one test's
        # failures never lock another test out.
        octets = (random.randrange(256), random.randrange(256), random.randrange(1, 255))
        client.environ_base["REMOTE_ADDR"] = "10.{}.{}.{}".format(*octets)

    def csrf(self, path: str = "/admin/login") -> str:
        page = self.client.get(path).get_data(as_text=True)
        return CSRF.search(page).group(1)

    def login(self, password: str | None = None):
        return self.client.post(
            "/admin/login",
            data={
                "email": self.email,
                "password": password or self.password,
                "csrf_token": self.csrf(),
            },
        )

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, csrf_from: str | None = None, **kwargs):
        """POST a form with a valid CSRF token taken from ``csrf_from`` (default: the path)."""
        return self.client.post(
            path, data={**(data or {}), "csrf_token": self.csrf(csrf_from or path)}, **kwargs
        )


def textarea(page: str, element_id: str) -> str:
    """The text of the textarea ``element_id`` in an admin page, unescaped."""
    found = re.search(rf'<textarea[^>]*id="{element_id}"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(found.group(1))


def add_person(
    store,
    brand_id: str,
    name: str = "Maya Lopez",
    role: str = "Head of sourcing",
) -> dict:
    """A person on the brand's roster, straight in the store."""
    someone = {
        "id": "p_" + uuid.uuid4().hex[:12],
        "name": name,
        "role": role,
        "photo_url": "",
        "bio": "",
    }
    store.save_person(brand_id, someone)
    return someone


def feature(store, campaign: dict, *people: dict) -> dict:
    """Feature people in a campaign (the editor's `people` field), straight in the store."""
    updated = store.get_campaign(campaign["id"]).replace(
        people=tuple(someone["id"] for someone in people)
    )
    store.save_campaign(updated)
    return updated.to_json()


def viewer_message(store, cid: str, text: str = "Where does the money go?") -> tuple[str, dict]:
    """A session with one viewer message, written as socialads.realtime.viewers writes it."""
    token = store.create_session(cid, "v-" + uuid.uuid4().hex)
    _, message = store.post_message(
        cid,
        token,
        f"v\0{uuid.uuid4().hex}",
        {
            "text": text,
            "ts": int(time.time() * 1000),
            "author": {"id": uuid.uuid4().hex[:12], "name": "Curious Otter", "brand_person": False},
        },
    )
    return token, message


class WebAdmin:
    """A team member logged in to a real `serve` process through the login form."""

    def __init__(self, base: str, email: str, password: str = "password123"):
        self.base = base
        self.http = requests.Session()
        answer = self.http.post(
            f"{base}/admin/login",
            allow_redirects=False,
            data={"email": email, "password": password, "csrf_token": self.csrf("/admin/login")},
        )
        assert answer.status_code == 302, answer.text[:500]

    def csrf(self, path: str) -> str:
        return CSRF.search(self.http.get(self.base + path).text).group(1)

    def get(self, path: str):
        return self.http.get(self.base + path)

    def post(self, path: str, data: dict, csrf_from: str, **kwargs):
        return self.http.post(
            self.base + path,
            data={**data, "csrf_token": self.csrf(csrf_from)},
            allow_redirects=False,
            **kwargs,
        )

    def socket(self, **kwargs) -> socketio.Client:
        """A client of the ``/admin`` namespace carrying this login's session cookie."""
        client = socketio.Client(reconnection=False)
        client.connect(
            self.base,
            namespaces=["/admin"],
            transports=["websocket"],
            wait_timeout=10,
            headers={
                "Cookie": "; ".join(f"{c.name}={c.value}" for c in self.http.cookies),
                "User-Agent": self.http.headers["User-Agent"],
            },
            **kwargs,
        )
        return client


def conversation(cid: str) -> str:
    """The path of a campaign's conversation page in the admin."""
    return f"/admin/campaigns/{cid}/conversation"
