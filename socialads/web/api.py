"""The JSON API for brands' own tools (CONTRACT §3): campaigns, their stats, activities.

A bearer token belongs to one brand; another brand's campaign answers 404, exactly like a
campaign that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from socialads.activities import load_activities
from socialads.domain import campaigns as campaign_rules
from socialads.domain.errors import Problem
from socialads.protocol import ErrorCode
from socialads.store import Campaign
from socialads.web import openapi

API_PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=API_PREFIX)


def error_response(code: ErrorCode | str, message: str, status: int):
    return Problem(code, message, status).response()


def _store():
    return current_app.extensions["socialads.store"]


@bp.before_request
def authenticate():
    if request.endpoint in ("api.activities", "api.openapi_document"):
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    brand_id = _store().brand_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if not brand_id:
        raise Problem(ErrorCode.UNAUTHORIZED, "Send `Authorization: Bearer API_TOKEN`.", 401)
    g.brand_id = brand_id


def _body():
    if request.mimetype != "application/json":
        raise Problem(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            "Send a JSON body (Content-Type: application/json).",
            415,
        )
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if (
        request.content_length is None
        and limit is not None
        and len(request.get_data()) >= limit
        and request.environ["wsgi.input"].read(1)
    ):
        # A body without Content-Length (chunked) is cut at the limit by werkzeug, not
        # refused: the byte after the limit tells that there was more.
        raise RequestEntityTooLarge()
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        data = None
    if data is None:
        raise Problem(ErrorCode.BAD_REQUEST, "The body is not valid JSON.", 400)
    if not isinstance(data, dict):
        raise Problem(ErrorCode.INVALID, "The body must be a JSON object.", 422)
    return data


def _own_campaign(cid: str) -> Campaign:
    campaign = _store().get_campaign(cid) if len(cid) <= 64 else None
    if campaign is None or campaign.brand_id != g.brand_id:
        raise Problem(ErrorCode.NOT_FOUND, "There is no such campaign.", 404)
    return campaign


def _public(campaign: Campaign) -> dict:
    return campaign_rules.public(campaign, current_app.config["PUBLIC_URL"])


@bp.post("/campaigns")
def create_campaign():
    campaign = campaign_rules.create(_store(), g.brand_id, _body())
    return jsonify(_public(campaign)), 201


@bp.get("/campaigns")
def list_campaigns():
    return jsonify(campaigns=[_public(c) for c in _store().brand_campaigns(g.brand_id)])


@bp.get("/campaigns/<cid>")
def get_campaign(cid: str):
    return jsonify(_public(_own_campaign(cid)))


@bp.patch("/campaigns/<cid>")
def update_campaign(cid: str):
    campaign = _own_campaign(cid)
    return jsonify(_public(campaign_rules.update(_store(), campaign, _body())))


@bp.delete("/campaigns/<cid>")
def delete_campaign(cid: str):
    _store().delete_campaign(_own_campaign(cid))
    return "", 204


@bp.get("/campaigns/<cid>/stats")
def campaign_stats(cid: str):
    campaign = _own_campaign(cid)
    return jsonify({"campaign": cid, "goal": campaign.goal, **_store().stats(cid)})


@bp.get("/activities")
def activities():
    return jsonify(activities=[a.describe() for a in load_activities().values()])


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.for_app(current_app))


@bp.errorhandler(Problem)
def problem(exc: Problem):
    return exc.response()


@bp.errorhandler(RedisError)
def redis_down(_exc):
    return error_response(ErrorCode.UNAVAILABLE, "The service is briefly unavailable; retry.", 503)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc):
    return error_response(ErrorCode.TOO_LARGE, "The body is over 1 MiB.", 413)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(code, exc.description or exc.name, exc.code or 500)


@bp.app_errorhandler(405)
def method_not_allowed(exc: HTTPException):
    if request.path.startswith(API_PREFIX):
        return error_response(ErrorCode.METHOD_NOT_ALLOWED, "This method is not allowed here.", 405)
    return exc
