"""The OpenAPI 3.1 description of the JSON API, served at ``GET /api/v1/openapi.json``.

Why it is built, not written: request bodies are the pydantic models that validate them
(``socialads.domain.schemas``) and the campaign a brand gets back is the same model plus the fields
the server sets, so the document cannot drift from what the API accepts and answers.
``tests/web/test_openapi.py`` holds the rest to account: every route in the url_map must be
described here, and real answers must validate against the schema for their status code.

To change the API's shape:

- a field a brand sends: add it to ``CampaignIn``/``CampaignPatch`` (nothing to do here);
- a field the server sets on campaigns (``campaigns.create``/``public``): add it to `Campaign`;
- a counter in ``/stats``: add it to `Stats` (``socialads.web.openapi_models``);
- a route: add its operations to `_paths` with every status it can answer.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from socialads.domain.schemas import CampaignIn, CampaignPatch
from socialads.web.openapi_models import Activities, Campaign, CampaignList, Stats

PREFIX = "/api/v1"
SCHEMAS = "#/components/schemas/"
RESPONSES = "#/components/responses/"


class _Generator(GenerateJsonSchema):
    def field_is_required(self, field, total):
        # Answers always carry every field (defaults included), so say they are required.
        if self.mode == "serialization":
            return not field.get("serialization_exclude")
        return super().field_is_required(field, total)

    def default_schema(self, schema):
        # ``CampaignPatch`` fields default to None meaning "not sent", not "send null": a
        # null the schema refuses is no default (and OpenAPI validators reject it).
        json_schema = super().default_schema(schema)
        if json_schema.get("default", ...) is None and not _allows_null(json_schema):
            del json_schema["default"]
        return json_schema


def _allows_null(json_schema: dict) -> bool:
    types = json_schema.get("type")
    return (
        types == "null"
        or (isinstance(types, list) and "null" in types)
        or any(_allows_null(s) for s in json_schema.get("anyOf", ()))
    )


MODELS: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
    (CampaignIn, "validation"),
    (CampaignPatch, "validation"),
    (Campaign, "serialization"),
    (CampaignList, "serialization"),
    (Stats, "serialization"),
    (Activities, "serialization"),
]


def _model_schemas() -> tuple[dict[str, dict], dict[str, dict]]:
    """({model name: $ref}, component schemas) for MODELS, with nested models hoisted.

    A nested model used both in requests and answers (``Cause``, ``Look``) is described twice
    by pydantic, as ``Cause-Input`` and ``Cause-Output``, because answers carry every field.
    """
    refs, top = models_json_schema(
        MODELS, ref_template=SCHEMAS + "{model}", schema_generator=_Generator
    )
    return {model.__name__: ref for (model, _), ref in refs.items()}, top["$defs"]


# -- errors --------------------------------------------------------------------------------

ERROR = {
    "type": "object",
    "description": "Every error. `code` is stable (for programs), `message` is for people.",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "description": "With `invalid`: every problem found, not only the first.",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "additionalProperties": False,
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}

# status -> (component name, error code, when)
ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("BadRequest", "bad_request", "The body is not valid JSON."),
    401: (
        "Unauthorized",
        "unauthorized",
        "No `Authorization: Bearer API_TOKEN` header, or an unknown token.",
    ),
    404: (
        "NotFound",
        "not_found",
        "No such campaign, or it belongs to another brand (the same answer, so ids cannot "
        "be probed).",
    ),
    405: (
        "MethodNotAllowed",
        "method_not_allowed",
        "The path exists but not with this method (any path under /api/v1).",
    ),
    409: (
        "Conflict",
        "conflict",
        "The change conflicts with what happened: the activity of a campaign with actions "
        "cannot change.",
    ),
    413: ("TooLarge", "too_large", "The body is over 1 MiB."),
    415: (
        "UnsupportedMediaType",
        "unsupported_media_type",
        "The body is not `Content-Type: application/json`.",
    ),
    422: (
        "Invalid",
        "invalid",
        "The body is JSON but not a valid object for this request: a missing, unknown or "
        "out-of-range field, an unknown activity or settings the activity refuses.",
    ),
    503: ("Unavailable", "unavailable", "The data store did not answer; retry shortly."),
}


def _error_response(code: str, when: str) -> dict:
    schema = {
        "allOf": [
            {"$ref": SCHEMAS + "Error"},
            {"properties": {"error": {"properties": {"code": {"const": code}}}}},
        ]
    }
    return {"description": f"`{code}`: {when}", "content": {"application/json": {"schema": schema}}}


# -- paths ---------------------------------------------------------------------------------

CAMPAIGN_ID = {
    "name": "cid",
    "in": "path",
    "required": True,
    "description": "A campaign id, as returned when the campaign was created.",
    "schema": {"type": "string"},
}


def _operation(
    operation_id: str,
    summary: str,
    ok: tuple[int, str, str | None],
    errors: tuple[int, ...] = (),
    body: str | None = None,
    public: bool = False,
    description: str | None = None,
) -> dict:
    """One operation. ``ok`` is (status, description, $ref of the JSON answer or None)."""
    status, what, answer = ok
    success: dict[str, Any] = {"description": what}
    if answer:
        success["content"] = {"application/json": {"schema": {"$ref": answer}}}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "responses": {
            str(status): success,
            **{str(e): {"$ref": RESPONSES + ERRORS[e][0]} for e in errors},
        },
    }
    if description:
        operation["description"] = description
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": body}}},
        }
    if public:
        operation["security"] = []
    return operation


def _paths(ref: dict[str, dict]) -> dict[str, dict]:
    # Every route needing a token also reads the token from the data store: 401 and 503.
    authed = (401, 503)
    # Every route reading a body: not JSON, not an object or invalid, too large.
    with_body = (400, 413, 415, 422)
    campaign = ref["Campaign"]["$ref"]
    return {
        f"{PREFIX}/campaigns": {
            "get": _operation(
                "listCampaigns",
                "The brand's campaigns",
                (200, "The campaigns.", ref["CampaignList"]["$ref"]),
                authed,
            ),
            "post": _operation(
                "createCampaign",
                "Create a campaign",
                (201, "The campaign, with its id and embed snippet.", campaign),
                authed + with_body,
                body=ref["CampaignIn"]["$ref"],
                description="`activity` is a `name` from `GET /api/v1/activities`; `settings` "
                "are validated by that activity (`{}` takes its defaults).",
            ),
        },
        f"{PREFIX}/campaigns/{{cid}}": {
            "parameters": [CAMPAIGN_ID],
            "get": _operation(
                "getCampaign", "One campaign", (200, "The campaign.", campaign), authed + (404,)
            ),
            "patch": _operation(
                "updateCampaign",
                "Change some fields of a campaign",
                (200, "The campaign after the change.", campaign),
                authed + with_body + (404, 409),
                body=ref["CampaignPatch"]["$ref"],
                description="Fields left out keep their values. Counters are never touched. "
                "Changing `activity` resets `settings` unless they are sent too.",
            ),
            "delete": _operation(
                "deleteCampaign", "Delete a campaign", (204, "Deleted.", None), authed + (404,)
            ),
        },
        f"{PREFIX}/campaigns/{{cid}}/stats": {
            "parameters": [CAMPAIGN_ID],
            "get": _operation(
                "getCampaignStats",
                "What happened in a campaign",
                (200, "Its counters.", ref["Stats"]["$ref"]),
                authed + (404,),
            ),
        },
        f"{PREFIX}/activities": {
            "get": _operation(
                "listActivities",
                "The activities a campaign can use",
                (200, "Installed activities.", ref["Activities"]["$ref"]),
                public=True,
            ),
        },
        f"{PREFIX}/openapi.json": {
            "get": {
                "operationId": "getOpenAPI",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 description of this API.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            },
        },
    }


# -- the document --------------------------------------------------------------------------


def document(public_url: str) -> dict:
    """The OpenAPI 3.1 document for the JSON API served at ``public_url``."""
    refs, schemas = _model_schemas()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "socialads API",
            "version": "1",
            "description": (
                "Campaigns, their stats and the available activities, for a brand's own tools."
                " Send `Authorization: Bearer API_TOKEN`; a token belongs to one brand, which "
                "sees only its own campaigns (another brand's campaign answers 404). Bodies are"
                ' JSON, at most 1 MiB. Every error is `{"error": {"code", "message"}}`; a'
                " method a path does not offer answers 405 `method_not_allowed` and an unknown "
                "path under /api/v1 answers 404 `not_found`."
            ),
        },
        "servers": [{"url": public_url}],
        "security": [{"bearer": []}],
        "paths": _paths(refs),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A brand's API token (`socialads brand create` prints one).",
                }
            },
            "schemas": {**schemas, "Error": ERROR},
            "responses": {
                name: _error_response(code, when) for name, code, when in ERRORS.values()
            },
        },
    }


def for_app(app: Flask) -> dict:
    """The document for ``app``, built once: it depends only on the code and PUBLIC_URL."""
    doc = app.extensions.get("socialads.openapi")
    if doc is None:
        doc = app.extensions["socialads.openapi"] = document(app.config["PUBLIC_URL"])
    return doc
