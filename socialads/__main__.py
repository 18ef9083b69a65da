"""The ``socialads`` command. Serving commands run under gevent, which must patch the
standard library before anything else imports it."""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("serve", "demo"):
        from gevent import monkey

        monkey.patch_all()
    from socialads.runtime.cli import cli

    cli(prog_name="socialads")


if __name__ == "__main__":
    main()
