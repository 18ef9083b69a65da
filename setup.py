"""Package discovery, the one thing pyproject.toml cannot say: the built-in widgets live in
``widgets/`` but ship as ``socialads_widgets`` (see ``[tool.setuptools.package-dir]``), and
setuptools' ``packages.find`` cannot rename. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["socialads", "socialads.*"]),
        "socialads_widgets",
        *("socialads_widgets." + name for name in find_packages("widgets")),
    ]
)
