"""A third-party activity (examples/third_party_widget) plugs in through its entry point alone.

The example package is installed the way pip installs any plugin, but into a directory of this
test (``pip install --target``) that only the processes started here see (``PYTHONPATH``): other
test runs sharing the venv at the same moment never meet it, and nothing is left to uninstall.
Entry points are read when a process starts, so everything is checked in fresh processes: the
CLI, a fresh interpreter, the front-end build (in a copy of the build files, so the real
``static/dist`` is never wiped under other tests), and a real ``socialads serve``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from socialads.activities import load_activities
from socialads.runtime.processes import ServeProcess
from tests.support.seeds import SECRET
from tests.support.viewers import Viewer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "third_party_widget"


def run(*args: str, env: dict, cwd: Path = ROOT, timeout: float = 120):
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    """The environment of a process that has the example package installed."""
    work = tmp_path_factory.mktemp("third_party")
    source = work / "source"  # build from a copy: setuptools writes build/ and egg-info there
    shutil.copytree(
        EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    target = work / "site"
    run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "-q",
        "--disable-pip-version-check",
        "--target",
        str(target),
        str(source),
        env=dict(os.environ),
        timeout=300,
    )
    pythonpath = os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": pythonpath, "PYTHON": sys.executable}, target


def test_the_core_never_names_the_example():
    assert "cheer" not in load_activities()  # not installed in this process
    named = re.compile(r"\bcheer\b|socialads[_-]cheer", re.IGNORECASE)
    core = [
        *(ROOT / "socialads").rglob("*"),
        *(ROOT / "static").glob("*.mjs"),
        *(ROOT / "static" / "src").rglob("*"),
        ROOT / "pyproject.toml",
        ROOT / "Makefile",
    ]
    for path in core:
        if path.is_file() and path.suffix in ("", ".py", ".html", ".js", ".css", ".mjs", ".toml"):
            assert not named.search(path.read_text(errors="replace")), path


def test_discovery_sees_the_installed_package(plugin_env):
    env, target = plugin_env
    listed = json.loads(run(sys.executable, "-m", "socialads", "widgets", "--json", env=env).stdout)
    folders = {widget["name"]: widget["folder"] for widget in listed}
    assert "pledge" in folders
    cheer = Path(folders["cheer"])
    assert cheer.parent == target and cheer.name == "socialads_cheer"
    for name in ("template.html", "widget.js", "widget.css"):  # package data was shipped
        assert (cheer / name).is_file(), name

    fresh = run(
        sys.executable,
        "-c",
        (
            "from importlib.metadata import entry_points\n"
            "print({e.name: e.value for e in entry_points(group='socialads.widgets')}['cheer'])"
        ),
        env=env,
    )
    assert fresh.stdout.strip() == "socialads_cheer:widget"

    # The build's own discovery module, run by node, asks the same question.
    script = (
        "import('./static/widgets.mjs').then(({installedWidgets, widgetEntries}) => {"
        " const w = installedWidgets(process.cwd());"
        " console.log(JSON.stringify({w, css: widgetEntries(w, 'widget.css')})); })"
    )
    found = json.loads(run("node", "-e", script, env=env).stdout)
    assert found["w"] == sorted(listed, key=lambda widget: widget["name"])
    assert {"in": str(cheer / "widget.css"), "out": "cheer"} in found["css"]


@pytest.fixture(scope="module")
def built(plugin_env, tmp_path_factory):
    """``static/dist`` of a build that found the example: the build files run from a copy."""
    env, _ = plugin_env
    copy = tmp_path_factory.mktemp("build")
    shutil.copytree(ROOT / "static" / "src", copy / "static" / "src")
    for name in ("build.mjs", "widgets.mjs"):
        shutil.copy(ROOT / "static" / name, copy / "static" / name)
    shutil.copy(ROOT / "package.json", copy / "package.json")
    (copy / "node_modules").symlink_to(ROOT / "node_modules")
    run("node", "static/build.mjs", env=env, cwd=copy)
    return copy / "static" / "dist"


def test_the_build_bundles_every_installed_activity(built):
    manifest = json.loads((built / "manifest.json").read_text())
    for name in ("cheer", "pledge"):
        for ext in (".js", ".css"):
            assert (built / manifest[f"widgets/{name}{ext}"]).is_file()
    css = (built / manifest["widgets/cheer.css"]).read_text()
    assert ".cheer-action" in css and "--muted:" in css  # its own style and the shared base
    assert "socket.io" in (built / manifest["widgets/cheer.js"]).read_text().lower()


@pytest.fixture(scope="module")
def cheer_server(plugin_env, built, redis_server, tmp_path_factory):
    """A `serve` process started after the install, serving the build that has the example."""
    env, target = plugin_env
    server = ServeProcess(
        redis_server.url,
        tmp_path_factory.mktemp("cheer_logs"),
        SECRET,
        PYTHONPATH=env["PYTHONPATH"],
        SOCIALADS_STATIC_DIR=str(built),
    )
    server.start()
    yield server
    alive = server.alive()
    server.stop()
    assert alive, server.log_text()[-3000:]
    assert "Traceback" not in server.log_text(), server.log_text()[-3000:]


def create_cheer(api, url: str) -> str:
    answer = api.post(
        url + "/api/v1/campaigns",
        json={
            "name": "Cheer the river",
            "activity": "cheer",
            "cause": {
                "title": "Cheer the river clean-up",
                "description": "Cheer the volunteers on.",
            },
            "goal": 100,
            "settings": {"emoji_label": "Go team!"},
            "status": "live",
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


@pytest.fixture
def api(cheer_server, brand):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {brand['api_token']}"
    return session


def test_a_cheer_campaign_runs_end_to_end(cheer_server, api):
    activities = api.get(cheer_server.url + "/api/v1/activities").json()["activities"]
    cheer = next(activity for activity in activities if activity["name"] == "cheer")
    assert "emoji_label" in cheer["settings"]["properties"]

    campaign = create_cheer(api, cheer_server.url)
    bad = api.post(
        cheer_server.url + "/api/v1/campaigns",
        json={
            "name": "Bad",
            "activity": "cheer",
            "cause": {"title": "x", "description": "x"},
            "goal": 1,
            "settings": {"emoji_label": ""},
        },
    )
    assert bad.status_code in (400, 422)

    page = requests.get(f"{cheer_server.url}/w/{campaign}", timeout=10)
    assert page.status_code == 200
    for hook in (
        "data-socialad-action",
        "data-socialad-total",
        "data-socialad-session-total",
        "data-socialad-presence",
        "data-socialad-invite",
        "data-socialad-chat-input",
        "data-socialad-chat-log",
        "data-socialad-status",
    ):
        assert hook in page.text, hook
    assert "Go team!" in page.text and 'class="cheer-total"' in page.text

    viewer = Viewer(cheer_server.url)
    try:
        joined = viewer.join(campaign)
        assert joined["ok"] and joined["total"] == 0
        acted = viewer.act(kind="cheer")
        assert acted["ok"] and acted["total"] == 1 and acted["session_total"] == 1
        refused = viewer.act(kind="boo")
        assert not refused["ok"] and refused["error"]["code"] == "invalid"
        assert viewer.act()["total"] == 2  # no kind is a cheer too
    finally:
        viewer.close()


def test_a_viewer_cheers_in_a_real_browser(cheer_server, api, chromium):
    """The bundle built from the package's widget.js drives the unit like a built-in one."""
    from playwright.sync_api import expect

    campaign = create_cheer(api, cheer_server.url)
    context = chromium.new_context()
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{cheer_server.url}/w/{campaign}")
        button = page.locator("[data-socialad-action]")
        try:
            expect(button).to_be_enabled(timeout=15000)  # the live bundle joined
        except AssertionError as failure:
            raise AssertionError(f"the unit never went live; page errors: {errors}") from failure
        expect(button).to_have_text("Go team!")
        button.click()
        expect(page.locator("[data-socialad-total]")).to_have_text("1", timeout=10000)
        expect(page.locator("[data-socialad-session-total]")).to_have_text("1", timeout=10000)
        expect(page.locator("[data-socialad-note]")).to_have_text("Cheer sent. Thank you!")
        assert not errors
    finally:
        context.close()
