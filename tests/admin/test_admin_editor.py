"""The campaign editor (issue 3 §2–§3): creating and editing through the form, with the same
rules as the API and every problem next to its field, and the settings form generated from each
activity's schema. Its preview, embed code and schedules: test_admin_preview.py."""

from __future__ import annotations

import html
import re
from typing import Annotated, Literal

import pytest
from pydantic import Field

from socialads.activities import Activity, Settings
from socialads.admin.settings_form import settings_fields
from socialads.store import new_id
from tests.support.admin import FORM, textarea


def field_error(page: str, name: str) -> str | None:
    """The error shown inside the block of input ``name`` (None when there is none)."""
    block = re.search(rf'data-field="{re.escape(name)}">(.*?)</div>', page, re.S)
    assert block, f"no field {name}"
    error = re.search(r'<p class="error"[^>]*>(.*?)</p>', block.group(1), re.S)
    return html.unescape(error.group(1)) if error else None


@pytest.fixture
def person_of(store, brand):
    def add(name: str) -> dict:
        person = {"id": new_id("p"), "name": name, "role": "Team", "photo_url": "", "bio": ""}
        store.save_person(brand["brand_id"], person)
        return person

    return add


# -- creating and editing through the form -------------------------------------------------


def test_a_campaign_is_created_through_the_form(admin, store, brand, person_of):
    maya = person_of("Maya")
    assert 'href="/admin/campaigns/new"' in admin.get("/admin/").get_data(as_text=True)
    page = admin.get("/admin/campaigns/new").get_data(as_text=True)
    for name in (
        "name",
        "activity",
        "status",
        "cause.title",
        "cause.description",
        "cause.image_url",
        "goal",
        "promise",
        "look.accent",
        "look.theme",
        "allowed_origins",
        "starts_at",
        "ends_at",
        "settings.pledge.amount",
    ):
        assert f'name="{name}"' in page, name
    assert 'type="color"' in page and 'type="datetime-local"' in page and "UTC" in page
    assert f'value="{maya["id"]}"' in page and "Maya" in page

    response = admin.post(
        "/admin/campaigns/new", {**FORM, "people": [maya["id"]]}, csrf_from="/admin/campaigns/new"
    )
    assert response.status_code == 302
    cid = response.headers["Location"].split("/")[-2]
    assert response.headers["Location"] == f"/admin/campaigns/{cid}/edit"
    saved = store.get_campaign(cid).to_json()
    assert saved["brand_id"] == brand["brand_id"] and saved["goal"] == 5000
    assert saved["cause"] == {
        "title": "Plant a forest",
        "description": "One tree per pledge.\nTogether.",
        "image_url": "https://cdn.example/forest.jpg",
    }
    assert saved["settings"] == {
        "unit": "tree",
        "unit_plural": "trees",
        "button_label": "Plant",
        "amount": 1,
        "max_per_viewer": 3,
        "match_every": 0,
        "match_amount": 1,
        "match_pool": 100,
    }
    assert saved["language"] == "en" and saved["room_size"] == 20
    assert saved["look"] == {"accent": "#aa3300", "theme": "dark"}
    assert saved["allowed_origins"] == ["https://news.example", "http://localhost:8001"]
    assert (saved["starts_at"], saved["ends_at"]) == (
        "2030-06-01T09:00:00Z",
        "2030-07-01T18:30:00Z",
    )
    assert saved["people"] == [maya["id"]] and saved["status"] == "live"

    edit = admin.get(f"/admin/campaigns/{cid}/edit").get_data(as_text=True)
    assert "created" in edit  # the flash
    assert 'value="2030-06-01T09:00"' in edit and 'value="#aa3300"' in edit
    assert textarea(edit, "f-allowed_origins") == "https://news.example\nhttp://localhost:8001"
    tabs = re.findall(r'<nav class="tabs".*?</nav>', edit, re.S)[0]
    assert tabs.index("Edit") < tabs.index("Embed") and 'aria-current="page">Edit' in tabs


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("goal", "0", "greater than 0"),
        ("goal", "many", "valid integer"),
        (
            "allowed_origins",
            "https://news.example\nnews.example/path",
            "news.example/path: an origin",
        ),
        ("look.accent", "red", "a colour is #"),
        ("ends_at", "2030-05-01T09:00", "the end must come after the start"),
        ("cause.image_url", "http://cdn.example/x.jpg", "https://"),
        ("cause.title", "", "at least 1 character"),
        ("settings.pledge.amount", "5000", "less than or equal to 1000"),
    ],
)
def test_each_error_is_shown_next_to_its_field(admin, store, brand, name, value, message):
    before = len(store.brand_campaigns(brand["brand_id"]))
    response = admin.post(
        "/admin/campaigns/new", {**FORM, name: value}, csrf_from="/admin/campaigns/new"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in field_error(page, name)
    assert 'role="alert"' in page
    # what was typed is kept, and nothing was created
    assert html.escape(value.split("\n")[-1]) in page
    assert len(store.brand_campaigns(brand["brand_id"])) == before


def test_every_problem_is_shown_at_once(admin, person_of):
    person_of("Maya")
    response = admin.post(
        "/admin/campaigns/new",
        {
            **FORM,
            "goal": "0",
            "look.accent": "red",
            "allowed_origins": "ftp://x",
            "ends_at": "2030-05-01T09:00",
            "people": ["p_nobody"],
        },
        csrf_from="/admin/campaigns/new",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(page, "goal") and field_error(page, "look.accent")
    assert field_error(page, "allowed_origins") and field_error(page, "ends_at")
    people = re.search(r'<p class="error" id="f-people-error">(.*?)</p>', page).group(1)
    assert "p_nobody" in people and "brand" in html.unescape(people)
    # the unknown id stays visible (checked) so it can be unticked
    assert re.search(r'value="p_nobody"[^>]*checked', page)


def test_people_must_be_on_the_roster_through_the_api_too(client, brand, person_of):
    maya = person_of("Maya")
    headers = {"Authorization": f"Bearer {brand['api_token']}"}
    body = {"name": "x", "activity": "pledge", "cause": {"title": "x"}, "goal": 5}
    answer = client.post(
        "/api/v1/campaigns", json={**body, "people": ["p_elsewhere"]}, headers=headers
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"]["details"][0]["field"] == "people"
    created = client.post(
        "/api/v1/campaigns", json={**body, "people": [maya["id"]] * 2}, headers=headers
    ).get_json()
    assert created["people"] == [maya["id"]]
    too_many = client.post(
        "/api/v1/campaigns", json={**body, "people": [f"p_{i}" for i in range(13)]}, headers=headers
    )
    assert too_many.status_code == 422


def test_schedules_through_the_api(client, brand):
    headers = {"Authorization": f"Bearer {brand['api_token']}"}
    body = {"name": "x", "activity": "pledge", "cause": {"title": "x"}, "goal": 5}
    created = client.post(
        "/api/v1/campaigns",
        headers=headers,
        json={**body, "starts_at": "2030-06-01T11:00:00+02:00", "ends_at": "2030-06-02T00:00Z"},
    )
    assert created.status_code == 201
    campaign = created.get_json()
    assert (campaign["starts_at"], campaign["ends_at"]) == (
        "2030-06-01T09:00:00Z",
        "2030-06-02T00:00:00Z",
    )
    for bad in (
        {"starts_at": "2030-06-01T09:00:00"},
        {"ends_at": "tomorrow"},
        {"starts_at": "2030-06-02T00:00Z", "ends_at": "2030-06-01T00:00Z"},
    ):
        answer = client.post("/api/v1/campaigns", headers=headers, json={**body, **bad})
        assert answer.status_code == 422, bad
    # a PATCH is checked against the schedule it leaves: the end before the stored start
    path = f"/api/v1/campaigns/{campaign['id']}"
    answer = client.patch(path, headers=headers, json={"ends_at": "2030-05-01T00:00:00Z"})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["details"] == [
        {"field": "ends_at", "message": "the end must come after the start"}
    ]
    cleared = client.patch(path, headers=headers, json={"starts_at": None, "ends_at": None})
    assert cleared.get_json()["starts_at"] is None and cleared.get_json()["ends_at"] is None


def test_the_new_fields_are_in_the_openapi_document(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for model in ("CampaignIn", "CampaignPatch", "Campaign"):
        properties = schemas[model]["properties"]
        assert {"starts_at", "ends_at", "people", "look", "promise"} <= set(properties), model
    assert schemas["CampaignIn"]["properties"]["people"]["maxItems"] == 12
    causes = [name for name in schemas if name.startswith("Cause")]
    assert causes and all("image_url" in schemas[name]["properties"] for name in causes)


def test_editing_a_live_campaign_keeps_its_totals_and_sessions(admin, store, make_campaign):
    campaign = make_campaign()
    cid = campaign["id"]
    token = store.create_session(cid, "viewer-1")
    store.record_action(cid, token, "viewer-1", "a1", 5)
    before = store.stats(cid)
    assert before["total"] == 5

    response = admin.post(
        f"/admin/campaigns/{cid}/edit",
        {
            **FORM,
            "cause.title": "Clean the whole bay",
            "goal": "2000",
            "status": "live",
            "settings.pledge.amount": "2",
            "starts_at": "",
            "ends_at": "",
        },
    )
    assert response.status_code == 302
    saved = store.get_campaign(cid).to_json()
    assert saved["cause"]["title"] == "Clean the whole bay" and saved["goal"] == 2000
    assert saved["settings"]["amount"] == 2 and saved["created_at"] == campaign["created_at"]
    assert store.stats(cid) == before
    assert store.session_exists(cid, token)
    assert store.record_action(cid, token, "viewer-1", "a1", 2).status == 0  # still deduped
    assert store.record_action(cid, token, "viewer-1", "a2", 2).total == 7
    # the overview still counts the same campaign
    assert "Clean the whole bay" in admin.get(f"/admin/campaigns/{cid}/edit").get_data(as_text=True)


def test_an_edit_with_a_problem_changes_nothing(admin, store, make_campaign):
    campaign = make_campaign()
    response = admin.post(
        f"/admin/campaigns/{campaign['id']}/edit", {**FORM, "goal": "0", "cause.title": "Changed"}
    )
    assert response.status_code == 422
    assert "greater than 0" in field_error(response.get_data(as_text=True), "goal")
    assert store.get_campaign(campaign["id"]).to_json() == campaign


# -- the generated settings form -------------------------------------------------------------


def test_the_pledge_settings_form_is_generated_from_its_schema(admin):
    page = admin.get("/admin/campaigns/new").get_data(as_text=True)
    fieldset = re.search(
        r'<fieldset data-activity-settings="pledge">(.*?)</fieldset>', page, re.S
    ).group(1)
    assert "Pledge settings" in fieldset
    inputs = dict(re.findall(r'<input id="[^"]+" name="settings\.pledge\.(\w+)"([^>]*)>', fieldset))
    assert list(inputs) == [
        "unit",
        "unit_plural",
        "button_label",
        "amount",
        "max_per_viewer",
        "match_every",
        "match_amount",
        "match_pool",
    ]
    assert 'type="text"' in inputs["unit"] and 'maxlength="24"' in inputs["unit"]
    # blank by default: the unit shows the word of the campaign's language
    assert 'value=""' in inputs["unit_plural"] and "empty: &#34;pledges&#34;" in fieldset
    assert 'value="100"' in inputs["match_pool"]  # defaults filled in
    assert 'maxlength="32"' in inputs["button_label"]
    for key, low in (("amount", 1), ("max_per_viewer", 0)):
        attrs = inputs[key]
        assert 'type="number"' in attrs and f'min="{low}"' in attrs and 'max="1000"' in attrs
    assert ">Amount per pledge</label>" in fieldset and "What one pledge adds" in fieldset
    assert "How many times one person may pledge (0: no limit)" in fieldset


class _Colour(Settings):
    shape: Literal["round", "square"] = "round"
    sparkle: Annotated[bool, Field(title="Sparkle", description="Add a sparkle")] = True
    motto: Annotated[str | None, Field(max_length=10)] = None
    ratio: Annotated[float, Field(gt=0, le=2)] = 1.5
    tags: list[str] = []


class _ColourActivity(Activity):
    name = "colour"
    title = "Colour"
    description = "A test activity."
    Settings = _Colour
    package = __name__


def test_every_kind_of_setting_gets_its_input():
    fields = {f.key: f for f in settings_fields(_ColourActivity())}
    assert list(fields) == ["shape", "sparkle", "motto", "ratio", "tags"]
    assert fields["tags"].kind == "json"  # a list or object: edited as JSON text
    assert fields["tags"].parse('["a", "b"]') == ["a", "b"] and fields["tags"].parse("[") == "["
    assert fields["tags"].show(["a"]) == '[\n  "a"\n]'
    assert (fields["shape"].kind, fields["shape"].options) == ("select", ("round", "square"))
    assert (fields["sparkle"].kind, fields["sparkle"].label) == ("checkbox", "Sparkle")
    assert fields["sparkle"].hint == "Add a sparkle" and fields["sparkle"].default is True
    assert fields["motto"].kind == "text" and fields["motto"].attrs == {"maxlength": 10}
    assert fields["ratio"].attrs == {"max": 2, "step": "any"}
    assert fields["sparkle"].parse(None) is False and fields["sparkle"].parse("on") is True
    assert fields["motto"].parse("") is None and fields["ratio"].parse("0.5") == 0.5
    assert fields["shape"].parse("square") == "square"
