"""``--profile``: py-spy samples a server process while a figure runs (``make bench`` installs
py-spy with the ``bench`` extra). The collapsed stacks go to ``<dir>/<name>.txt`` (open them
in speedscope, or feed them to flamegraph.pl); the bench's JSON gets the functions that
took the most samples, by themselves ("self") and with what they called ("total")."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from common import ROOT, log

SHORTEN = re.compile(r"^.*/(site-packages|lib/python3\.\d+)/")


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.is_file() else shutil.which("py-spy")


class Profiler:
    def __init__(self, directory: Path, rate: int = 100):
        self.directory = Path(directory)
        self.rate = rate
        self.process: subprocess.Popen | None = None
        self.output: Path | None = None
        self.seconds = 0.0

    def start(self, name: str, pid: int, seconds: float) -> None:
        binary = py_spy()
        if binary is None:
            log("profile: py-spy is not installed (pip install py-spy); not profiling")
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self.output = self.directory / f"{name}.txt"
        self.seconds = seconds
        # --nonblocking: never pause the server to read its stacks (a little less exact,
        # much less in the way of what is being measured).
        self.process = subprocess.Popen(  # noqa: S603
            [
                binary,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, int(seconds))),
                "--rate",
                str(self.rate),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(self.output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def finish(self, top: int = 15) -> dict | None:
        if self.process is None:
            return None
        try:
            _, err = self.process.communicate(timeout=self.seconds + 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        self.process = None
        if not self.output or not self.output.is_file():
            return {"error": (err or b"").decode(errors="replace")[-500:]}
        return summarise(self.output, top)


def summarise(path: Path, top: int = 15) -> dict:
    """What py-spy's raw (collapsed) stacks say, in percent of the samples: the functions
    that ran themselves the most ("self"), the same by package, and how much each of our
    own functions (socialads/, widgets/) took with everything it called ("ours_total")."""
    own, packages, ours_total, samples = Counter(), Counter(), Counter(), 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [_frame(frame) for frame in stack.split(";")]
        name, where = frames[-1]
        own[f"{name} ({where})"] += n
        packages[where.split("/", 1)[0] if "/" in where else f"stdlib {where}"] += n
        for name, where in set(frames):
            if where.startswith(("socialads/", "widgets/")):
                ours_total[f"{name} ({where})"] += n
    if not samples:
        return {"samples": 0, "file": str(path)}

    def share(counter: Counter) -> list[list]:
        return [[name, round(100 * n / samples, 1)] for name, n in counter.most_common(top)]

    return {
        "file": str(path),
        "samples": samples,
        "self_percent": share(own),
        "self_percent_by_package": share(packages),
        "ours_total_percent": share(ours_total),
    }


def _frame(frame: str) -> tuple[str, str]:
    """``func (/long/site-packages/pkg/mod.py:12)`` -> ``("func", "pkg/mod.py")``."""
    name, _, where = frame.partition(" (")
    where = SHORTEN.sub("", where.rstrip(")")).removeprefix(f"{ROOT}/")
    return name, where.rsplit(":", 1)[0]
