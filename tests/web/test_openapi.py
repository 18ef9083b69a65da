"""CONTRACT §3: ``GET /api/v1/openapi.json`` describes the whole JSON API, truthfully.

The document must be valid OpenAPI 3.1 and describe every /api/v1 route the app serves. Then
the API is driven through the test client on a real Redis, and every answer must validate
against the schema the document gives for its path, method and status; a status the document
does not list for that operation fails the test.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from socialads import create_app
from socialads.domain.accounts import make_brand
from socialads.runtime.processes import free_port
from socialads.web import openapi
from tests.support.seeds import CAMPAIGN, SECRET

DOC_URI = "urn:socialads:openapi"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# (path template, method) of every documented operation, for parametrized tests.
OPERATIONS = [
    (path, method)
    for path, item in openapi.document("http://x")["paths"].items()
    for method in item
    if method in METHODS
]


def _pointer(*tokens: str) -> str:
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


class Spec:
    """The served document, as a judge of real answers."""

    def __init__(self, doc: dict):
        self.doc = doc
        resource = Resource.from_contents(doc, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(DOC_URI, resource)

    def template(self, path: str) -> str:
        """The documented path template a concrete path belongs to."""
        for template in self.doc["paths"]:
            if re.fullmatch(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)), path):
                return template
        raise AssertionError(f"{path} matches no documented path")

    def validate(self, pointer: str, instance) -> None:
        """Validate against the schema at ``pointer`` in the document ($refs resolved)."""
        schema = {"$ref": DOC_URI + "#" + quote(pointer)}
        jsonschema.Draft202012Validator(schema, registry=self.registry).validate(instance)

    def _resolve(self, pointer: str) -> tuple[str, dict]:
        node = self.doc
        for token in pointer.split("/")[1:]:
            node = node[token.replace("~1", "/").replace("~0", "~")]
        if "$ref" in node:
            return self._resolve(node["$ref"].removeprefix("#"))
        return pointer, node

    def check_answer(self, pointer: str, response) -> None:
        """``response`` matches the response object at ``pointer``."""
        pointer, described = self._resolve(pointer)
        if "content" not in described:
            assert response.data == b"", f"{pointer} has no body, got {response.data[:200]!r}"
            return
        assert response.mimetype in described["content"], (pointer, response.mimetype)
        self.validate(
            pointer + _pointer("content", response.mimetype, "schema"), response.get_json()
        )

    def check(self, method: str, path: str, response, sent=None) -> None:
        """The answer to ``method path`` is documented for its status and matches it."""
        template = self.template(path)
        operation = self.doc["paths"][template].get(method)
        assert operation, f"{method.upper()} {template} is not documented"
        status = str(response.status_code)
        assert status in operation["responses"], (
            f"{method.upper()} {template} answered {status}, which the document does not list "
            f"(it lists {sorted(operation['responses'])}): {response.get_data(as_text=True)}"
        )
        self.check_answer(_pointer("paths", template, method, "responses", status), response)
        if sent is not None and response.status_code < 300:
            # What the server accepted, the documented request schema accepts too.
            self.validate(
                _pointer(
                    "paths",
                    template,
                    method,
                    "requestBody",
                    "content",
                    "application/json",
                    "schema",
                ),
                sent,
            )


class Api:
    """The JSON API through the test client; every answer is checked against the document."""

    def __init__(self, client, spec: Spec, token: str | None):
        self.client, self.spec = client, spec
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, **kwargs):
        path = openapi.PREFIX + path
        response = self.client.open(path, method=method.upper(), headers=self.headers, **kwargs)
        self.spec.check(method, path, response, sent=kwargs.get("json"))
        return response

    def __getattr__(self, method):
        return lambda path, **kwargs: self.call(method, path, **kwargs)


@pytest.fixture
def doc(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


@pytest.fixture
def spec(doc):
    return Spec(doc)


@pytest.fixture
def api(client, spec, brand):
    return Api(client, spec, brand["api_token"])


def _concrete(template: str) -> str:
    return template.replace("{cid}", "c_" + uuid.uuid4().hex[:12])


# -- the document --------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(doc, app):
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert doc["openapi"].startswith("3.1.")
    assert doc["servers"] == [{"url": app.config["PUBLIC_URL"]}]
    bearer = doc["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert doc["security"] == [{"bearer": []}]


def test_it_is_served_with_or_without_a_token_and_built_once(client, app, brand, doc):
    for headers in (
        {"Authorization": f"Bearer {brand['api_token']}"},
        {"Authorization": "Bearer nope"},
    ):
        response = client.get("/api/v1/openapi.json", headers=headers)
        assert response.status_code == 200 and response.get_json() == doc
    assert doc == openapi.document(app.config["PUBLIC_URL"])
    assert openapi.for_app(app) is openapi.for_app(app)


def test_every_api_route_is_documented_with_its_methods(app, doc):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(openapi.PREFIX + "/"):
            template = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            served |= {(template, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
            params = {p["name"] for p in doc["paths"].get(template, {}).get("parameters", [])}
            assert params == set(rule.arguments), f"path parameters of {template}"
    assert (
        served
        == set(OPERATIONS)
        == {
            (path, method)
            for path, item in doc["paths"].items()
            for method in item
            if method in METHODS
        }
    )


def test_schemas_come_from_the_models(doc):
    from socialads.domain.schemas import CampaignIn

    schemas = doc["components"]["schemas"]
    assert set(schemas["CampaignIn"]["properties"]) == set(CampaignIn.model_fields)
    assert set(schemas["Campaign"]["properties"]) == set(CampaignIn.model_fields) | {
        "id",
        "brand_id",
        "created_at",
        "updated_at",
        "embed_snippet",
        "widget_url",
    }
    assert set(schemas["Campaign"]["required"]) == set(schemas["Campaign"]["properties"])
    assert not any("$defs" in schema for schema in schemas.values())


def test_an_undocumented_status_fails_the_check(client, doc, brand):
    del doc["paths"]["/api/v1/campaigns/{cid}"]["get"]["responses"]["404"]
    with pytest.raises(AssertionError, match="answered 404, which the document does not list"):
        Api(client, Spec(doc), brand["api_token"]).get("/campaigns/c_nothing")


# -- real answers --------------------------------------------------------------------------


def test_a_campaign_from_creation_to_deletion(api, client, spec):
    created = api.post("/campaigns", json=CAMPAIGN)
    assert created.status_code == 201
    cid = created.get_json()["id"]
    minimal = api.post(
        "/campaigns", json={key: CAMPAIGN[key] for key in ("name", "activity", "cause", "goal")}
    )
    assert minimal.status_code == 201
    assert len(api.get("/campaigns").get_json()["campaigns"]) == 2
    assert api.get(f"/campaigns/{cid}").get_json() == created.get_json()
    patched = api.patch(
        f"/campaigns/{cid}",
        json={"status": "paused", "goal": 5000, "look": {"accent": "#123456", "theme": "dark"}},
    )
    assert patched.status_code == 200 and patched.get_json()["look"]["theme"] == "dark"
    stats = api.get(f"/campaigns/{cid}/stats")
    assert stats.status_code == 200 and stats.get_json()["goal"] == 5000
    assert api.delete(f"/campaigns/{cid}").status_code == 204
    assert api.get(f"/campaigns/{cid}").status_code == 404
    assert api.get(f"/campaigns/{cid}/stats").status_code == 404
    for anyone in (api, Api(client, spec, None)):
        activities = anyone.get("/activities").get_json()["activities"]
        assert "pledge" in {a["name"] for a in activities}


def test_a_patch_of_part_of_a_nested_field_answers_a_whole_campaign(api):
    cid = api.post("/campaigns", json=CAMPAIGN).get_json()["id"]
    patched = api.patch(
        f"/campaigns/{cid}", json={"look": {"theme": "dark"}, "cause": {"title": "New"}}
    )
    assert patched.status_code == 200 and patched.get_json()["look"]["theme"] == "dark"


def test_stats_after_people_took_part(api, store):
    cid = api.post("/campaigns", json=CAMPAIGN).get_json()["id"]
    token = store.create_session(cid, "viewer-1")
    store.record_action(cid, token, "viewer-1", "a1", 3)
    stats = api.get(f"/campaigns/{cid}/stats").get_json()
    assert (stats["actions"], stats["total"], stats["sessions"]) == (1, 3, 1)


def test_error_answers(api, client, spec, store):
    cid = api.post("/campaigns", json=CAMPAIGN).get_json()["id"]
    for path, method in (("/campaigns", "post"), (f"/campaigns/{cid}", "patch")):
        call = getattr(api, method)
        answer = call(path, data="name=x", content_type="application/x-www-form-urlencoded")
        assert answer.status_code == 415
        assert call(path, data="{nope", content_type="application/json").status_code == 400
        assert call(path, json=[1, 2]).status_code == 422
        invalid = call(path, json={**CAMPAIGN, "goal": 0, "colour": "red"})
        assert invalid.status_code == 422 and len(invalid.get_json()["error"]["details"]) == 2
        assert call(path, json={**CAMPAIGN, "activity": "no-such"}).status_code == 422
        answer = call(path, data="x" * (1024 * 1024 + 1), content_type="application/json")
        assert answer.status_code == 413
    assert api.patch("/campaigns/c_nothing", json={"goal": 1}).status_code == 404
    assert api.delete("/campaigns/c_nothing").status_code == 404
    assert api.get("/campaigns/" + "x" * 100).status_code == 404

    other = make_brand(store, "Other", f"o-{uuid.uuid4().hex[:8]}@other.test", "password123")
    assert Api(client, spec, other["api_token"]).get(f"/campaigns/{cid}").status_code == 404
    assert Api(client, spec, "nope").get("/campaigns").status_code == 401

    token = store.create_session(cid, "viewer-1")
    store.record_action(cid, token, "viewer-1", "a1", 1)
    assert api.patch(f"/campaigns/{cid}", json={"activity": "other"}).status_code == 409

    # Answers that belong to no operation: their shapes are documented as components.
    headers = api.headers
    response = client.put("/api/v1/campaigns", headers=headers)
    assert response.status_code == 405
    spec.check_answer("/components/responses/MethodNotAllowed", response)
    response = client.get("/api/v1/nothing-here", headers=headers)
    assert response.status_code == 404
    spec.check_answer("/components/responses/NotFound", response)


@pytest.mark.parametrize(("template", "method"), OPERATIONS)
def test_without_a_token(client, spec, template, method):
    """Operations with security need a token (401); the public ones answer without one."""
    operation = spec.doc["paths"][template][method]
    public = operation.get("security", spec.doc["security"]) == []
    response = Api(client, spec, None).call(
        method,
        _concrete(template).removeprefix(openapi.PREFIX),
        json=CAMPAIGN if "requestBody" in operation else None,
    )
    assert response.status_code == (200 if public else 401)


@pytest.fixture(scope="module")
def redis_down():
    app = create_app(
        {
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "SECRET_KEY": SECRET,
            "TESTING": True,
            "MESSAGE_QUEUE": False,
        }
    )
    return app.test_client()


@pytest.mark.parametrize(("template", "method"), OPERATIONS)
def test_with_redis_down(redis_down, template, method):
    """Every operation answers as documented while the data store is down: 503 `unavailable`,
    or (those that do not need it) their usual answer."""
    spec = Spec(redis_down.get("/api/v1/openapi.json").get_json())
    operation = spec.doc["paths"][template][method]
    response = Api(redis_down, spec, "sat_token").call(
        method,
        _concrete(template).removeprefix(openapi.PREFIX),
        json=CAMPAIGN if "requestBody" in operation else None,
    )
    expected = "503" if "503" in operation["responses"] else "200"
    assert str(response.status_code) == expected
