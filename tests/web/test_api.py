"""CONTRACT §3: the JSON API, through the Flask test client on a real Redis."""

from __future__ import annotations

import pytest

from tests.support.seeds import CAMPAIGN


class Api:
    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method):
        def call(path, **kwargs):
            response = getattr(self.client, method)(
                f"/api/v1{path}", headers=self.headers, **kwargs
            )
            return response.status_code, response.get_json(silent=True)

        return call


@pytest.fixture
def api(client, brand):
    return Api(client, brand["api_token"])


def test_create_read_update_delete(api, brand):
    status, created = api.post("/campaigns", json=CAMPAIGN)
    assert status == 201
    assert created["id"] and created["brand_id"] == brand["brand_id"]
    assert created["cause"] == {**CAMPAIGN["cause"], "image_url": None}
    assert created["goal"] == 1000
    assert (created["starts_at"], created["ends_at"], created["people"]) == (None, None, [])
    # label settings left blank take the words of the campaign's language
    assert created["settings"] == {
        "unit": "",
        "unit_plural": "",
        "button_label": "",
        "amount": 1,
        "max_per_viewer": 0,
        "match_every": 0,
        "match_amount": 1,
        "match_pool": 100,
    }
    assert (created["language"], created["room_size"]) == ("en", 20)
    assert created["embed_snippet"] == (
        f'<div class="socialad" data-campaign="{created["id"]}"></div>\n'
        '<script async src="http://127.0.0.1:5999/embed.js"></script>'
    )
    assert api.get(f"/campaigns/{created['id']}") == (200, created)
    assert api.get("/campaigns")[1]["campaigns"] == [created]

    status, patched = api.patch(
        f"/campaigns/{created['id']}", json={"status": "paused", "goal": 5000}
    )
    assert status == 200 and (patched["status"], patched["goal"]) == ("paused", 5000)
    assert patched["name"] == CAMPAIGN["name"]

    # An explicit null is not "left out": refused, and nothing is saved (null clears only the
    # schedule's times).
    for field in (
        "name",
        "cause",
        "goal",
        "promise",
        "allowed_origins",
        "status",
        "look",
        "people",
        "language",
        "room_size",
        "activity",
        "settings",
    ):
        status, answer = api.patch(f"/campaigns/{created['id']}", json={field: None})
        assert status == 422 and answer["error"]["code"] == "invalid", (field, answer)
    assert api.get(f"/campaigns/{created['id']}") == (200, patched)
    assert api.patch(f"/campaigns/{created['id']}", json={"ends_at": None})[0] == 200

    assert api.delete(f"/campaigns/{created['id']}")[0] == 204
    assert api.get(f"/campaigns/{created['id']}")[0] == 404
    assert api.get("/campaigns")[1]["campaigns"] == []


def test_a_brand_sees_only_its_own_campaigns(client, api, store):
    from socialads.domain.accounts import make_brand

    other = Api(client, make_brand(store, "Other", "o@other.test", "password123")["api_token"])
    _, mine = api.post("/campaigns", json=CAMPAIGN)
    for call in (
        other.get(f"/campaigns/{mine['id']}"),
        other.patch(f"/campaigns/{mine['id']}", json={"goal": 1}),
        other.delete(f"/campaigns/{mine['id']}"),
        other.get(f"/campaigns/{mine['id']}/stats"),
    ):
        assert call[0] == 404 and call[1]["error"]["code"] == "not_found"
    assert other.get("/campaigns")[1] == {"campaigns": []}
    assert api.get(f"/campaigns/{mine['id']}")[0] == 200


def test_tokens_are_required_and_stored_hashed(client, brand, redis_server):
    import redis

    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/campaigns", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
    raw = redis.Redis.from_url(redis_server.url)
    assert not any(
        brand["api_token"].encode() in raw.dump(key) or b"" for key in raw.scan_iter("sa:token:*")
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CAMPAIGN, "goal": 0}, "goal"),
        ({**CAMPAIGN, "goal": "10"}, "goal"),
        ({**CAMPAIGN, "activity": "juggling"}, "activity"),
        ({**CAMPAIGN, "status": "running"}, "status"),
        ({**CAMPAIGN, "allowed_origins": ["https://news.example/path"]}, "allowed_origins.0"),
        ({**CAMPAIGN, "settings": {"amount": -1}}, "settings.amount"),
        ({**CAMPAIGN, "settings": {"surprise": True}}, "settings.surprise"),
        ({**CAMPAIGN, "cause": {"description": "no title"}}, "cause.title"),
        ({**CAMPAIGN, "extra": 1}, "extra"),
        ({k: v for k, v in CAMPAIGN.items() if k != "name"}, "name"),
    ],
)
def test_invalid_campaigns_are_422_with_the_field(api, body, field):
    status, answer = api.post("/campaigns", json=body)
    assert status == 422, answer
    assert answer["error"]["code"] == "invalid"
    assert answer["error"]["message"].startswith(field)


def test_origins_are_normalised(api):
    _, created = api.post(
        "/campaigns",
        json={**CAMPAIGN, "allowed_origins": ["HTTPS://News.Example", "http://localhost:8080/"]},
    )
    assert created["allowed_origins"] == ["https://news.example", "http://localhost:8080"]


def test_bad_bodies_get_clear_errors(api, client, brand):
    headers = {"Authorization": f"Bearer {brand['api_token']}"}
    response = client.post(
        "/api/v1/campaigns",
        data="name=x",
        headers=headers,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    response = client.post(
        "/api/v1/campaigns", data="{nope", headers=headers, content_type="application/json"
    )
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"
    assert api.post("/campaigns", json=[1, 2])[0] == 422
    response = client.post(
        "/api/v1/campaigns",
        data="x" * (1024 * 1024 + 1),
        headers=headers,
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert api.put("/campaigns")[0] == 405
    assert api.get("/nothing-here") == (
        404,
        {"error": {"code": "not_found", "message": "No such resource."}},
    )


def test_changing_the_activity_after_actions_is_a_conflict(api, store):
    _, created = api.post("/campaigns", json=CAMPAIGN)
    token = store.create_session(created["id"], "viewer-1")
    store.record_action(created["id"], token, "viewer-1", "a1", 1)
    status, answer = api.patch(
        f"/campaigns/{created['id']}", json={"activity": "pledge", "goal": 10}
    )
    assert status == 200 and answer["goal"] == 10  # the same activity is no change
    # pretend another activity
    store.save_campaign(store.get_campaign(created["id"]).replace(activity="other"))
    status, answer = api.patch(f"/campaigns/{created['id']}", json={"activity": "pledge"})
    assert status == 409 and answer["error"]["code"] == "conflict"


def test_stats_count_what_happened(api, store, client):
    _, created = api.post("/campaigns", json=CAMPAIGN)
    cid = created["id"]
    client.get(f"/w/{cid}")
    token = store.create_session(cid, "ana")
    store.join_session(cid, token, "sid-ana", {"viewer": "ana", "id": "1", "name": "A", "t": 1}, 30)
    store.join_session(cid, token, "sid-ben", {"viewer": "ben", "id": "2", "name": "B", "t": 2}, 30)
    store.record_action(cid, token, "ana", "a1", 1)
    store.record_action(cid, token, "ana", "a1", 1)
    store.record_action(cid, token, "ben", "a1", 1)
    store.post_message(cid, token, "ana\0m1", {"text": "hi"})
    status, stats = api.get(f"/campaigns/{cid}/stats")
    assert status == 200
    assert {
        k: stats[k]
        for k in (
            "impressions",
            "viewers",
            "actions",
            "total",
            "sessions",
            "invite_joins",
            "messages",
            "live_viewers",
        )
    } == {
        "impressions": 1,
        "viewers": 2,
        "actions": 2,
        "total": 2,
        "sessions": 1,
        "invite_joins": 1,
        "messages": 1,
        "live_viewers": 2,
    }


def test_activities_are_listed_with_their_settings_schema(client):
    response = client.get("/api/v1/activities")
    assert response.status_code == 200
    pledge = {a["name"]: a for a in response.get_json()["activities"]}["pledge"]
    assert pledge["title"] and pledge["description"]
    assert pledge["settings"]["type"] == "object"
    assert "button_label" in pledge["settings"]["properties"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://news.example *",
        "https://a\u2028.example",
        "https://news.example;script-src *",
        "ftp://news.example",
        "https://",
        "https://news.example:99999",
        "https://user@news.example",
        "https://news_example.com",
    ],
)
def test_origins_that_could_break_the_frame_policy_are_refused(api, origin):
    status, answer = api.post("/campaigns", json={**CAMPAIGN, "allowed_origins": [origin]})
    assert status == 422 and answer["error"]["message"].startswith("allowed_origins.0")


def test_international_and_ipv6_origins_are_normalised(api):
    _, created = api.post(
        "/campaigns",
        json={**CAMPAIGN, "allowed_origins": ["https://bücher.example", "http://[::1]:8080"]},
    )
    assert created["allowed_origins"] == ["https://xn--bcher-kva.example", "http://[::1]:8080"]


def test_a_deeply_nested_body_is_a_clear_error(client, brand):
    response = client.post(
        "/api/v1/campaigns",
        data="[" * 100_000,
        content_type="application/json",
        headers={"Authorization": f"Bearer {brand['api_token']}"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
