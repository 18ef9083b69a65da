"""schemathesis drives every operation of ``/api/v1`` from our own OpenAPI document (issue #5).

The document is loaded from the app (``GET /api/v1/openapi.json``); for each operation
schemathesis generates requests, valid ones and ones the document forbids, which go through the
WSGI app on a real Redis with a real brand's token. No answer may be a 5xx, and every answer
must be one the document lists for that operation, with its content type and body schema.

Each operation runs as its own hypothesis test built from ``APIOperation.as_strategy`` (the
documented way to use schemathesis in plain hypothesis tests), with a bounded, derandomized
number of examples so the file stays well under a minute. (``schemathesis.pytest.from_fixture``
would load the schema from the ``app`` fixture too, but schemathesis 4.32 renames test items
through ``node._nodeid``, which pytest 9.2 no longer has.)

Not checked: that every body the document allows is accepted. Our models are strict on
purpose (``1000.0`` is not a ``goal``), where JSON Schema's ``integer`` admits it.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from socialads.activities import load_activities
from socialads.web import openapi
from tests.support.seeds import CAMPAIGN

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
METHODS = ("get", "put", "post", "delete", "patch")
DOCUMENT = openapi.document("http://x")
OPERATIONS = {
    f"{method.upper()} {path}": (
        item.get("parameters")
        or operation.get("parameters")
        or operation.get("requestBody")
        or operation.get("security") != []
    )
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method in METHODS
}
# Negative cases break what a request sends: an operation with no parameters, body or token
# has nothing to break.
CASES = [
    (label, mode)
    for label, has_input in sorted(OPERATIONS.items())
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if has_input or mode is GenerationMode.POSITIVE
]
EXAMPLES = 100  # per operation and generation mode


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_every_served_operation_is_fuzzed(api_schema, app, client):
    served = client.get("/api/v1/openapi.json").get_json()
    assert served == openapi.document(app.config["PUBLIC_URL"])
    assert served["paths"] == DOCUMENT["paths"]
    # schemathesis leaves out the document's own route when it lists operations; the fuzz
    # below asks for it by name.
    listed = {result.ok().label for result in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS) - {"GET /api/v1/openapi.json"}
    assert all(api_schema.find_operation_by_label(label) for label in OPERATIONS)


@pytest.mark.parametrize(
    ("label", "mode"), CASES, ids=[f"{label}-{mode.value}" for label, mode in CASES]
)
def test_no_operation_answers_a_server_error(api_schema, brand, make_campaign, label, mode):
    """Each generated request is sent as it is or, when ``real`` is drawn, pointed at things
    that exist: one of the brand's own campaigns in the path, an installed activity and default
    settings in the body, no unknown people. So generated bodies reach the campaign rules (and
    create, change and delete real campaigns), not only the 404 or 422 of a made-up id."""
    operation = api_schema.find_operation_by_label(label)
    auth = {"Authorization": f"Bearer {brand['api_token']}"}

    @given(
        case=operation.as_strategy(mode),
        real=st.sampled_from([True, False]),
        activity=st.sampled_from(sorted(load_activities())),
    )
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case, real, activity):
        if real:
            if "cid" in (case.path_parameters or {}):
                case.path_parameters["cid"] = make_campaign()["id"]
            if isinstance(case.body, dict):
                if "activity" in case.body:
                    case.body["activity"] = activity
                if "settings" in case.body:
                    case.body["settings"] = {}
                case.body.pop("people", None)
        case.call_and_validate(headers=auth, checks=CHECKS)

    fuzz()


# -- what the fuzz found, pinned down -------------------------------------------------------


@pytest.fixture
def post(client, brand):
    def send(body, method="post", path="/api/v1/campaigns"):
        answer = client.open(
            path,
            method=method,
            json=body,
            headers={"Authorization": f"Bearer {brand['api_token']}"},
        )
        return answer.status_code, answer.get_json()

    return send


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_outside_the_calendar_in_utc_is_refused_not_a_crash(post, make_campaign, moment):
    """Converting to UTC overflowed (OverflowError, a 500) for times at the calendar's ends."""
    for method, path in (
        ("post", "/api/v1/campaigns"),
        ("patch", f"/api/v1/campaigns/{make_campaign()['id']}"),
    ):
        status, answer = post({**CAMPAIGN, "starts_at": moment}, method, path)
        assert status == 422, answer
        assert answer["error"]["details"][0]["field"] == "starts_at"


def test_early_years_are_stored_as_rfc3339_and_compare_right(post):
    """strftime's %Y wrote year 852 as "852", which is not RFC 3339 and sorts after "2025"
    as text, so a schedule from 852 to 2025 was refused as ending before it started."""
    status, answer = post(
        {**CAMPAIGN, "starts_at": "0852-03-30T23:13:52Z", "ends_at": "2025-06-01T09:00:00+02:00"}
    )
    assert status == 201, answer
    assert (answer["starts_at"], answer["ends_at"]) == (
        "0852-03-30T23:13:52Z",
        "2025-06-01T07:00:00Z",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "\x01"}, "name"),
        ({"cause": {"title": " \t "}}, "cause.title"),
    ],
)
def test_a_name_of_only_spaces_is_refused(post, make_campaign, body, field):
    """Lengths were checked before cleaning, so " " became a campaign called ""."""
    for method, path in (
        ("post", "/api/v1/campaigns"),
        ("patch", f"/api/v1/campaigns/{make_campaign()['id']}"),
    ):
        status, answer = post({**CAMPAIGN, **body}, method, path)
        assert status == 422, answer
        assert answer["error"]["details"][0]["field"] == field
