"""CONTRACT §2/§3: the loader, the widget document, invite pages and health."""

from __future__ import annotations

import gzip
import re

import pytest

from socialads import create_app
from socialads.runtime.processes import free_port
from tests.support.pages import HOOKS
from tests.support.seeds import SECRET


def test_embed_js_is_small_cacheable_and_compressed(client):
    response = client.get("/embed.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.cache_control.public and response.cache_control.max_age >= 60
    assert len(response.data) <= 2048
    source = gzip.decompress(response.data).decode()
    assert "socialad:height" in source and "/w/" in source
    plain = client.get("/embed.js")
    assert "Content-Encoding" not in plain.headers and plain.data == gzip.decompress(response.data)


def test_hashed_assets_are_immutable(client):
    from socialads.web.assets import manifest

    with client.application.app_context():
        name = manifest()["widgets/pledge.js"]
    response = client.get(f"/static/{name}", headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"
    assert response.cache_control.immutable and response.cache_control.max_age == 31536000
    assert client.get("/static/../pyproject.toml").status_code == 404
    assert client.get("/static/manifest.json.gz").status_code == 404


def test_the_widget_document(client, make_campaign, store):
    campaign = make_campaign(allowed_origins=["https://news.example", "http://localhost:8001"])
    response = client.get(f"/w/{campaign['id']}")
    assert response.status_code == 200
    html = response.data.decode()
    for hook in HOOKS:
        assert hook in html, hook
    csp = response.headers["Content-Security-Policy"]
    # the brand's publishers, and our own pages (the admin's preview and test page)
    assert "frame-ancestors 'self' https://news.example http://localhost:8001" in csp
    assert "script-src 'self'" in csp
    assert "Set-Cookie" not in response.headers
    assert "X-Frame-Options" not in response.headers
    assert campaign["promise"] in html
    # no third-party requests: every src/href is ours
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#", "data:")), url
    assert store.stats(campaign["id"])["impressions"] == 1


def test_the_widget_document_is_one_gzipped_request_with_its_css(client, make_campaign):
    """The first paint is the document alone: its CSS inline under the page's nonce (no
    stylesheet request before it can paint), gzipped for a client that takes it."""
    campaign = make_campaign()
    packed = client.get(f"/w/{campaign['id']}", headers={"Accept-Encoding": "br, gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    html = gzip.decompress(packed.data).decode()
    plain = client.get(f"/w/{campaign['id']}")
    assert "Content-Encoding" not in plain.headers
    assert len(packed.data) * 2 < len(plain.data)
    assert 'rel="stylesheet"' not in html
    nonce = re.search(r"'nonce-([^']+)'", packed.headers["Content-Security-Policy"]).group(1)
    style = re.search(r'<style nonce="([^"]+)">(.*?)</style>', html, re.S)
    assert style.group(1) == nonce and ".sa-total-line" in style.group(2)


def test_any_origin_may_frame_when_the_brand_lists_none(client, make_campaign):
    campaign = make_campaign()
    csp = client.get(f"/w/{campaign['id']}").headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp


def test_user_text_is_escaped(client, make_campaign):
    campaign = make_campaign(
        cause={"title": "<script>alert(1)</script>", "description": "<img src=x onerror=alert(1)>"}
    )
    html = client.get(f"/w/{campaign['id']}").data.decode()
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("status", ["draft", "paused", "ended"])
def test_inactive_campaigns_render_an_honest_state(client, make_campaign, status):
    campaign = make_campaign(status=status)
    response = client.get(f"/w/{campaign['id']}")
    assert response.status_code == 200
    html = response.data.decode()
    action = re.search(r"<button[^>]*data-socialad-action[^>]*>", html).group(0)
    assert "disabled" in action
    assert 'data-state="inactive"' in html
    assert "widgets/pledge" not in re.sub(r"<link[^>]*>", "", html)  # no live code


def test_unknown_campaign_is_404(client):
    assert client.get("/w/c_doesnotexist").status_code == 404
    assert client.get("/w/" + "x" * 80).status_code == 404


def test_invite_landing_page(client, make_campaign, store):
    campaign = make_campaign()
    token = store.create_session(campaign["id"], "ana")
    response = client.get(f"/s/{token}")
    assert response.status_code == 200
    html = response.data.decode()
    for tag in (
        "og:title",
        "og:description",
        "og:image",
        "twitter:card",
        "twitter:title",
        "twitter:image",
    ):
        assert f'"{tag}"' in html, tag
    assert f"http://127.0.0.1:5999/s/{token}" in html
    assert f'"session": "{token}"' in html or f'"session":"{token}"' in html
    for hook in HOOKS:
        assert hook in html
    assert client.get("/og.png").mimetype == "image/png"


def test_unknown_or_expired_invites(client, make_campaign, store, redis_server):
    assert client.get("/s/" + "A" * 22).status_code == 404
    assert client.get("/s/bad!token").status_code == 404
    campaign = make_campaign()
    token = store.create_session(campaign["id"], "ana")
    # the session expired
    store.redis.delete(store.keys.campaign(campaign["id"]).session_hash(token))
    response = client.get(f"/s/{token}")
    assert response.status_code == 404
    html = response.data.decode()
    assert campaign["cause"]["title"] in html and "data-socialad-action" in html


def test_health(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    down = create_app(
        {
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "SECRET_KEY": SECRET,
            "MESSAGE_QUEUE": False,
        }
    )
    response = down.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json() == {"status": "unavailable"}


def test_a_null_byte_in_a_static_path_is_a_404(client):
    assert client.get("/static/a%00b").status_code == 404


def test_an_invite_to_another_campaign_is_not_passed_to_this_unit(client, make_campaign, store):
    campaign, other = make_campaign(), make_campaign()
    foreign = store.create_session(other["id"], "ana")
    own = store.create_session(campaign["id"], "ana")
    html = client.get(f"/w/{campaign['id']}?session={foreign}").get_data(as_text=True)
    assert '"session": null' in html or '"session":null' in html
    html = client.get(f"/w/{campaign['id']}?session={own}").get_data(as_text=True)
    assert own in html
