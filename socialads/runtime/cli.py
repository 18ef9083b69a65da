"""The ``socialads`` command line (CONTRACT §1)."""

from __future__ import annotations

import json
import os

import click

from socialads import create_app
from socialads.activities import load_activities
from socialads.domain.accounts import EmailTaken, create_user, make_brand
from socialads.runtime.demo import run_demo
from socialads.runtime.server import run


def _app(**config):
    return create_app(config)


def _store():
    return _app().extensions["socialads.store"]


def _echo_json(data: dict) -> None:
    click.echo(json.dumps(data))


@click.group(help="socialads: ads as small live rooms where people act together for a cause.")
def cli():
    pass


@cli.command(help="Run one server process (gevent, WebSockets, Redis message queue).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int):
    if not os.environ.get("SOCIALADS_SECRET_KEY"):
        raise click.ClickException("SOCIALADS_SECRET_KEY is not set")
    run(_app(ASYNC_MODE="gevent"), host, port)


@cli.command(
    help="Everything for a first look: Redis, a demo brand and campaign, a publisher page."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65534))
def demo(host: str, port: int):
    run_demo(host, port)


@cli.group(help="Brands: the companies that run campaigns.")
def brand():
    pass


@brand.command("create", help="Create a brand and its first admin user; prints JSON.")
@click.argument("name")
@click.option("--email", required=True)
@click.option("--password", required=True)
def brand_create(name: str, email: str, password: str):
    if not name.strip() or len(name) > 120:
        raise click.BadParameter("a name of 1 to 120 characters", param_hint="NAME")
    if "@" not in email or len(email) > 254:
        raise click.BadParameter("an email address", param_hint="--email")
    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--password")
    try:
        _echo_json(make_brand(_store(), name.strip(), email, password))
    except EmailTaken as taken:
        raise click.ClickException(str(taken)) from None


@cli.group(help="API tokens of brands.")
def token():
    pass


@token.command("create", help="Print a new API token for a brand (JSON).")
@click.option("--brand", "brand_id", required=True)
def token_create(brand_id: str):
    store = _store()
    if len(brand_id) > 64 or store.get_brand(brand_id) is None:
        raise click.ClickException(f"no brand with id {brand_id!r}")
    _echo_json({"brand_id": brand_id, "api_token": store.create_api_token(brand_id)})


@cli.group(help="Admin users.")
def user():
    pass


@user.command(
    "create",
    help="Create an admin user: a brand's owner or member, or a superuser "
    "who manages brands; prints JSON.",
)
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--brand", "brand_id", default="", help="The brand (not for superusers).")
@click.option(
    "--role",
    type=click.Choice(["owner", "member", "superuser"]),
    default="member",
    show_default=True,
)
def user_create(email: str, password: str, brand_id: str, role: str):
    store = _store()
    if "@" not in email or len(email) > 254:
        raise click.BadParameter("an email address", param_hint="--email")
    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--password")
    if role == "superuser":
        brand_id = ""
    elif not brand_id or store.get_brand(brand_id) is None:
        raise click.BadParameter("an existing brand id", param_hint="--brand")
    try:
        create_user(store, email, brand_id, password, role)
    except EmailTaken as taken:
        raise click.ClickException(str(taken)) from None
    _echo_json({"email": email.lower(), "role": role, "brand_id": brand_id or None})


@cli.command(
    help="List the installed activities (widgets) and the folders their files live in; "
    "the front-end build bundles each folder's widget.js and widget.css."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {name, folder}.")
def widgets(as_json: bool):
    found = [
        {"name": name, "folder": str(activity.folder)}
        for name, activity in load_activities().items()
    ]
    if as_json:
        click.echo(json.dumps(found))
    else:
        for widget in found:
            click.echo(f"{widget['name']}\t{widget['folder']}")
