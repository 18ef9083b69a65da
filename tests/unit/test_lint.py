"""The code stays lint-clean, security rules (ruff `S`, flake8-bandit) included: `make test` and
CI enforce what `make lint` checks."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


BIN = Path(sys.executable).parent


def _passes(*command: str) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_check_passes():
    _passes(sys.executable, "-m", "ruff", "check", "--no-cache", ".")


def test_ruff_format_leaves_the_code_as_it_is():
    _passes(sys.executable, "-m", "ruff", "format", "--check", "--no-cache", ".")


def test_mypy_passes():
    """The whole package type-checks; `socialads.store` and `socialads.protocol` strictly
    (pyproject.toml's overrides)."""
    _passes(sys.executable, "-m", "mypy", "--cache-dir", "/dev/null")


def test_the_layers_import_only_downwards():
    """import-linter's contracts (pyproject.toml): runtime -> admin -> web -> realtime ->
    domain -> store -> protocol, activities, config; widgets see only the widget contract."""
    _passes(str(BIN / "lint-imports"), "--no-cache")


def test_security_rules_are_selected():
    """Nobody can quietly turn the bandit rules off for the product's code: exemptions by file
    are for tests and tools; a deliberate exception in the product is a noqa comment naming the
    one rule, with its reason, on its line."""
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    for pattern, codes in lint.get("per-file-ignores", {}).items():
        if any(code.startswith("S") for code in codes):
            for product in ("socialads/web/api.py", "socialads/admin/auth.py", "widgets/poll/x.py"):
                assert not fnmatch(product, pattern), (pattern, codes)
